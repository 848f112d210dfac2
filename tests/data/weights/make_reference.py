#!/usr/bin/env python3
"""Writes tests/data/weights/reference.safetensors with the official safetensors library (torch backend).

The weights tests read it back to check bertcpp's reader against an independent writer. Values follow
formulas the C++ test recomputes, all exactly representable in F32, F16 and BF16:

  ramp_f32 / ramp_f16 / ramp_bf16   shape [3, 5], element i = (i - 7) * 0.25
  f16_special                       F16 [6]: 65504, 2**-24 (smallest subnormal), -0.0, inf, -inf, 1/3 rounded
  bf16_special                      BF16 [4]: 2**100, -2**-100, 3.0e38 rounded, 1/3 rounded
  ramp_i8                           I8 [4]: -2 -1 0 1 (a dtype load_f32 must refuse)
  ramp_f8                           F8_E4M3 [2] (a dtype bertcpp does not know: DType::OTHER)
  empty_f32                         F32 [0, 4]
  scalar_f32                        F32 [] = 2.5
with "__metadata__" {"format": "pt", "origin": "make_reference.py"}.

    python3 tests/data/weights/make_reference.py
"""
from pathlib import Path

import torch
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parent / "reference.safetensors"


def main() -> None:
    ramp = (torch.arange(15, dtype=torch.float32) - 7) * 0.25
    tensors = {
        "ramp_f32": ramp.reshape(3, 5),
        "ramp_f16": ramp.reshape(3, 5).to(torch.float16),
        "ramp_bf16": ramp.reshape(3, 5).to(torch.bfloat16),
        "f16_special": torch.tensor([65504.0, 2.0**-24, -0.0, float("inf"), float("-inf"), 1.0 / 3.0],
                                    dtype=torch.float16),
        "bf16_special": torch.tensor([2.0**100, -(2.0**-100), 3.0e38, 1.0 / 3.0], dtype=torch.bfloat16),
        "ramp_i8": torch.tensor([-2, -1, 0, 1], dtype=torch.int8),
        "ramp_f8": torch.tensor([1.0, -0.5]).to(torch.float8_e4m3fn),
        "empty_f32": torch.zeros(0, 4),
        "scalar_f32": torch.tensor(2.5),
    }
    save_file(tensors, str(OUT), metadata={"format": "pt", "origin": "make_reference.py"})
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
