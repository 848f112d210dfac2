#!/usr/bin/env python3
"""Generates the golden fixtures of the encoder-variant tests (tests/data/variants/<name>/).

    python3 models/make_variant_fixtures.py            # every fixture
    python3 models/make_variant_fixtures.py NAME ...   # only these

Each tests/data/variants/<name>/ is a Hugging Face checkpoint directory written by save_pretrained (config.json +
model.safetensors) holding a tiny random RoBERTa / XLM-R / ALBERT / ELECTRA / DistilBERT / MPNet encoder, plus
golden_<case>.safetensors in the format of models/make_encoder_fixtures.py (input_ids, token_type_ids,
attention_mask as I64 [B, T]; last_hidden_state, pooler_output, hidden_states.<i> as F32). Directories marked
with a tokenizer also get the variant's tokenizer.json / tokenizer_config.json (copied from
tests/data/tokenizer/<family>/, made by models/make_variant_tokenizers.py) and golden_text.safetensors: the
sentences of texts.json tokenized by transformers (truncated to the model's limit) and the encoder's outputs.

The reference is transformers' model reloaded from the written directory with from_pretrained (fp32, eager
attention, eval, no grad, one torch thread), so the goldens are what transformers computes from the files as
stored. Weights are rounded to the storage dtype before saving. See the SPECS table for what each fixture covers.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

import transformers
from transformers import AutoTokenizer

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "tests" / "data" / "variants"
TOKENIZER_DIR = REPO / "tests" / "data" / "tokenizer"

# As models/make_encoder_fixtures.py: activations O(1), so the tests' 1e-4 tolerance means something.
LINEAR_STD = 0.3
BIAS_STD = 0.1
NORM_GAMMA_STD = 0.1

# The tokenizer of each family: every file of tests/data/tokenizer/<family>/ (tokenizer.json,
# tokenizer_config.json and the family's vocab.txt / vocab.json + merges.txt / spiece.model /
# sentencepiece.bpe.model), linked into the fixture directory with relative symlinks (no second copy in git).
TOKENIZER_FAMILIES = ("roberta", "xlmr", "albert", "wordpiece", "mpnet")

TEXTS = [
    "Hello world!",
    "The quick brown fox jumps over the lazy dog.",
    "a",
    "Don't panic: it's only 3.14159... or is it?",
    # Longer than every fixture's limit: exercises truncation to max_sequence_length.
    "Transformers were introduced in 2017; BERT followed in 2018 and changed natural language processing. Since "
    "then, models have grown from hundreds of millions to hundreds of billions of parameters, while smaller "
    "encoders remain popular for sentence embeddings, semantic search, clustering and retrieval.",
]


@dataclass
class Spec:
    name: str
    cls: str                  # transformers class saved (decides the prefix and the tensors to ignore)
    config: dict              # config class keyword arguments
    storage: torch.dtype
    seed: int
    cases: list = field(default_factory=lambda: ["mixed", "len1", "maxpos"])
    tokenizer: str | None = None      # a TOKENIZER_FAMILIES entry: link it and write golden_text
    hidden_states: bool = False       # hidden_states.<i> in the "mixed" case
    legacy_norm_names: bool = False   # LayerNorm.weight/bias -> LayerNorm.gamma/beta in the file
    drop_tensors: tuple = ()          # tensors removed from the file after saving


def vocab_of(family: str) -> int:
    """The size of the family's tokenizer, which the fixture's vocab_size must equal."""
    return len(AutoTokenizer.from_pretrained(str(TOKENIZER_DIR / family)))


BERTLIKE = dict(hidden_size=48, num_attention_heads=3, intermediate_size=100)

SPECS = [
    # RoBERTa, bare RobertaModel (no prefix), with pooler; pad id 1, max_pos 40 -> 38 tokens. Left and right
    # padding and pad ids inside a sequence exercise the position-id rule. F16 storage.
    Spec("roberta_h48_f16", "RobertaModel",
         dict(BERTLIKE, vocab_size=vocab_of("roberta"), num_hidden_layers=2, hidden_act="gelu",
              max_position_embeddings=40, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
              layer_norm_eps=1e-5),
         torch.float16, seed=2001, cases=["mixed", "len1", "maxpos", "leftpad", "padids"], tokenizer="roberta"),
    # XLM-R sequence classifier: prefix roberta., no pooler, classifier.* to ignore; BF16; tanh GELU.
    Spec("xlmr_seqcls_bf16", "XLMRobertaForSequenceClassification",
         dict(BERTLIKE, vocab_size=vocab_of("xlmr"), num_hidden_layers=2, hidden_act="gelu_new",
              max_position_embeddings=34, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
              num_labels=3),
         torch.bfloat16, seed=2002, cases=["mixed", "len1", "maxpos", "leftpad", "padids"], tokenizer="xlmr"),
    # ALBERT, bare: embedding 24 -> hidden 48, 4 layers over 2 groups of 2 inner layers (9 hidden states). F16.
    Spec("albert_e24_g2_i2_f16", "AlbertModel",
         dict(BERTLIKE, vocab_size=vocab_of("albert"), embedding_size=24, num_hidden_layers=4, num_hidden_groups=2,
              inner_group_num=2, hidden_act="gelu_new", max_position_embeddings=36, type_vocab_size=2,
              pad_token_id=0),
         torch.float16, seed=2003, cases=["mixed", "len1", "maxpos", "leftpad"], tokenizer="albert",
         hidden_states=True),
    # ALBERT masked LM: prefix albert., 3 layers over 2 groups (int(i / 1.5) = 0, 0, 1), old gamma/beta names,
    # predictions.* to ignore, F16, relu.
    Spec("albert_mlm_l3_g2_legacy_f16", "AlbertForMaskedLM",
         dict(hidden_size=48, num_attention_heads=4, intermediate_size=60, vocab_size=150, embedding_size=32,
              num_hidden_layers=3, num_hidden_groups=2, inner_group_num=1, hidden_act="relu",
              max_position_embeddings=30, type_vocab_size=3, pad_token_id=0, layer_norm_eps=1e-6),
         torch.float16, seed=2004, hidden_states=True, legacy_norm_names=True),
    # ELECTRA, bare ElectraModel: embedding 24 != hidden 48, so embeddings_project; no pooler. F16.
    Spec("electra_e24_proj_f16", "ElectraModel",
         dict(BERTLIKE, vocab_size=vocab_of("wordpiece"), embedding_size=24, num_hidden_layers=2,
              hidden_act="gelu", max_position_embeddings=32, type_vocab_size=2, pad_token_id=0),
         torch.float16, seed=2005, cases=["mixed", "len1", "maxpos", "leftpad"], tokenizer="wordpiece",
         hidden_states=True),
    # ELECTRA classifier: prefix electra., embedding_size == hidden_size (no projection), BF16, silu.
    Spec("electra_seqcls_noproj_bf16", "ElectraForSequenceClassification",
         dict(hidden_size=64, num_attention_heads=2, intermediate_size=72, vocab_size=140, embedding_size=64,
              num_hidden_layers=2, hidden_act="silu", max_position_embeddings=26, type_vocab_size=2,
              pad_token_id=0, num_labels=2),
         torch.bfloat16, seed=2006),
    # DistilBERT, bare: sinusoidal position table not stored in the file (transformers regenerates it), gelu.
    Spec("distilbert_sinusoidal_bf16", "DistilBertModel",
         dict(vocab_size=vocab_of("wordpiece"), dim=48, n_layers=2, n_heads=3, hidden_dim=100, activation="gelu",
              sinusoidal_pos_embds=True, max_position_embeddings=32, pad_token_id=0),
         torch.bfloat16, seed=2007, cases=["mixed", "len1", "maxpos", "leftpad"], tokenizer="wordpiece",
         hidden_states=True, drop_tensors=("embeddings.position_embeddings.weight",)),
    # DistilBERT classifier: prefix distilbert., learned positions, relu, pre_classifier/classifier to ignore.
    Spec("distilbert_seqcls_relu_f32", "DistilBertForSequenceClassification",
         dict(vocab_size=130, dim=40, n_layers=3, n_heads=5, hidden_dim=90, activation="relu",
              sinusoidal_pos_embds=False, max_position_embeddings=28, pad_token_id=0, num_labels=2),
         torch.float32, seed=2008),
    # MPNet, bare MPNetModel with pooler: 3 layers sharing the relative position bias (32 buckets); pad id 1,
    # max_pos 302 -> 300 tokens, so "maxpos" runs the attention's blocked path (key block 256) and reaches
    # distances past max_distance 128, "long" the log-spaced buckets (lengths 37, 20, 140, 9); "holes" has
    # masked-out tokens inside sequences (relative distances follow the padded row's columns). F16.
    Spec("mpnet_h48_f16", "MPNetModel",
         dict(BERTLIKE, vocab_size=vocab_of("mpnet"), num_hidden_layers=3, hidden_act="gelu",
              max_position_embeddings=302, relative_attention_num_buckets=32, pad_token_id=1, bos_token_id=0,
              eos_token_id=2, layer_norm_eps=1e-5),
         torch.float16, seed=2009, cases=["mixed", "len1", "maxpos", "leftpad", "padids", "long", "holes"],
         hidden_states=True),
    # MPNet sequence classifier: prefix mpnet., no pooler, classifier.* to ignore; BF16; tanh GELU; a bias table
    # of 40 rows of which transformers uses the first 32 (MPNetEncoder always buckets into 32); max_pos 36 ->
    # 34 tokens (log-spaced buckets); the MPNet tokenizer (golden_text, golden_pairs).
    Spec("mpnet_seqcls_b40_bf16", "MPNetForSequenceClassification",
         dict(BERTLIKE, vocab_size=vocab_of("mpnet"), num_hidden_layers=2, hidden_act="gelu_new",
              max_position_embeddings=36, relative_attention_num_buckets=40, pad_token_id=1, bos_token_id=0,
              eos_token_id=2, num_labels=3),
         torch.bfloat16, seed=2010, cases=["mixed", "len1", "maxpos", "padids", "holes"], tokenizer="mpnet"),
]

MIXED_LENGTHS = [7, 1, 13, 5]
LEFTPAD_LENGTHS = [6, 11, 3]
LONG_LENGTHS = [37, 20, 140, 9]


def after_padding(spec: Spec) -> bool:
    """RoBERTa's position rule (positions after pad_token_id), which XLM-R and MPNet share."""
    return spec.cls.startswith(("Roberta", "XLMRoberta", "MPNet"))


