#!/usr/bin/env python3
"""Make the tokenizer parity fixtures: Hugging Face outputs for every line of tests/data/tokenizer/corpus.jsonl.

Reference: the Rust `tokenizers` library through its Python binding, loading the default model's tokenizer.json
and swapping its BertNormalizer per configuration. Every record is cross-checked against transformers'
BertTokenizer (built from vocab.txt with the same do_lower_case / strip_accents / tokenize_chinese_chars,
or loaded from the model directory for the tokenizer.json configuration); the script stops on any
disagreement, so the fixtures are what transformers users get.

The roberta_* configurations do the same for the byte-level BPE tokenizer in tests/data/tokenizer/roberta/
(made by models/make_variant_tokenizers.py): its tokenizer.json as shipped, a directory whose
tokenizer_config.json turns add_prefix_space on (transformers applies it to the tokenizer.json), and the
vocab.json + merges.txt path (transformers' RobertaTokenizer from a directory holding only those two files).
Their windows also carry "tokens", "special_tokens_mask" and "word_ids" (null for special tokens).
The mpnet_* configurations load tests/data/tokenizer/mpnet/ (WordPiece under RobertaProcessing, as transformers'
MPNetTokenizer saves it) as a directory, with the same details in their windows.

Outputs under tests/data/tokenizer/:
  vocab.txt, tokenizer.json          copies of the files the fixtures were made from
  hf/<config>.jsonl.gz               gzip'd JSON lines (gzip keeps the directory small). Line 1: the configuration (tokenizer settings, encode options);
                                     then one record per encoded input:
    {"a": i | [i, ...], "b": j | [j, ...], "windows": [{"ids": [...], "type_ids": [...], "offsets": [b0, e0, b1, e1, ...]}]}
  "a" / "b" are corpus line indices (0-based) of the text and the optional pair text; a list means those
  lines joined by one space. "windows" is the encoding followed by its overflowing windows, as transformers
  returns them with return_overflowing_tokens=True ([encoding] + encoding.overflowing). Offsets are code-point
  ranges into the text the token came from (a for type 0, b for type 1), (0, 0) for special tokens.
  Inputs that HF refuses (truncation cannot meet max_length) have "error": "<HF message>" instead of windows.

    python3 models/make_tokenizer_fixtures.py [--model-dir models/cache/all-MiniLM-L6-v2] [--only PREFIX]
"""
from __future__ import annotations

import argparse
import copy
import gzip
import json
import pathlib
import shutil
import sys
import tempfile

import tokenizers
import transformers
from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "tokenizer"

UNCASED_JSON = {"file": "tokenizer.json"}
ROBERTA_JSON = {"bpe_json": "roberta/tokenizer.json"}
# A directory with roberta/tokenizer.json and this tokenizer_config.json (the C++ test writes it to a temp dir).
ROBERTA_PREFIX_DIR = {"bpe_dir": "roberta/tokenizer.json", "tokenizer_config": {"add_prefix_space": True}}


# The MPNet directory as a checkpoint ships it (tokenizer.json: BertNormalizer, BertPreTokenizer, WordPiece,
# RobertaProcessing; tokenizer_config.json; vocab.txt), loaded as a directory (no tokenizer_config overrides: the
# same settings shape as make_sp_tokenizer_fixtures.py's directories).
MPNET_DIR = {"dir": "mpnet", "tokenizer_config": {}}


def roberta_files(add_prefix_space: bool) -> dict:
    return {"bpe_files": "roberta", "add_prefix_space": add_prefix_space}


def vocab_settings(do_lower_case: bool, strip_accents: bool | None, tokenize_chinese_chars: bool) -> dict:
    return {"vocab": "vocab.txt", "do_lower_case": do_lower_case, "strip_accents": strip_accents,
            "tokenize_chinese_chars": tokenize_chinese_chars}


def encode_settings(truncation: str = "do_not_truncate", max_length: int = 0, stride: int = 0) -> dict:
    return {"truncation": truncation, "max_length": max_length, "stride": stride,
            "return_overflowing_tokens": truncation != "do_not_truncate"}


