#!/usr/bin/env python3
"""Generates golden_pairs.json next to encoder-variant fixtures that carry a tokenizer (tests/data/variants/<name>/).

    python3 models/make_pair_fixtures.py            # every directory in DIRS
    python3 models/make_pair_fixtures.py NAME ...   # only these

What transformers 5 computes for a text pair fed the usual way, `AutoModel(**AutoTokenizer(a, b, truncation=True))`:
the tokenizer decides whether token_type_ids reach the encoder (ALBERT's, RoBERTa's, XLM-R's, DistilBERT's and
MPNet's return none, so the encoder runs with segment id 0; BERT's and ELECTRA's return 0 / 1). Each case stores the
inputs, the input_ids and token_type_ids (null when the tokenizer returns none), and last_hidden_state [T][H].
Also stored: the input_ids of tokenizer(text, text_pair="") - transformers drops an empty pair ([CLS] a [SEP]).

Pairs are truncated longest-first to the encoder's limit, as `bertcpp encode` does. The checkpoint is the directory as models/make_variant_fixtures.py wrote it (fp32 eager reference, eval, no grad,
one torch thread). The tests (tests/heads_shared_model_test.cpp) run `bertcpp encode` / `bertcpp tokenize` on the
same records and compare at 1e-4.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import transformers
from transformers import AutoModel, AutoTokenizer

REPO = Path(__file__).resolve().parent.parent
VARIANTS = REPO / "tests" / "data" / "variants"
DIRS = ["albert_e24_g2_i2_f16", "electra_e24_proj_f16", "roberta_h48_f16", "mpnet_seqcls_b40_bf16"]
PAIRS = [
    ("le fichier est introuvable", "aucune donnée"),
    ("Who wrote the letter?", "The letter was written by Ada in 1843."),
    ("A short first text.", "A second, somewhat longer text that follows it, with punctuation!"),
]


def make(name: str) -> None:
    d = VARIANTS / name
    tok = AutoTokenizer.from_pretrained(str(d))
    model = AutoModel.from_pretrained(str(d), dtype=torch.float32, attn_implementation="eager").eval()
    # bertcpp encode truncates to the encoder's limit (max_sequence_length): RoBERTa's positions start after pad.
    c = model.config
    after_padding = c.model_type in ("roberta", "xlm-roberta", "mpnet")
    limit = c.max_position_embeddings - (c.pad_token_id + 1 if after_padding else 0)
    cases = []
    for a, b in PAIRS:
        enc = tok(a, b, truncation=True, max_length=limit, return_tensors="pt")
        with torch.no_grad():
            out = model(**enc)
        cases.append({
            "inputs": {"text": a, "text_pair": b},
            "input_ids": enc["input_ids"][0].tolist(),
            "token_type_ids": enc["token_type_ids"][0].tolist() if "token_type_ids" in enc else None,
            "last_hidden_state": out.last_hidden_state[0].tolist(),
        })
    empty_pair = [{"inputs": {"text": a, "text_pair": ""}, "input_ids": tok(a, "")["input_ids"]} for a, _ in PAIRS]
    golden = {
        "generator": f"models/make_pair_fixtures.py, transformers {transformers.__version__}, torch {torch.__version__}",
        "model_input_names": tok.model_input_names,
        "cases": cases,
        "empty_pair": empty_pair,
    }
    (d / "golden_pairs.json").write_text(json.dumps(golden, ensure_ascii=False) + "\n")
    print(f"{name}: {len(cases)} pairs, token types fed: {'token_type_ids' in tok.model_input_names}")


def main() -> None:
    torch.set_num_threads(1)
    wanted = sys.argv[1:] or DIRS
    for name in wanted:
        if name not in DIRS:
            sys.exit(f"unknown directory: {name}")
        make(name)


if __name__ == "__main__":
    main()