def takes_token_types(spec: Spec) -> bool:
    return not spec.cls.startswith(("DistilBert", "MPNet"))


def config_and_class(spec: Spec):
    cls = getattr(transformers, spec.cls)
    config_cls = cls.config_class
    extra = {}
    if "dim" in spec.config:
        extra = dict(dropout=0.0, attention_dropout=0.0)
    else:
        extra = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    config = config_cls(**spec.config, **extra)
    return config, cls


def randomize(model: torch.nn.Module, spec: Spec) -> None:
    gen = torch.Generator().manual_seed(spec.seed)
    sinusoidal = spec.config.get("sinusoidal_pos_embds", False)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.copy_(1.0 + NORM_GAMMA_STD * torch.randn(module.weight.shape, generator=gen))
                module.bias.copy_(BIAS_STD * torch.randn(module.bias.shape, generator=gen))
            elif isinstance(module, torch.nn.Linear):
                module.weight.copy_(LINEAR_STD * torch.randn(module.weight.shape, generator=gen))
                if module.bias is not None:
                    module.bias.copy_(BIAS_STD * torch.randn(module.bias.shape, generator=gen))
            elif isinstance(module, torch.nn.Embedding):
                if sinusoidal and module.weight.shape[0] == spec.config["max_position_embeddings"]:
                    continue  # keep the sinusoidal table
                module.weight.copy_(LINEAR_STD * torch.randn(module.weight.shape, generator=gen))
        # Any remaining parameter (e.g. an MLM output bias) gets a value too, so nothing depends on init order.
        for name, param in model.named_parameters():
            if name.endswith("predictions.bias"):
                param.copy_(BIAS_STD * torch.randn(param.shape, generator=gen))
        for param in model.parameters():
            param.copy_(param.to(spec.storage).to(torch.float32))