# name -> (description, tokenizer settings, encode settings, inputs)
#   inputs: "single" (every line), "long" (20 consecutive lines joined), "pairs" (lines 2k, 2k+1),
#           "qa" (a line, then the next 4 lines joined)
CONFIGS = {
    "uncased": ("tokenizer.json of all-MiniLM-L6-v2 as shipped (BERT uncased)",
                UNCASED_JSON, encode_settings(), "single"),
    "long_uncased": ("tokenizer.json, 20 consecutive lines joined by a space; tokenizer.json's own truncation "
                     "(128) and padding are not applied, as in transformers",
                     UNCASED_JSON, encode_settings(), "long"),
    "cased": ("vocab.txt, do_lower_case=false (strip_accents follows: off)",
              vocab_settings(False, None, True), encode_settings(), "single"),
    "no_chinese_chars": ("vocab.txt, do_lower_case=true, tokenize_chinese_chars=false",
                         vocab_settings(True, None, False), encode_settings(), "single"),
    "strip_accents_cased": ("vocab.txt, do_lower_case=false, strip_accents=true",
                            vocab_settings(False, True, True), encode_settings(), "single"),
    "pairs_do_not_truncate": ("tokenizer.json, pairs of consecutive lines, no truncation",
                              UNCASED_JSON, encode_settings(), "pairs"),
    "pairs_longest_first": ("tokenizer.json, pairs, longest_first to 32 tokens, all windows (stride 0)",
                            UNCASED_JSON, encode_settings("longest_first", 32), "pairs"),
    "pairs_only_first": ("tokenizer.json, pairs, only_first to 32 tokens, all windows (stride 0)",
                         UNCASED_JSON, encode_settings("only_first", 32), "pairs"),
    "pairs_only_second": ("tokenizer.json, pairs, only_second to 32 tokens, all windows (stride 0)",
                          UNCASED_JSON, encode_settings("only_second", 32), "pairs"),
    "stride_single": ("tokenizer.json, single lines, longest_first to 24 tokens with stride 6",
                      UNCASED_JSON, encode_settings("longest_first", 24, 6), "single"),
    "stride_pairs": ("tokenizer.json, pairs, longest_first to 24 tokens with stride 6",
                     UNCASED_JSON, encode_settings("longest_first", 24, 6), "pairs"),
    "stride_qa": ("tokenizer.json, question (a line) + context (next 4 lines joined by a space), "
                  "only_second to 48 tokens with stride 12",
                  UNCASED_JSON, encode_settings("only_second", 48, 12), "qa"),
    # ---- byte-level BPE (RoBERTa) ----
    "roberta_single": ("roberta/tokenizer.json as shipped (byte-level BPE, RobertaProcessing, trim_offsets)",
                       ROBERTA_JSON, encode_settings(), "single"),
    "roberta_long": ("roberta/tokenizer.json, 20 consecutive lines joined by a space",
                     ROBERTA_JSON, encode_settings(), "long"),
    "roberta_pairs_do_not_truncate": ("roberta/tokenizer.json, pairs of consecutive lines, no truncation",
                                      ROBERTA_JSON, encode_settings(), "pairs"),
    "roberta_pairs_longest_first": ("roberta/tokenizer.json, pairs, longest_first to 32 tokens, all windows",
                                    ROBERTA_JSON, encode_settings("longest_first", 32), "pairs"),
    "roberta_pairs_only_first": ("roberta/tokenizer.json, pairs, only_first to 32 tokens, all windows",
                                 ROBERTA_JSON, encode_settings("only_first", 32), "pairs"),
    "roberta_pairs_only_second": ("roberta/tokenizer.json, pairs, only_second to 32 tokens, all windows",
                                  ROBERTA_JSON, encode_settings("only_second", 32), "pairs"),
    "roberta_stride_single": ("roberta/tokenizer.json, single lines, longest_first to 24 tokens with stride 6",
                              ROBERTA_JSON, encode_settings("longest_first", 24, 6), "single"),
    "roberta_stride_pairs": ("roberta/tokenizer.json, pairs, longest_first to 24 tokens with stride 6",
                             ROBERTA_JSON, encode_settings("longest_first", 24, 6), "pairs"),
    "roberta_stride_qa": ("roberta/tokenizer.json, question + context (4 lines), only_second to 48, stride 12",
                          ROBERTA_JSON, encode_settings("only_second", 48, 12), "qa"),
    "roberta_prefix_space": ("roberta/tokenizer.json in a directory whose tokenizer_config.json sets "
                             "add_prefix_space=true", ROBERTA_PREFIX_DIR, encode_settings(), "single"),
    "roberta_prefix_space_stride": ("the add_prefix_space=true directory, pairs, longest_first to 24 with stride 6",
                                    ROBERTA_PREFIX_DIR, encode_settings("longest_first", 24, 6), "pairs"),
    "roberta_files": ("roberta/vocab.json + merges.txt (transformers' RobertaTokenizer defaults)",
                      roberta_files(False), encode_settings(), "single"),
    "roberta_files_prefix_space": ("roberta/vocab.json + merges.txt, add_prefix_space=true",
                                   roberta_files(True), encode_settings(), "single"),
    "roberta_files_stride_pairs": ("roberta/vocab.json + merges.txt, pairs, longest_first to 24 with stride 6",
                                   roberta_files(False), encode_settings("longest_first", 24, 6), "pairs"),
    # ---- MPNet (WordPiece with RoBERTa's pair layout <s> A </s></s> B </s>) ----
    "mpnet_single": ("mpnet/ as saved by transformers' MPNetTokenizer (WordPiece, RobertaProcessing)",
                     MPNET_DIR, encode_settings(), "single"),
    "mpnet_pairs_longest_first": ("mpnet/, pairs, longest_first to 32 tokens, all windows",
                                  MPNET_DIR, encode_settings("longest_first", 32), "pairs"),
    "mpnet_stride_qa": ("mpnet/, question + context (4 lines), only_second to 48, stride 12",
                        MPNET_DIR, encode_settings("only_second", 48, 12), "qa"),
}


