#!/usr/bin/env python3
"""Generates the golden fixtures of the encoder tests (tests/data/encoder, tests/data/minilm).

    python3 models/make_encoder_fixtures.py                # both
    python3 models/make_encoder_fixtures.py --only tiny    # tests/data/encoder only
    python3 models/make_encoder_fixtures.py --only minilm  # tests/data/minilm only (needs the default model)

tests/data/encoder/<config>/ are real Hugging Face checkpoint directories (config.json + model.safetensors, as
save_pretrained writes them) holding tiny random BERT encoders, plus golden_<case>.safetensors with fixed inputs
and the outputs transformers computes for them. tests/data/minilm/ holds transformers' outputs of the default
model (models/cache/all-MiniLM-L6-v2) for real tokenized sentences. See models/README.md for the contents.

The reference is always transformers' BertModel in fp32 with eager attention, in eval mode, without grad.
Weights stored as F16 / BF16 are rounded to that dtype before the reference runs, so the reference is exact for
what the checkpoint stores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

import transformers
from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification, BertModel

REPO = Path(__file__).resolve().parent.parent
ENCODER_DIR = REPO / "tests" / "data" / "encoder"
MINILM_DIR = REPO / "tests" / "data" / "minilm"
DEFAULT_MODEL = REPO / "models" / "cache" / "all-MiniLM-L6-v2"

# Random weights scaled so that activations are O(1) and the 1e-4 tolerance of the tests is meaningful
# (transformers' own init, std 0.02, makes every output close to the LayerNorm biases).
LINEAR_STD = 0.3       # nn.Linear weights and the embedding tables
BIAS_STD = 0.1         # nn.Linear biases, LayerNorm biases
NORM_GAMMA_STD = 0.1   # LayerNorm weights are 1 + N(0, NORM_GAMMA_STD)


@dataclass
class Spec:
    name: str
    architecture: str          # "BertModel", "BertForSequenceClassification", "BertForMaskedLM"
    hidden: int
    heads: int
    intermediate: int
    layers: int
    act: str
    eps: float
    storage: torch.dtype       # dtype written to model.safetensors
    vocab: int
    max_pos: int
    type_vocab: int
    pad_id: int
    seed: int
    legacy_norm_names: bool = False   # rename LayerNorm.weight/bias to LayerNorm.gamma/beta in the file
    max_shard_size: str | None = None  # shard the checkpoint (model.safetensors.index.json)
    hidden_states: bool = False        # store hidden_states.<i> in every case
    leftpad: bool = False              # add the "leftpad" case
    extra: dict = field(default_factory=dict)


SPECS = [
    # Plain BertModel (no prefix), erf GELU, F32; also hidden states of every layer and a left-padded case.
    Spec("bert_h48_gelu_f32", "BertModel", hidden=48, heads=3, intermediate=100, layers=2, act="gelu",
         eps=1e-12, storage=torch.float32, vocab=120, max_pos=32, type_vocab=2, pad_id=0, seed=1001,
         hidden_states=True, leftpad=True),
    # bert. prefix plus a classifier head that must be ignored; tanh GELU; F16 storage; 3 token types;
    # pad id 1.
    Spec("seqcls_h96_gelunew_f16", "BertForSequenceClassification", hidden=96, heads=4, intermediate=200,
         layers=3, act="gelu_new", eps=1e-5, storage=torch.float16, vocab=150, max_pos=40, type_vocab=3,
         pad_id=1, seed=1002, extra={"num_labels": 3}),
    # bert. prefix plus MLM head tensors, no pooler, torch's tanh GELU, BF16 storage, two shards.
    Spec("mlm_h64_tanh_bf16_sharded", "BertForMaskedLM", hidden=64, heads=2, intermediate=52, layers=4,
         act="gelu_pytorch_tanh", eps=1e-12, storage=torch.bfloat16, vocab=100, max_pos=24, type_vocab=2,
         pad_id=0, seed=1003, max_shard_size="150KB"),
    # Old TF-converted names (LayerNorm.gamma / LayerNorm.beta), ReLU, one layer, one token type, pad id 3.
    Spec("legacy_h48_relu_f32", "BertModel", hidden=48, heads=4, intermediate=100, layers=1, act="relu",
         eps=1e-5, storage=torch.float32, vocab=110, max_pos=28, type_vocab=1, pad_id=3, seed=1004,
         legacy_norm_names=True),
    # SiLU, BF16 storage, head size 32.
    Spec("bert_h96_silu_bf16", "BertModel", hidden=96, heads=3, intermediate=200, layers=2, act="silu",
         eps=1e-12, storage=torch.bfloat16, vocab=130, max_pos=36, type_vocab=2, pad_id=0, seed=1005),
]

MIXED_LENGTHS = [7, 1, 13, 5]     # "mixed": right-padded batch of 4
LEFTPAD_LENGTHS = [6, 11, 3]      # "leftpad": left-padded batch of 3


def build_model(spec: Spec) -> torch.nn.Module:
    config = BertConfig(
        vocab_size=spec.vocab,
        hidden_size=spec.hidden,
        num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads,
        intermediate_size=spec.intermediate,
        hidden_act=spec.act,
        layer_norm_eps=spec.eps,
        max_position_embeddings=spec.max_pos,
        type_vocab_size=spec.type_vocab,
        pad_token_id=spec.pad_id,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        **spec.extra,
    )
    config._attn_implementation = "eager"
    cls = {"BertModel": BertModel, "BertForSequenceClassification": BertForSequenceClassification,
           "BertForMaskedLM": BertForMaskedLM}[spec.architecture]
    model = cls(config)
    assert model.config._attn_implementation == "eager", model.config._attn_implementation
    model.eval()

    gen = torch.Generator().manual_seed(spec.seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "LayerNorm" in name and name.endswith(".weight"):
                values = 1.0 + NORM_GAMMA_STD * torch.randn(param.shape, generator=gen)
            elif name.endswith(".bias"):
                values = BIAS_STD * torch.randn(param.shape, generator=gen)
            else:
                values = LINEAR_STD * torch.randn(param.shape, generator=gen)
            # Round to the storage dtype first: the fp32 reference then uses exactly the stored values.
            param.copy_(values.to(spec.storage).to(torch.float32))
    return model


def encoder_of(model: torch.nn.Module) -> BertModel:
    return model if isinstance(model, BertModel) else model.bert


def make_inputs(spec: Spec, case: str, rng: np.random.Generator):
    """input_ids, token_type_ids, attention_mask as int64 [B, T]."""
    if case == "mixed":
        lengths, left = MIXED_LENGTHS, False
    elif case == "leftpad":
        lengths, left = LEFTPAD_LENGTHS, True
    elif case == "len1":
        lengths, left = [1], False
    elif case == "maxpos":
        lengths, left = [spec.max_pos], False
    else:
        raise ValueError(case)
    batch, seq_len = len(lengths), max(lengths)
    ids = np.full((batch, seq_len), spec.pad_id, dtype=np.int64)
    types = np.zeros((batch, seq_len), dtype=np.int64)
    mask = np.zeros((batch, seq_len), dtype=np.int64)
    for b, n in enumerate(lengths):
        span = slice(seq_len - n, seq_len) if left else slice(0, n)
        ids[b, span] = rng.integers(0, spec.vocab, size=n)
        types[b, span] = rng.integers(0, spec.type_vocab, size=n)
        mask[b, span] = 1
    return ids, types, mask


def reference(model: torch.nn.Module, ids, types, mask):
    encoder = encoder_of(model)
    with torch.no_grad():
        out = encoder(input_ids=torch.from_numpy(ids), token_type_ids=torch.from_numpy(types),
                      attention_mask=torch.from_numpy(mask), output_hidden_states=True, return_dict=True)
    return out


def provenance(model: str | None = None) -> dict:
    """The __metadata__ of a golden file. One key: safetensors writes several in random order, and the
    files should be byte-identical when regenerated."""
    text = f"models/make_encoder_fixtures.py, transformers {transformers.__version__}, torch {torch.__version__}"
    return {"generator": text + (f", model {model}" if model else "")}


def rename_legacy_norms(path: Path) -> None:
    tensors = load_file(str(path))
    renamed = {}
    for name, value in tensors.items():
        if name.endswith("LayerNorm.weight"):
            name = name[: -len("weight")] + "gamma"
        elif name.endswith("LayerNorm.bias"):
            name = name[: -len("bias")] + "beta"
        renamed[name] = value
    save_file(renamed, str(path), metadata={"format": "pt"})


def check_saved(spec: Spec, out_dir: Path) -> None:
    """The files must be what the spec promises (prefix, dtype, shards, names)."""
    index = out_dir / "model.safetensors.index.json"
    if spec.max_shard_size:
        weight_map = json.loads(index.read_text())["weight_map"]
        shards = sorted(set(weight_map.values()))
        assert len(shards) == 2, f"{spec.name}: expected 2 shards, got {shards}"
        files = [out_dir / s for s in shards]
    else:
        assert not index.exists()
        files = [out_dir / "model.safetensors"]
    tensors = {}
    for f in files:
        tensors.update(load_file(str(f)))
    prefix = "" if spec.architecture == "BertModel" else "bert."
    probe = prefix + "embeddings.word_embeddings.weight"
    assert probe in tensors, f"{spec.name}: {probe} missing from {sorted(tensors)[:5]}"
    assert all(t.dtype == spec.storage for t in tensors.values()), f"{spec.name}: wrong storage dtype"
    has_gamma = any(n.endswith("LayerNorm.gamma") for n in tensors)
    has_weight = any("LayerNorm.weight" in n for n in tensors)
    assert has_gamma == spec.legacy_norm_names and has_weight != spec.legacy_norm_names
    has_pooler = any(n.startswith(prefix + "pooler.") for n in tensors)
    assert has_pooler == (spec.architecture != "BertForMaskedLM"), f"{spec.name}: pooler presence"


def make_tiny(spec: Spec) -> None:
    out_dir = ENCODER_DIR / spec.name
    if out_dir.exists():
        shutil.rmtree(out_dir)
    model = build_model(spec)

    cases = ["mixed", "len1", "maxpos"] + (["leftpad"] if spec.leftpad else [])
    rng = np.random.default_rng(spec.seed)
    goldens = {}
    for case in cases:
        ids, types, mask = make_inputs(spec, case, rng)
        out = reference(model, ids, types, mask)
        tensors = {
            "input_ids": torch.from_numpy(ids),
            "token_type_ids": torch.from_numpy(types),
            "attention_mask": torch.from_numpy(mask),
            "last_hidden_state": out.last_hidden_state.contiguous(),
        }
        # With left padding transformers pools position 0, a padding token: nothing to compare against.
        if out.pooler_output is not None and case != "leftpad":
            tensors["pooler_output"] = out.pooler_output.contiguous()
        if spec.hidden_states:
            assert len(out.hidden_states) == spec.layers + 1
            for i, h in enumerate(out.hidden_states):
                tensors[f"hidden_states.{i}"] = h.clone().contiguous()
        goldens[case] = tensors

    to_save = model.to(spec.storage) if spec.storage != torch.float32 else model
    kwargs = {"safe_serialization": True}
    if spec.max_shard_size:
        kwargs["max_shard_size"] = spec.max_shard_size
    try:
        to_save.save_pretrained(str(out_dir), **kwargs)
    except TypeError:  # transformers versions without the safe_serialization argument
        kwargs.pop("safe_serialization")
        to_save.save_pretrained(str(out_dir), **kwargs)
    if spec.legacy_norm_names:
        rename_legacy_norms(out_dir / "model.safetensors")
    check_saved(spec, out_dir)

    for case, tensors in goldens.items():
        save_file(tensors, str(out_dir / f"golden_{case}.safetensors"), metadata=provenance())
    lhs = goldens["mixed"]["last_hidden_state"]
    print(f"{spec.name}: cases {cases}, |mixed last_hidden_state| mean {lhs.abs().mean():.3f} "
          f"max {lhs.abs().max():.3f}")


# Real sentences for the default model: short, long (~100 tokens), punctuation, numbers, non-English, pairs.
MINILM_SENTENCES = [
    "Hello world!",
    "The quick brown fox jumps over the lazy dog.",
    "A",
    "How do I bake sourdough bread at home without a Dutch oven?",
    "Don't panic: it's only 3.14159... or is it? (Ask the mathematicians, e.g. Euler & Gauss.)",
    "Le chat est assis sur le tapis, et il regarde la pluie tomber.",
    "Die Straßenbahn fährt um 7:45 Uhr vom Hauptbahnhof ab.",
    "東京は日本の首都です。人口は約1400万人です。",
    "Москва — столица России.",
    "naïve café résumé — coöperate, façade, jalapeño",
    "user@example.com visited https://example.org/path?q=1&lang=en #hashtag @mention",
    "UNBELIEVABLE!!! This is the BEST day ever :-) ;) <3",
    "Transformers were introduced in 2017; BERT followed in 2018 and changed natural language processing. "
    "Since then, models have grown from hundreds of millions to hundreds of billions of parameters, while "
    "smaller distilled encoders such as MiniLM remain popular for sentence embeddings, semantic search, "
    "clustering and retrieval-augmented generation, because they are fast, cheap to run on a CPU, and "
    "surprisingly accurate on many benchmarks that matter in practice.",
]
MINILM_PAIRS = [
    ("What is the capital of France?", "Paris is the capital and most populous city of France."),
    ("A man is playing a guitar.", "Someone plays an instrument on stage."),
    ("Is it going to rain tomorrow?", "No."),
]


def make_minilm() -> None:
    from transformers import AutoTokenizer

    if not (DEFAULT_MODEL / "model.safetensors").exists():
        sys.exit(f"{DEFAULT_MODEL} is missing: run models/fetch_default_model.sh first")
    tokenizer = AutoTokenizer.from_pretrained(str(DEFAULT_MODEL))
    model = BertModel.from_pretrained(str(DEFAULT_MODEL), attn_implementation="eager",
                                      dtype=torch.float32, add_pooling_layer=False)
    model.eval()
    MINILM_DIR.mkdir(parents=True, exist_ok=True)
    meta = provenance("sentence-transformers/all-MiniLM-L6-v2")

    def run(encoded, out_path: Path):
        ids = encoded["input_ids"].to(torch.int64)
        types = encoded["token_type_ids"].to(torch.int64)
        mask = encoded["attention_mask"].to(torch.int64)
        with torch.no_grad():
            out = model(input_ids=ids, token_type_ids=types, attention_mask=mask, return_dict=True)
        save_file({"input_ids": ids.contiguous(), "token_type_ids": types.contiguous(),
                   "attention_mask": mask.contiguous(),
                   "last_hidden_state": out.last_hidden_state.contiguous()}, str(out_path), metadata=meta)
        lengths = mask.sum(dim=1).tolist()
        print(f"{out_path.name}: {len(lengths)} sequences, lengths {lengths}, "
              f"{out_path.stat().st_size / 1e6:.2f} MB")

    first = [s for s in MINILM_SENTENCES]
    second = [None] * len(first)
    first += [a for a, _ in MINILM_PAIRS]
    second += [b for _, b in MINILM_PAIRS]
    encodings = [tokenizer(a, b) if b is not None else tokenizer(a) for a, b in zip(first, second)]
    batch = tokenizer.pad(encodings, padding="longest", return_tensors="pt")
    run(batch, MINILM_DIR / "golden.safetensors")

    # One sequence of exactly max_position_embeddings (512) tokens, in its own file to keep files small.
    long_text = " ".join(MINILM_SENTENCES[i % len(MINILM_SENTENCES)] for i in range(80))
    encoded = tokenizer(long_text, truncation=True, max_length=512, return_tensors="pt")
    assert encoded["input_ids"].shape == (1, 512), encoded["input_ids"].shape
    run(encoded, MINILM_DIR / "golden_512.safetensors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["tiny", "minilm"])
    args = parser.parse_args()
    torch.set_num_threads(1)  # reproducible reductions
    if args.only in (None, "tiny"):
        ENCODER_DIR.mkdir(parents=True, exist_ok=True)
        for spec in SPECS:
            make_tiny(spec)
    if args.only in (None, "minilm"):
        make_minilm()


if __name__ == "__main__":
    main()