def base_of(model):
    prefix = getattr(model, "base_model_prefix", "")
    return getattr(model, prefix) if hasattr(model, prefix) else model


def make_inputs(spec: Spec, config, case: str, rng: np.random.Generator):
    vocab = spec.config["vocab_size"]
    pad = spec.config.get("pad_token_id", 0)
    types_n = spec.config.get("type_vocab_size", 1)
    limit = spec.config["max_position_embeddings"] - (pad + 1 if after_padding(spec) else 0)
    lengths, left = {"mixed": (MIXED_LENGTHS, False), "leftpad": (LEFTPAD_LENGTHS, True), "long": (LONG_LENGTHS, False),
                     "holes": ([12, 30], False),
                     "padids": ([9, 4, 12], False), "len1": ([1], False), "maxpos": ([limit], False)}[case]
    batch, seq_len = len(lengths), max(lengths)
    ids = np.full((batch, seq_len), pad, dtype=np.int64)
    types = np.zeros((batch, seq_len), dtype=np.int64)
    mask = np.zeros((batch, seq_len), dtype=np.int64)
    for b, n in enumerate(lengths):
        span = slice(seq_len - n, seq_len) if left else slice(0, n)
        real = rng.integers(0, vocab, size=n)
        real[real == pad] = (pad + 5) % vocab  # pad ids only where a case puts them on purpose
        ids[b, span] = real
        types[b, span] = rng.integers(0, types_n, size=n)
        mask[b, span] = 1
    if case == "holes":
        # Masked-out tokens inside sequences, attended tokens after them: the encoder drops them, and the
        # attended tokens keep their columns (positions, and MPNet's relative distances, count the holes).
        mask[0, 3] = 0
        mask[1, 5:8] = 0
    if case == "padids":
        # RoBERTa's positions come from input_ids: a pad id inside a sequence (attended) takes position
        # padding_idx and does not advance the count; an attended pad id at the start shifts everything.
        ids[0, 3] = pad
        ids[0, 6] = pad
        ids[2, 0] = pad
        # A masked-out token whose id is not the pad id still advances the count of later tokens.
        ids[1, 5] = 7
        mask[1, 4] = 0
        ids[1, 4] = 9
    return ids, types, mask