def inputs_for(kind: str, n_lines: int) -> list[tuple[int, int | list[int] | None]]:
    if kind == "single":
        return [(i, None) for i in range(n_lines)]
    if kind == "long":
        return [(list(range(i, min(i + 20, n_lines))), None) for i in range(0, n_lines, 20)]
    if kind == "pairs":
        return [(i, i + 1) for i in range(0, n_lines - 1, 2)]
    if kind == "qa":
        return [(i, [i + 1, i + 2, i + 3, i + 4]) for i in range(0, n_lines - 4, 5)]
    raise ValueError(kind)


def text_of(corpus: list[str], ref: int | list[int] | None) -> str | None:
    if ref is None:
        return None
    if isinstance(ref, int):
        return corpus[ref]
    return " ".join(corpus[i] for i in ref)


# ---- reference: tokenizers ---------------------------------------------------------------------------------
def is_bpe(settings: dict) -> bool:
    return any(key in settings for key in ("bpe_json", "bpe_dir", "bpe_files"))


def with_details(settings: dict) -> bool:
    """Whether the records also hold the token strings, special_tokens_mask and word_ids."""
    return is_bpe(settings) or "dir" in settings


def files_only_dir(tmp: pathlib.Path) -> pathlib.Path:
    """A directory with roberta/vocab.json and merges.txt only (what transformers converts from)."""
    d = tmp / "roberta_files"
    d.mkdir(exist_ok=True)
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(OUT / "roberta" / name, d / name)
    return d


def prefix_space_dir(tmp: pathlib.Path, settings: dict) -> pathlib.Path:
    """roberta/tokenizer.json next to the configuration's tokenizer_config.json."""
    d = tmp / "roberta_dir"
    d.mkdir(exist_ok=True)
    shutil.copyfile(OUT / settings["bpe_dir"], d / "tokenizer.json")
    (d / "tokenizer_config.json").write_text(json.dumps(settings["tokenizer_config"]))
    return d


