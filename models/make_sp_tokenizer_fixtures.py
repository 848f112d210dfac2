#!/usr/bin/env python3
"""Make the SentencePiece tokenizer parity fixtures: transformers' outputs for ALBERT and XLM-R on every line of
tests/data/tokenizer/corpus.jsonl.

Reference: transformers' AutoTokenizer on the tiny model directories tests/data/tokenizer/{albert,xlmr}/ (made by
models/make_variant_tokenizers.py). Each configuration is also run through the conversion path a hub checkpoint
without tokenizer.json takes (a temporary directory holding only the .model file and tokenizer_config.json, so
transformers converts the SentencePiece model itself); the script stops if the two disagree on any record. The
configurations with other tokenizer_config.json settings (ALBERT keep_accents / do_lower_case) only exist on the
conversion path.

Outputs tests/data/tokenizer/hf/{albert,xlmr}_<config>.jsonl.gz, gzip'd JSON lines. Line 1: the configuration
    {"config", "description", "tokenizer": {"dir": "albert", "model_file": "spiece.model",
     "tokenizer_config": {...overrides...}}, "encode": {...}, "inputs": "single" | "long" | "pairs" | "qa", ...}
then one record per input:
    {"a": i | [i, ...], "b": j | [j, ...], "windows": [{"ids": [...], "type_ids": [...], "offsets": [b0, e0, ...],
     "special_tokens_mask": [...], "tokens": [...] (configurations without truncation)}]}
or {"a": ..., "error": "<first line of the HF message>"} when transformers refuses the input. "a" / "b" are corpus
line indices (a list: those lines joined by one space); offsets are code-point ranges into the text the token
came from; "windows" is the encoding followed by its overflowing windows (return_overflowing_tokens=True).

    python3 models/make_sp_tokenizer_fixtures.py
"""
from __future__ import annotations

import gzip
import json
import os
import pathlib
import shutil
import sys
import tempfile

import tokenizers
import transformers
from transformers import AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "tokenizer"
MODEL_FILES = {"albert": "spiece.model", "xlmr": "sentencepiece.bpe.model"}


def encode_settings(truncation: str = "do_not_truncate", max_length: int = 0, stride: int = 0) -> dict:
    return {"truncation": truncation, "max_length": max_length, "stride": stride,
            "return_overflowing_tokens": truncation != "do_not_truncate"}


# config -> (description, tokenizer_config overrides or None for the directory as shipped, encode, inputs)
COMMON = {
    "single": ("every corpus line, no truncation", None, encode_settings(), "single"),
    "long": ("20 consecutive lines joined by a space, no truncation", None, encode_settings(), "long"),
    "pairs_do_not_truncate": ("pairs of consecutive lines, no truncation", None, encode_settings(), "pairs"),
    "pairs_longest_first": ("pairs, longest_first to 32 tokens, all windows (stride 0)", None,
                            encode_settings("longest_first", 32), "pairs"),
    "pairs_only_first": ("pairs, only_first to 32 tokens, all windows (stride 0)", None,
                         encode_settings("only_first", 32), "pairs"),
    "pairs_only_second": ("pairs, only_second to 32 tokens, all windows (stride 0)", None,
                          encode_settings("only_second", 32), "pairs"),
    "stride_single": ("single lines, longest_first to 24 tokens with stride 6", None,
                      encode_settings("longest_first", 24, 6), "single"),
    "stride_pairs": ("pairs, longest_first to 24 tokens with stride 6", None,
                     encode_settings("longest_first", 24, 6), "pairs"),
    "stride_qa": ("question (a line) + context (next 4 lines joined), only_second to 48 tokens with stride 12",
                  None, encode_settings("only_second", 48, 12), "qa"),
}
ALBERT_ONLY = {
    "keep_accents_cased": ("every line; tokenizer_config do_lower_case=false, keep_accents=true",
                           {"do_lower_case": False, "keep_accents": True}, encode_settings(), "single"),
    "cased": ("every line; tokenizer_config do_lower_case=false (accents stripped)",
              {"do_lower_case": False}, encode_settings(), "single"),
    "keep_accents": ("every line; tokenizer_config keep_accents=true (lowercased)",
                     {"keep_accents": True}, encode_settings(), "single"),
}


def inputs_for(kind: str, n: int):
    if kind == "single":
        return [(i, None) for i in range(n)]
    if kind == "long":
        return [(list(range(i, min(i + 20, n))), None) for i in range(0, n, 20)]
    if kind == "pairs":
        return [(i, i + 1) for i in range(0, n - 1, 2)]
    if kind == "qa":
        return [(i, [i + 1, i + 2, i + 3, i + 4]) for i in range(0, n - 4, 5)]
    raise ValueError(kind)