def reference(model, spec: Spec, ids, types, mask):
    kwargs = dict(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                  output_hidden_states=True, return_dict=True)
    if takes_token_types(spec):
        kwargs["token_type_ids"] = torch.from_numpy(types)
    with torch.no_grad():
        return base_of(model)(**kwargs)


def provenance() -> dict:
    return {"generator": f"models/make_variant_fixtures.py, transformers {transformers.__version__}, "
                         f"torch {torch.__version__}"}


def rewrite_file(path: Path, spec: Spec) -> None:
    tensors = load_file(str(path))
    out = {}
    for name, value in tensors.items():
        if any(name.endswith(d) for d in spec.drop_tensors):
            continue
        if spec.legacy_norm_names and name.endswith("LayerNorm.weight"):
            name = name[: -len("weight")] + "gamma"
        elif spec.legacy_norm_names and name.endswith("LayerNorm.bias"):
            name = name[: -len("bias")] + "beta"
        out[name] = value
    save_file(out, str(path), metadata={"format": "pt"})


def check_saved(spec: Spec, out_dir: Path, model) -> None:
    tensors = load_file(str(out_dir / "model.safetensors"))
    prefix = "" if spec.cls.endswith("Model") and "For" not in spec.cls else model.base_model_prefix + "."
    probe = prefix + "embeddings.word_embeddings.weight"
    assert probe in tensors, f"{spec.name}: {probe} missing from {sorted(tensors)[:5]}"
    assert all(t.dtype == spec.storage for t in tensors.values()), f"{spec.name}: storage dtype"
    assert any(n.endswith("LayerNorm.gamma") for n in tensors) == spec.legacy_norm_names, spec.name
    for d in spec.drop_tensors:
        assert not any(n.endswith(d) for n in tensors), f"{spec.name}: {d} still stored"


