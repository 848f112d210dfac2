#!/usr/bin/env python3
"""HF tokenizers throughput on the same input and settings as bench/tokenizer_bench.cpp, one thread, and the
ratio bertcpp / HF.

Input: tests/data/tokenizer/corpus.jsonl, line by line and as one text joined by '\\n'. Tokenizers: the
committed tests/data/tokenizer/tokenizer.json (uncased) and the same with lowercase=False (cased, as
Tokenizer::from_vocab with do_lower_case=false), truncation and padding off. Offsets are computed by both.

HF is measured two ways for the lines: encode() per line (what a Python caller looping over texts pays,
including the Python call) and encode_batch() over all lines (one Rust call, still one thread). The ratio
uses the faster of the two. Each figure is the best of --repeats runs of at least --min-time seconds of
process CPU time: Google Benchmark reports rates per CPU second too, which keeps the two comparable when other
jobs share the cores (wall-clock time would charge them to whichever side they happened to interrupt).

    python3 bench/hf_tokenizer_bench.py build/bench/tokenizer_bench [--repeats 5]
"""
from __future__ import annotations

import os

os.environ["RAYON_NUM_THREADS"] = "1"          # before tokenizers is imported
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse
import copy
import json
import pathlib
import subprocess
import sys
import time

import tokenizers
from tokenizers import Tokenizer, normalizers

DATA = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "tokenizer"


def load_tokenizer(lowercase: bool) -> Tokenizer:
    tok = Tokenizer.from_file(str(DATA / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    if not lowercase:
        tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                    strip_accents=None, lowercase=False)
    return tok


def best_seconds(fn, repeats: int, min_time: float) -> tuple[float, int]:
    """Best CPU time of one call of fn over `repeats` runs of at least min_time CPU seconds; and fn's result."""
    result = fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        calls, start = 0, time.process_time()
        while True:
            fn()
            calls += 1
            elapsed = time.process_time() - start
            if elapsed >= min_time:
                break
        best = min(best, elapsed / calls)
    return best, result


def hf_figures(repeats: int, min_time: float) -> dict[str, dict]:
    lines = [json.loads(line)["text"] for line in (DATA / "corpus.jsonl").read_text(encoding="utf-8").split("\n")
             if line]
    text = "".join(line + "\n" for line in lines)
    line_bytes = sum(len(line.encode("utf-8")) for line in lines)
    figures = {}
    for lowercase in (True, False):
        tok = load_tokenizer(lowercase)
        case = "uncased:1" if lowercase else "uncased:0"
        seconds, tokens = best_seconds(lambda: sum(len(tok.encode(line).ids) for line in lines), repeats, min_time)
        figures[f"BM_EncodeLines/{case} hf encode() per line"] = dict(seconds=seconds, bytes=line_bytes,
                                                                       tokens=tokens, key=f"BM_EncodeLines/{case}")
        seconds, tokens = best_seconds(lambda: sum(len(e.ids) for e in tok.encode_batch(lines)), repeats, min_time)
        figures[f"BM_EncodeLines/{case} hf encode_batch()"] = dict(seconds=seconds, bytes=line_bytes,
                                                                    tokens=tokens, key=f"BM_EncodeLines/{case}")
        seconds, tokens = best_seconds(lambda: len(tok.encode(text).ids), repeats, min_time)
        figures[f"BM_EncodeLargeText/{case} hf encode()"] = dict(seconds=seconds, bytes=len(text.encode("utf-8")),
                                                                  tokens=tokens, key=f"BM_EncodeLargeText/{case}")
    return figures


def cpp_figures(binary: str, repeats: int, min_time: float) -> dict[str, dict]:
    out = subprocess.run([binary, "--benchmark_format=json", f"--benchmark_repetitions={repeats}",
                          f"--benchmark_min_time={min_time}", "--benchmark_report_aggregates_only=false"],
                         capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    figures: dict[str, dict] = {}
    for run in json.loads(out.stdout)["benchmarks"]:
        if run.get("run_type") != "iteration":
            continue
        name = run["run_name"]
        rate = run["bytes_per_second"]
        if name not in figures or rate > figures[name]["bytes_per_second"]:
            figures[name] = dict(bytes_per_second=rate, tokens_per_second=run["tokens/s"], tokens=int(run["tokens"]))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cpp_bench", help="path of the tokenizer_bench binary")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds per repetition")
    args = parser.parse_args()

    print(f"tokenizers {tokenizers.__version__}, RAYON_NUM_THREADS=1; bertcpp: {args.cpp_bench}")
    cpp = cpp_figures(args.cpp_bench, args.repeats, args.min_time)
    hf = hf_figures(args.repeats, args.min_time)

    print(f"{'benchmark':48s} {'MB/s':>8s} {'Mtok/s':>8s} {'tokens':>8s}")
    best_hf: dict[str, float] = {}
    for name, f in hf.items():
        mbps = f["bytes"] / f["seconds"] / 1e6
        print(f"{name:48s} {mbps:8.2f} {f['tokens'] / f['seconds'] / 1e6:8.3f} {f['tokens']:8d}")
        best_hf[f["key"]] = max(best_hf.get(f["key"], 0.0), mbps)
    mismatched_tokens = []
    for name, f in sorted(cpp.items()):
        print(f"{name + ' bertcpp':48s} {f['bytes_per_second'] / 1e6:8.2f} {f['tokens_per_second'] / 1e6:8.3f} "
              f"{f['tokens']:8d}")
        hf_tokens = {h["tokens"] for h in hf.values() if h["key"] == name}
        if hf_tokens and f["tokens"] not in hf_tokens:
            mismatched_tokens.append(f"{name}: bertcpp {f['tokens']} tokens, HF {sorted(hf_tokens)}")
    print("\nratio bertcpp / HF (best HF way, MB/s):")
    for key, hf_mbps in best_hf.items():
        if key in cpp:
            print(f"  {key:30s} {cpp[key]['bytes_per_second'] / 1e6 / hf_mbps:6.2f}x")
    for message in mismatched_tokens:
        print(f"warning: token counts differ, the tokenizers do not agree on this input: {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