def bpe_base(settings: dict, tmp: pathlib.Path) -> Tokenizer:
    """The tokenizers object for a BPE configuration, built independently of transformers where possible."""
    if "bpe_json" in settings:
        return Tokenizer.from_file(str(OUT / settings["bpe_json"]))
    if "bpe_dir" in settings:
        tok = Tokenizer.from_file(str(OUT / settings["bpe_dir"]))
        prefix = settings["tokenizer_config"]["add_prefix_space"]
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=prefix)
        tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True,
                                                          add_prefix_space=prefix)
        return tok
    # vocab.json + merges.txt: transformers' conversion is the reference (there is no tokenizer.json).
    converted = transformers.RobertaTokenizer.from_pretrained(str(files_only_dir(tmp)),
                                                              add_prefix_space=settings["add_prefix_space"])
    return copy.deepcopy(converted.backend_tokenizer)


def hf_tokenizer(base: Tokenizer, settings: dict, encode: dict) -> Tokenizer:
    tok = copy.deepcopy(base)
    tok.no_padding()
    tok.no_truncation()
    if "vocab" in settings:
        lowercase = settings["do_lower_case"]
        tok.normalizer = normalizers.BertNormalizer(
            clean_text=True, handle_chinese_chars=settings["tokenize_chinese_chars"],
            strip_accents=settings["strip_accents"], lowercase=lowercase)
    if encode["truncation"] != "do_not_truncate":
        tok.enable_truncation(encode["max_length"], stride=encode["stride"], strategy=encode["truncation"])
    return tok


def flat_offsets(offsets) -> list[int]:
    return [x for pair in offsets for x in pair]


def windows_of(encoding, details: bool = False) -> list[dict]:
    windows = []
    for e in [encoding, *encoding.overflowing]:
        w = {"ids": e.ids, "type_ids": e.type_ids, "offsets": flat_offsets(e.offsets)}
        if details:
            w.update(tokens=e.tokens, special_tokens_mask=e.special_tokens_mask, word_ids=e.word_ids)
        windows.append(w)
    return windows


def without_details(result: dict) -> dict:
    if "windows" not in result:
        return result
    return {"windows": [{k: w[k] for k in ("ids", "type_ids", "offsets")} for w in result["windows"]]}


def encode_reference(tok: Tokenizer, text: str, pair: str | None, details: bool = False) -> dict:
    try:
        encoding = tok.encode(text, pair) if pair is not None else tok.encode(text)
    except BaseException as error:  # tokenizers raises Exception, or PanicException (a BaseException)
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        return {"error": str(error).splitlines()[0]}
    return {"windows": windows_of(encoding, details)}


# ---- cross-check: transformers -----------------------------------------------------------------------------
def transformers_tokenizer(settings: dict, model_dir: pathlib.Path, tmp: pathlib.Path):
    if "bpe_json" in settings:
        return transformers.AutoTokenizer.from_pretrained(str((OUT / settings["bpe_json"]).parent))
    if "dir" in settings:
        return transformers.AutoTokenizer.from_pretrained(str(OUT / settings["dir"]))
    if "bpe_dir" in settings:
        return transformers.AutoTokenizer.from_pretrained(str(prefix_space_dir(tmp, settings)))
    if "bpe_files" in settings:  # a fresh conversion, not the object the reference was copied from
        return transformers.RobertaTokenizer.from_pretrained(str(files_only_dir(tmp)),
                                                             add_prefix_space=settings["add_prefix_space"])
    if "vocab" in settings:
        return transformers.BertTokenizer(
            vocab=str(model_dir / "vocab.txt"), do_lower_case=settings["do_lower_case"],
            strip_accents=settings["strip_accents"], tokenize_chinese_chars=settings["tokenize_chinese_chars"])
    return transformers.AutoTokenizer.from_pretrained(str(model_dir))