def make(spec: Spec) -> None:
    out_dir = OUT_DIR / spec.name
    if out_dir.exists():
        shutil.rmtree(out_dir)
    config, cls = config_and_class(spec)
    config._attn_implementation = "eager"
    model = cls(config).eval()
    randomize(model, spec)
    (model.to(spec.storage) if spec.storage != torch.float32 else model).save_pretrained(str(out_dir))
    if spec.legacy_norm_names or spec.drop_tensors:
        rewrite_file(out_dir / "model.safetensors", spec)
    check_saved(spec, out_dir, model)

    # The reference: what transformers computes from the files as written.
    loaded = cls.from_pretrained(str(out_dir), dtype=torch.float32, attn_implementation="eager").eval()
    rng = np.random.default_rng(spec.seed)
    summary = []
    for case in spec.cases:
        ids, types, mask = make_inputs(spec, config, case, rng)
        out = reference(loaded, spec, ids, types, mask)
        tensors = {"input_ids": torch.from_numpy(ids), "token_type_ids": torch.from_numpy(types),
                   "attention_mask": torch.from_numpy(mask),
                   "last_hidden_state": out.last_hidden_state.contiguous()}
        pooled = getattr(out, "pooler_output", None)
        # Left padding: transformers pools position 0, a padding token - nothing to compare with.
        if pooled is not None and case != "leftpad":
            tensors["pooler_output"] = pooled.contiguous()
        if spec.hidden_states and case == "mixed":
            for i, h in enumerate(out.hidden_states):
                tensors[f"hidden_states.{i}"] = h.clone().contiguous()
        save_file(tensors, str(out_dir / f"golden_{case}.safetensors"), metadata=provenance())
        summary.append(case)

    if spec.tokenizer:
        assert spec.tokenizer in TOKENIZER_FAMILIES, spec.tokenizer
        for f in sorted((TOKENIZER_DIR / spec.tokenizer).iterdir()):
            os.symlink(os.path.relpath(f, out_dir), out_dir / f.name)
        tok = AutoTokenizer.from_pretrained(str(out_dir))
        assert len(tok) == spec.config["vocab_size"], (len(tok), spec.config["vocab_size"])
        limit = spec.config["max_position_embeddings"] - (spec.config["pad_token_id"] + 1 if after_padding(spec) else 0)
        enc = tok(TEXTS, truncation=True, max_length=limit, padding="longest", return_tensors="pt")
        ids = enc["input_ids"].to(torch.int64).numpy()
        mask = enc["attention_mask"].to(torch.int64).numpy()
        types = enc["token_type_ids"].to(torch.int64).numpy() if "token_type_ids" in enc else np.zeros_like(ids)
        assert ids.shape[1] == limit, f"{spec.name}: the long text should reach the limit {limit}"
        out = reference(loaded, spec, ids, types, mask)
        tensors = {"input_ids": torch.from_numpy(ids), "token_type_ids": torch.from_numpy(types),
                   "attention_mask": torch.from_numpy(mask),
                   "last_hidden_state": out.last_hidden_state.contiguous()}
        if getattr(out, "pooler_output", None) is not None and tok.padding_side == "right":
            tensors["pooler_output"] = out.pooler_output.contiguous()
        save_file(tensors, str(out_dir / "golden_text.safetensors"), metadata=provenance())
        (out_dir / "texts.json").write_text(json.dumps(TEXTS, ensure_ascii=False, indent=1) + "\n")
        summary.append("text")
    size = sum(f.stat().st_size for f in out_dir.iterdir() if not f.is_symlink()) / 1e3
    print(f"{spec.name}: {spec.cls}, cases {summary}, {size:.0f} kB")


def main() -> None:
    torch.set_num_threads(1)
    wanted = set(sys.argv[1:])
    unknown = wanted - {s.name for s in SPECS}
    if unknown:
        sys.exit(f"unknown fixtures: {sorted(unknown)}")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for spec in SPECS:
        if not wanted or spec.name in wanted:
            make(spec)


if __name__ == "__main__":
    main()