def text_of(corpus, ref):
    if ref is None:
        return None
    if isinstance(ref, int):
        return corpus[ref]
    return " ".join(corpus[i] for i in ref)


def converted_dir(tmp: pathlib.Path, variant: str, overrides: dict | None) -> pathlib.Path:
    """A directory with only the SentencePiece model and tokenizer_config.json (overrides applied)."""
    d = tmp / f"{variant}-{len(list(tmp.iterdir()))}"
    d.mkdir()
    shutil.copyfile(DATA / variant / MODEL_FILES[variant], d / MODEL_FILES[variant])
    config = json.loads((DATA / variant / "tokenizer_config.json").read_text(encoding="utf-8"))
    config.update(overrides or {})
    (d / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return d


def encode(tok, text: str, pair: str | None, settings: dict) -> dict:
    kwargs = {"return_offsets_mapping": True, "return_special_tokens_mask": True, "return_token_type_ids": True}
    if settings["truncation"] == "do_not_truncate":
        kwargs["truncation"] = False
    else:
        kwargs.update(truncation=settings["truncation"], max_length=settings["max_length"],
                      stride=settings["stride"], return_overflowing_tokens=True)
    try:
        out = tok(text, pair, **kwargs) if pair is not None else tok(text, **kwargs)
    except BaseException as error:  # tokenizers raises Exception, or PanicException (a BaseException)
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        return {"error": str(error).splitlines()[0]}
    windows = []
    for e in out.encodings:
        window = {"ids": e.ids, "type_ids": e.type_ids, "offsets": [x for p in e.offsets for x in p],
                  "special_tokens_mask": e.special_tokens_mask}
        if settings["truncation"] == "do_not_truncate":
            window["tokens"] = e.tokens  # token strings only where they are not repeated window after window
        windows.append(window)
    return {"windows": windows}


def main() -> int:
    transformers.logging.set_verbosity_error()
    os.environ["RUST_BACKTRACE"] = "0"  # HF panics on some truncation inputs; keep its messages short
    corpus = [json.loads(line)["text"] for line in (DATA / "corpus.jsonl").read_text(encoding="utf-8").split("\n")
              if line]
    (DATA / "hf").mkdir(exist_ok=True)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = pathlib.Path(tmp_name)
        for variant in ("xlmr", "albert"):
            configs = dict(COMMON)
            if variant == "albert":
                configs.update(ALBERT_ONLY)
            shipped = AutoTokenizer.from_pretrained(str(DATA / variant))
            for name, (description, overrides, settings, kind) in configs.items():
                converted = AutoTokenizer.from_pretrained(str(converted_dir(tmp, variant, overrides)))
                reference = shipped if overrides is None else converted
                header = {"config": f"{variant}_{name}", "description": description,
                          "tokenizer": {"dir": variant, "model_file": MODEL_FILES[variant],
                                        "tokenizer_config": overrides or {}},
                          "encode": settings, "inputs": kind, "corpus": "corpus.jsonl", "corpus_lines": len(corpus),
                          "made_by": f"transformers {transformers.__version__} AutoTokenizer "
                                     f"({type(reference).__name__}), tokenizers {tokenizers.__version__}"}
                records, n_windows, n_tokens, n_errors = [], 0, 0, 0
                for a, b in inputs_for(kind, len(corpus)):
                    text, pair = text_of(corpus, a), text_of(corpus, b)
                    result = encode(reference, text, pair, settings)
                    if reference is shipped:
                        check = encode(converted, text, pair, settings)
                        if check != result:
                            failures += 1
                            print(f"{variant}_{name}: tokenizer.json and the converted .model disagree on a={a} "
                                  f"b={b}:\n  {json.dumps(result)[:300]}\n  {json.dumps(check)[:300]}",
                                  file=sys.stderr)
                    record = {"a": a}
                    if b is not None:
                        record["b"] = b
                    record.update(result)
                    records.append(record)
                    n_errors += "error" in result
                    for window in result.get("windows", []):
                        n_windows += 1
                        n_tokens += len(window["ids"])
                lines = [json.dumps(header, ensure_ascii=False)]
                lines += [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records]
                path = DATA / "hf" / f"{variant}_{name}.jsonl.gz"
                with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
                    f.write(("\n".join(lines) + "\n").encode("utf-8"))
                print(f"{variant}_{name:22s} {len(records):5d} inputs {n_windows:6d} windows {n_tokens:7d} tokens "
                      f"{n_errors:4d} errors  {path.stat().st_size / 1e3:7.1f} kB")
    if failures:
        print(f"{failures} records differ between tokenizer.json and the converted model", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