def encode_transformers(tok, text: str, pair: str | None, encode: dict) -> dict:
    kwargs = {"return_offsets_mapping": True, "return_token_type_ids": True}
    if encode["truncation"] == "do_not_truncate":
        kwargs["truncation"] = False
    else:
        kwargs.update(truncation=encode["truncation"], max_length=encode["max_length"], stride=encode["stride"],
                      return_overflowing_tokens=True)
    try:
        out = tok(text, pair, **kwargs) if pair is not None else tok(text, **kwargs)
    except BaseException as error:
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        return {"error": str(error).splitlines()[0]}
    ids = out["input_ids"]
    if ids and isinstance(ids[0], int):  # no overflow requested: one window
        return {"windows": [{"ids": ids, "type_ids": out["token_type_ids"],
                             "offsets": flat_offsets(out["offset_mapping"])}]}
    return {"windows": [{"ids": i, "type_ids": t, "offsets": flat_offsets(o)}
                        for i, t, o in zip(ids, out["token_type_ids"], out["offset_mapping"])]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", default=str(ROOT / "models" / "cache" / "all-MiniLM-L6-v2"))
    parser.add_argument("--no-cross-check", action="store_true", help="skip the transformers cross-check")
    parser.add_argument("--only", default="", help="make only the configurations whose name starts with this")
    args = parser.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bertcpp_fixtures_"))
    model_dir = pathlib.Path(args.model_dir)
    transformers.logging.set_verbosity_error()

    corpus = [json.loads(line)["text"] for line in (OUT / "corpus.jsonl").read_text(encoding="utf-8").split("\n") if line]
    shutil.copyfile(model_dir / "vocab.txt", OUT / "vocab.txt")
    shutil.copyfile(model_dir / "tokenizer.json", OUT / "tokenizer.json")
    base = Tokenizer.from_file(str(OUT / "tokenizer.json"))
    (OUT / "hf").mkdir(exist_ok=True)

    failures = 0
    for name, (description, settings, encode, kind) in CONFIGS.items():
        if not name.startswith(args.only):
            continue
        details = with_details(settings)
        if "dir" in settings:
            own = Tokenizer.from_file(str(OUT / settings["dir"] / "tokenizer.json"))
        else:
            own = bpe_base(settings, tmp) if is_bpe(settings) else base
        tok = hf_tokenizer(own, settings, encode)
        reference = None if args.no_cross_check else transformers_tokenizer(settings, model_dir, tmp)
        header = {"config": name, "description": description, "tokenizer": settings, "encode": encode,
                  "inputs": kind, "corpus": "corpus.jsonl", "corpus_lines": len(corpus),
                  "made_by": f"tokenizers {tokenizers.__version__}, "
                             f"cross-checked with transformers {transformers.__version__}"}
        records, n_windows, n_tokens, n_errors = [], 0, 0, 0
        for a, b in inputs_for(kind, len(corpus)):
            text, pair = text_of(corpus, a), text_of(corpus, b)
            result = encode_reference(tok, text, pair, details)
            if reference is not None:
                check = encode_transformers(reference, text, pair, encode)
                if check != without_details(result):
                    failures += 1
                    print(f"{name}: tokenizers and transformers disagree on a={a} b={b}:\n"
                          f"  tokenizers:   {json.dumps(result)[:400]}\n  transformers: {json.dumps(check)[:400]}",
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
        lines = [json.dumps(header, ensure_ascii=False)] + [json.dumps(r, separators=(",", ":")) for r in records]
        path = OUT / "hf" / f"{name}.jsonl.gz"
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
            f.write(("\n".join(lines) + "\n").encode("utf-8"))  # mtime 0: the same inputs give the same bytes
        print(f"{name:22s} {len(records):5d} inputs {n_windows:6d} windows {n_tokens:7d} tokens "
              f"{n_errors:4d} errors  {path.stat().st_size / 1e3:7.1f} kB")
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{failures} records differ between tokenizers and transformers", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
