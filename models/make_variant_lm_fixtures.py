#!/usr/bin/env python3
"""Generates the golden fixtures of the language-model-family heads on the non-BERT variants
(tests/data/variant-heads/<variant>-<head>/):

    python3 models/make_variant_lm_fixtures.py                    # everything
    python3 models/make_variant_lm_fixtures.py --only albert      # one variant (repeatable)

Per variant (roberta, xlm-roberta, albert, electra, distilbert, mpnet) one tiny random encoder with odd sizes is written
once, as lm-shared-<variant>/encoder.safetensors, and reached from each head directory through a relative symlink
and model.safetensors.index.json (the head's own tensors are a second, small shard: head.safetensors). The
tokenizer is the variant's tiny one made by models/make_variant_tokenizers.py, linked from tests/data/tokenizer/
(tokenizer_config.json is written per directory, with model_max_length fitting the position table).

  <variant>-fill-mask           *ForMaskedLM (ELECTRA: the generator, ElectraForMaskedLM). The decoder is tied and
                                left out of the file, except xlm-roberta-fill-mask: tie_word_embeddings false and
                                lm_head.decoder.{weight,bias} stored. Goldens from transformers' fill-mask pipeline.
  electra-replaced-token-detection  ElectraForPreTraining (discriminator_predictions): per-token logits of the
                                model forward, with the tokens and character offsets of the fast tokenizer.
  albert-sentence-order         AlbertForPreTraining (pooler -> sop_classifier.classifier, also the MLM head):
                                the two sop_logits (index 0: the segments are in their original order).
  <variant>-sentence-embeddings a sentence-transformers directory (modules.json, 1_Pooling, sentence_bert_config)
                                over the bare *Model; goldens from SentenceTransformer.encode.

Decisions of random heads are kept away from ties as in make_head_fixtures.py (whose helpers this script uses):
logits perturbed by +-1e-4 must not change tokens / order, ranked probabilities differ by more than 1e-3
(relative), replaced-token logits are at least 0.05 away from 0; a head that fails is re-drawn with the next seed.
Weights are stored F16 and the fp32 reference runs on exactly the stored values.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

import transformers
from transformers import (
    AlbertConfig, AlbertForMaskedLM, AlbertForPreTraining, AlbertModel,
    AutoTokenizer,
    DistilBertConfig, DistilBertForMaskedLM, DistilBertModel,
    ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining, ElectraModel,
    MPNetConfig, MPNetForMaskedLM, MPNetModel,
    RobertaConfig, RobertaForMaskedLM, RobertaModel,
    XLMRobertaConfig, XLMRobertaForMaskedLM, XLMRobertaModel,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_head_fixtures import (  # noqa: E402 - the shared fixture helpers
    NearTie, calibrated_linear, check_ranked, check_stable, f32, f32_nested, fill_decision, golden, jsonable,
    randn, recorded_forwards, retry, softmax_np, stored, write_json,
)

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "tests" / "data" / "variant-heads"
TOKENIZER_DIR = REPO / "tests" / "data" / "tokenizer"

LINEAR_STD, BIAS_STD, NORM_GAMMA_STD = 0.3, 0.1, 0.1
MAX_TOKENS = 64            # model_max_length of every directory
RTD_MARGIN = 0.05          # |logit| of every replaced-token decision is at least this

# hidden 36 with 3 heads (head size 12), intermediate 50: none a multiple of 16 (kernel tails).
COMMON = dict(hidden_size=36, num_hidden_layers=2, num_attention_heads=3, intermediate_size=50,
              hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)

# variant -> (config class, bare model class, checkpoint prefix, tokenizer folder, config kwargs, encoder seed)
VARIANTS = {
    "roberta": (RobertaConfig, RobertaModel, "roberta.", "roberta",
                dict(COMMON, vocab_size=2000, max_position_embeddings=MAX_TOKENS + 2, type_vocab_size=1,
                     pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5, hidden_act="gelu"), 9100),
    "xlm-roberta": (XLMRobertaConfig, XLMRobertaModel, "roberta.", "xlmr",
                    dict(COMMON, vocab_size=3002, max_position_embeddings=MAX_TOKENS + 2, type_vocab_size=1,
                         pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5, hidden_act="gelu"),
                    9200),
    # Three layers sharing one group; embedding_size 20 != hidden (embedding_hidden_mapping_in, MLM at 20).
    "albert": (AlbertConfig, AlbertModel, "albert.", "albert",
               dict(COMMON, num_hidden_layers=3, num_hidden_groups=1, inner_group_num=1, embedding_size=20,
                    vocab_size=3000, max_position_embeddings=MAX_TOKENS, type_vocab_size=2, pad_token_id=0,
                    bos_token_id=2, eos_token_id=3, layer_norm_eps=1e-12, hidden_act="gelu_new",
                    classifier_dropout_prob=0.0), 9300),
    # embedding_size 20 != hidden: embeddings_project, and the generator head works at 20.
    "electra": (ElectraConfig, ElectraModel, "electra.", "wordpiece",
                dict(COMMON, embedding_size=20, vocab_size=2000, max_position_embeddings=MAX_TOKENS, type_vocab_size=2,
                     pad_token_id=0, layer_norm_eps=1e-12, hidden_act="gelu"), 9400),
    "distilbert": (DistilBertConfig, DistilBertModel, "distilbert.", "wordpiece",
                   dict(vocab_size=2000, dim=36, n_layers=2, n_heads=3, hidden_dim=50, activation="gelu",
                        max_position_embeddings=MAX_TOKENS, sinusoidal_pos_embds=False, pad_token_id=0,
                        dropout=0.0, attention_dropout=0.0), 9500),
    # The relative position bias (32 buckets) of every layer; RoBERTa's positions and heads.
    "mpnet": (MPNetConfig, MPNetModel, "mpnet.", "mpnet",
              dict(COMMON, vocab_size=2001, max_position_embeddings=MAX_TOKENS + 2, relative_attention_num_buckets=32,
                   pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5, hidden_act="gelu"), 9600),
}
MASKED_LM = {"roberta": RobertaForMaskedLM, "xlm-roberta": XLMRobertaForMaskedLM, "albert": AlbertForMaskedLM,
             "electra": ElectraForMaskedLM, "distilbert": DistilBertForMaskedLM, "mpnet": MPNetForMaskedLM}


# ---------------------------------------------------------------------------------------------------------------
# Checkpoint directories


def variant_config(variant: str, architecture: str | None, **extra) -> dict:
    """config.json as save_pretrained writes it for this architecture, dtype float32."""
    cfg_cls, _, _, _, kwargs, _ = VARIANTS[variant]
    cfg = cfg_cls(**kwargs, **extra)
    if architecture:
        cfg.architectures = [architecture]
    d = json.loads(cfg.to_json_string(use_diff=True))
    d["dtype"] = "float32"
    return d


def hidden_size(variant: str) -> int:
    return VARIANTS[variant][4].get("hidden_size", VARIANTS[variant][4].get("dim"))


def embedding_size(variant: str) -> int:
    return VARIANTS[variant][4].get("embedding_size", hidden_size(variant))


def vocab_size(variant: str) -> int:
    return VARIANTS[variant][4]["vocab_size"]


def encoder_tensors(variant: str) -> dict[str, torch.Tensor]:
    """The variant's random bare encoder (with ALBERT's pooler), keyed as its *For* checkpoints store it."""
    _, model_cls, prefix, _, _, seed = VARIANTS[variant]
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(seed)
    pooler_option = ("roberta", "xlm-roberta", "albert", "mpnet")
    kwargs = {"add_pooling_layer": variant == "albert"} if variant in pooler_option else {}
    model = model_cls(model_cls.config_class(**VARIANTS[variant][4]), **kwargs)
    norms = {name for name, m in model.named_modules() if isinstance(m, torch.nn.LayerNorm)}
    out = {}
    for name, p in model.named_parameters():
        owner, _, leaf = name.rpartition(".")
        if owner in norms and leaf == "weight":
            t = randn(gen, p.shape, NORM_GAMMA_STD, 1.0)
        elif leaf == "bias":
            t = randn(gen, p.shape, BIAS_STD)
        else:
            t = randn(gen, p.shape, LINEAR_STD)
        out[prefix + name] = stored(t)
    return out


def shared_dir(variant: str) -> Path:
    return OUT_DIR / f"lm-shared-{variant}"


def write_shared(variant: str) -> dict[str, torch.Tensor]:
    d = shared_dir(variant)
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    tensors = encoder_tensors(variant)
    save_file(tensors, d / "encoder.safetensors", metadata={"format": "pt"})
    return tensors


def relink(link_path: Path, target: Path) -> None:
    if link_path.is_symlink() or link_path.exists():
        link_path.unlink()
    os.symlink(os.path.relpath(target, link_path.parent), link_path)


def tokenizer_files(variant: str, dir_: Path) -> None:
    """The variant's tokenizer: every file linked from tests/data/tokenizer/<tok>/ except tokenizer_config.json,
    which is written here with this directory's model_max_length."""
    src = TOKENIZER_DIR / VARIANTS[variant][3]
    for f in sorted(src.iterdir()):
        if f.name != "tokenizer_config.json":
            relink(dir_ / f.name, f)
    cfg = json.loads((src / "tokenizer_config.json").read_text())
    cfg["model_max_length"] = MAX_TOKENS
    write_json(dir_ / "tokenizer_config.json", cfg)


def write_checkpoint(variant: str, dir_: Path, encoder: dict, head: dict, config: dict) -> None:
    """config.json, model.safetensors.index.json over the shared encoder shard (symlink) and head.safetensors,
    and the tokenizer files."""
    if dir_.exists():
        shutil.rmtree(dir_)
    dir_.mkdir(parents=True)
    relink(dir_ / "encoder.safetensors", shared_dir(variant) / "encoder.safetensors")
    weight_map = {name: "encoder.safetensors" for name in sorted(encoder)}
    total = sum(t.numel() * t.element_size() for t in encoder.values())
    if head:
        save_file(head, dir_ / "head.safetensors", metadata={"format": "pt"})
        weight_map.update({name: "head.safetensors" for name in sorted(head)})
        total += sum(t.numel() * t.element_size() for t in head.values())
    write_json(dir_ / "model.safetensors.index.json", {"metadata": {"total_size": total}, "weight_map": weight_map})
    write_json(dir_ / "config.json", config)
    tokenizer_files(variant, dir_)


def load_model(cls, dir_: Path, tensors: dict, expect_unexpected=frozenset(), expect_missing=frozenset()):
    """from_pretrained in fp32 eager mode with exactly the expected missing / unexpected keys, holding exactly the
    stored (rounded) values."""
    model, info = cls.from_pretrained(dir_, dtype=torch.float32, attn_implementation="eager",
                                      output_loading_info=True)
    if set(info["unexpected_keys"]) != set(expect_unexpected) or set(info["missing_keys"]) != set(expect_missing):
        sys.exit(f"{dir_}: {cls.__name__} loaded with missing {sorted(info['missing_keys'])} and unexpected "
                 f"{sorted(info['unexpected_keys'])}; expected {sorted(expect_missing)} / {sorted(expect_unexpected)}")
    if info["mismatched_keys"] or info["error_msgs"]:
        sys.exit(f"{dir_}: {info}")
    state = model.state_dict()
    for name, t in tensors.items():
        if name in state and not torch.equal(state[name], t.float()):
            sys.exit(f"{dir_}: loaded {name} differs from what was written")
    return model.eval()


def pooler_keys(variant: str, encoder: dict) -> set[str]:
    return {k for k in encoder if ".pooler." in k}


# ---------------------------------------------------------------------------------------------------------------
# Fill-mask

# "{mask}" is replaced by the tokenizer's mask token. "@m.r": the r-th most likely vocabulary token at mask m
# (its vocabulary string, so the exact-match path); "#m.r": the same token as a plain word (letters only, the
# tokenize-and-take-the-first-piece path when the vocabulary spells it differently).
FILL_CASES = [
    ("Paris is the {mask} of France.", {}),
    ("Paris is the {mask} of France.", {"top_k": 1}),
    ("Paris is the {mask} of France.", {"top_k": 10}),
    ("The {mask} sat on the {mask}.", {"top_k": 3}),
    ("{mask} is a beautiful city.", {}),
    ("Zoë loves {mask} café au lait.", {"top_k": 4}),
    ("I think that {mask}{mask} works", {"top_k": 2}),
    ("Paris is the {mask} of France.", {"targets": ["@0.1", "#0.3", "city", "@0.6", "Paris", "@0.1"], "top_k": 10}),
    ("The {mask} sat on the {mask}.", {"targets": ["#1.1", "@0.2", "dog", "#0.5"], "top_k": 3}),
]
FILL_ERRORS = [("Paris is the capital of France.", {})]


def resolve_fill_targets(fill, tokenizer, text: str, targets: list[str]) -> list[str]:
    rows = None
    out = []
    for t in targets:
        if t[0] not in "@#":
            out.append(t)
            continue
        if rows is None:
            result = fill(text, top_k=300)
            rows = result if isinstance(result[0], list) else [result]
        mask, rank = (int(x) for x in t[1:].split("."))
        if t[0] == "@":
            out.append(tokenizer.convert_ids_to_tokens(rows[mask][rank - 1]["token"]))
        else:
            words = [p["token_str"].strip() for p in rows[mask]
                     if p["token_str"].strip().isalpha() and p["token_str"].strip().isascii()]
            out.append(words[rank - 1])
    return out


def mlm_head(variant: str, gen: torch.Generator, untied: bool) -> dict[str, torch.Tensor]:
    """Random MLM-head tensors as the variant's *ForMaskedLM stores them. The LayerNorm weight ~2.5 spreads the
    vocabulary logits so the top tokens have clear probabilities."""
    H, E, V = hidden_size(variant), embedding_size(variant), vocab_size(variant)
    dense = (randn(gen, (E, H), LINEAR_STD), randn(gen, (E,), BIAS_STD))
    norm = (randn(gen, (E,), 0.25, 2.5), randn(gen, (E,), BIAS_STD))
    bias = randn(gen, (V,), 0.5)
    names = {  # variant -> (dense, layer norm, bias, decoder weight, decoder bias)
        "roberta": ("lm_head.dense", "lm_head.layer_norm", "lm_head.bias", "lm_head.decoder.weight",
                    "lm_head.decoder.bias"),
        "albert": ("predictions.dense", "predictions.LayerNorm", "predictions.bias", "predictions.decoder.weight",
                   "predictions.decoder.bias"),
        "electra": ("generator_predictions.dense", "generator_predictions.LayerNorm", "generator_lm_head.bias",
                    "generator_lm_head.weight", None),
        "distilbert": ("vocab_transform", "vocab_layer_norm", "vocab_projector.bias", "vocab_projector.weight", None),
    }["roberta" if variant in ("xlm-roberta", "mpnet") else variant]
    head = {f"{names[0]}.weight": dense[0], f"{names[0]}.bias": dense[1], f"{names[1]}.weight": norm[0],
            f"{names[1]}.bias": norm[1], names[2]: bias}
    if untied:
        head[names[3]] = randn(gen, (V, E), LINEAR_STD)
        if names[4]:
            head[names[4]] = bias.clone()
    return {k: stored(v) for k, v in head.items()}


def make_fill_mask(variant: str, encoder: dict, untied: bool, first_seed: int) -> None:
    from transformers import pipeline

    task_dir = f"{variant}-fill-mask"
    dir_ = OUT_DIR / task_dir
    cls = MASKED_LM[variant]
    config = variant_config(variant, cls.__name__, tie_word_embeddings=not untied)

    def make(seed):
        gen = torch.Generator().manual_seed(seed)
        head = mlm_head(variant, gen, untied)
        write_checkpoint(variant, dir_, encoder, head, config)
        model = load_model(cls, dir_, {**encoder, **head}, expect_unexpected=pooler_keys(variant, encoder))
        decoder = model.get_output_embeddings().weight.detach()
        embeddings = model.get_input_embeddings().weight.detach()
        if torch.equal(decoder, embeddings) == untied:
            sys.exit(f"{dir_}: decoder {'equals' if untied else 'differs from'} the word embeddings")
        tokenizer = AutoTokenizer.from_pretrained(dir_)
        fill = pipeline("fill-mask", model=model, tokenizer=tokenizer)
        cases = []
        for ci, (template, opts) in enumerate(FILL_CASES):
            text = template.replace("{mask}", tokenizer.mask_token)
            if opts.get("targets"):
                opts = {**opts, "targets": resolve_fill_targets(fill, tokenizer, text, opts["targets"])}
            options = {"top_k": opts.get("top_k"), "targets": opts.get("targets")}

            def run():
                return fill(text, **opts)

            with recorded_forwards(model) as calls:
                expected = run()
            (inputs, outputs), = calls
            ids = inputs["input_ids"][0]
            mask_rows = outputs["logits"][0][ids == tokenizer.mask_token_id].numpy()
            probs = softmax_np(mask_rows)
            top_k = opts.get("top_k", 5)
            if opts.get("targets"):
                target_ids = sorted({int(i) for row in fill_decision(expected) for i, _ in row})
                probs = probs[:, target_ids]
            for row in probs:
                check_ranked(list(np.sort(row)[::-1][: top_k + 1]), f"{task_dir} case {ci}", relative=True)
            check_stable(model, run, fill_decision, f"{task_dir} case {ci}")
            cases.append({"name": f"case{ci}", "inputs": {"text": text}, "options": options,
                          "expected": jsonable(expected), "logits": None, "input_ids": ids.tolist(),
                          "top_logits": [f32_nested(np.sort(r)[::-1][:10]) for r in mask_rows]})
        errors = []
        for text, opts in FILL_ERRORS:
            try:
                result = fill(text, **opts)
                sys.exit(f"{task_dir}: expected an error for {text!r} {opts}, got {result}")
            except Exception as e:  # noqa: BLE001 - recording whatever the pipeline raises
                errors.append({"inputs": {"text": text}, "options": {"top_k": None, "targets": None},
                               "python_error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"})
        return cases, errors

    cases, errors = retry(make, task_dir, first_seed)
    write_json(dir_ / "golden.json", golden("fill-mask", cases, errors, model_type=config["model_type"],
                                           tied_decoder=not untied, mask_token=AutoTokenizer.from_pretrained(
                                               dir_).mask_token))


# ---------------------------------------------------------------------------------------------------------------
# ELECTRA replaced-token detection (ElectraForPreTraining)

RTD_TEXTS = [
    "The chef cooked the meal.",
    "The chef ate the meal.",
    "Paris is the capital of France, and Berlin is the capital of Germany.",
    "Zoë ordered a café crème — très bien!",
    "",
    "A long text " + "that repeats itself, " * 12 + "and is cut at the window.",
]


def make_replaced_token_detection(encoder: dict, first_seed: int = 300) -> None:
    variant, task_dir = "electra", "electra-replaced-token-detection"
    dir_ = OUT_DIR / task_dir
    H = hidden_size(variant)
    config = variant_config(variant, "ElectraForPreTraining")
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER_DIR / VARIANTS[variant][3])
    # special_tokens_mask as the encoding reports it (the template's [CLS] / [SEP]; [UNK] is not special here).
    encodings = [tokenizer(t, truncation=True, max_length=MAX_TOKENS, return_offsets_mapping=True,
                           return_special_tokens_mask=True, return_tensors="pt") for t in RTD_TEXTS]
    model_kwargs = [{k: v for k, v in e.items() if k not in ("offset_mapping", "special_tokens_mask")}
                    for e in encodings]
    base = ElectraModel(ElectraConfig(**VARIANTS[variant][4]))
    base.load_state_dict({k[len("electra."):]: v.float() for k, v in encoder.items()})
    base.eval()
    with torch.no_grad():
        hidden = torch.cat([base(**kw).last_hidden_state[0] for kw in model_kwargs])  # [N, H]

    def make(seed):
        gen = torch.Generator().manual_seed(seed)
        dense_w, dense_b = stored(randn(gen, (H, H), LINEAR_STD)), stored(randn(gen, (H,), BIAS_STD))
        features = torch.nn.functional.gelu(hidden @ dense_w.float().T + dense_b.float())
        pred_w, pred_b = calibrated_linear(gen, features, 1, 2.0)
        head = {"discriminator_predictions.dense.weight": dense_w, "discriminator_predictions.dense.bias": dense_b,
                "discriminator_predictions.dense_prediction.weight": pred_w,
                "discriminator_predictions.dense_prediction.bias": pred_b}
        write_checkpoint(variant, dir_, encoder, head, config)
        model = load_model(ElectraForPreTraining, dir_, {**encoder, **head})
        cases, replaced, total = [], 0, 0
        for ti, (text, enc, kw) in enumerate(zip(RTD_TEXTS, encodings, model_kwargs)):
            with torch.no_grad():
                logits = model(**kw).logits[0]
            if logits.abs().min().item() < RTD_MARGIN:
                raise NearTie(f"{task_dir} text {ti}: a logit is within {RTD_MARGIN} of 0")
            replaced += int((logits > 0).sum())
            total += logits.numel()
            ids = kw["input_ids"][0].tolist()
            cases.append({"name": f"text{ti}", "inputs": {"text": text}, "options": {"max_length": MAX_TOKENS},
                          "input_ids": ids, "tokens": tokenizer.convert_ids_to_tokens(ids),
                          "offsets": enc["offset_mapping"][0].tolist(),
                          "special_tokens_mask": enc["special_tokens_mask"][0].tolist(),
                          "logits": f32_nested(logits), "probabilities": f32_nested(torch.sigmoid(logits)),
                          "replaced": [bool(v > 0) for v in logits]})
        if not 0.25 <= replaced / total <= 0.75:
            raise NearTie(f"{task_dir}: {replaced} of {total} tokens replaced")
        return cases

    cases = retry(make, task_dir, first_seed)
    write_json(dir_ / "golden.json", golden("replaced-token-detection", cases))


# ---------------------------------------------------------------------------------------------------------------
# ALBERT sentence-order prediction (AlbertForPreTraining)

SOP_PAIRS = [
    ("The weather is lovely today.", "Let's go for a walk in the park."),
    ("Let's go for a walk in the park.", "The weather is lovely today."),
    ("She opened the door.", "A cold wind blew into the room."),
    ("Zoë ordered a café crème.", "The waiter brought it with a croissant — très bien!"),
    ("First " + "and then more words " * 10, "second " + "segment with many words " * 10),
]


def make_sentence_order(encoder: dict, first_seed: int = 400) -> None:
    variant, task_dir = "albert", "albert-sentence-order"
    dir_ = OUT_DIR / task_dir
    config = variant_config(variant, "AlbertForPreTraining")
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER_DIR / VARIANTS[variant][3])
    tokenizer.model_max_length = MAX_TOKENS
    # transformers 5's AlbertTokenizer leaves token_type_ids out of its outputs (model_input_names), so
    # model(**tokenizer(a, b)) runs with every segment id 0: that is the golden (bertcpp gives what transformers
    # gives; heads::add_encoding feeds no token types to ALBERT). ALBERT was pretrained, and transformers 4 ran it,
    # with the template's segment ids (0 for A, 1 for B): those logits are recorded too, for reference.
    encodings = [tokenizer(a, b, truncation=True, return_tensors="pt") for a, b in SOP_PAIRS]
    if any("token_type_ids" in e for e in encodings):
        sys.exit(f"{task_dir}: this transformers' ALBERT tokenizer returns token_type_ids; revisit the golden")
    segment_ids = [tokenizer(a, b, truncation=True, return_token_type_ids=True, return_tensors="pt")["token_type_ids"]
                   for a, b in SOP_PAIRS]
    if max(e["input_ids"].shape[1] for e in encodings) != MAX_TOKENS:
        sys.exit(f"{task_dir}: no pair is truncated to {MAX_TOKENS} tokens")
    base = AlbertModel(AlbertConfig(**VARIANTS[variant][4]), add_pooling_layer=True)
    base.load_state_dict({k[len("albert."):]: v.float() for k, v in encoder.items()})
    base.eval()
    with torch.no_grad():
        pooled = torch.cat([base(**e).pooler_output for e in encodings])

    def make(seed):
        gen = torch.Generator().manual_seed(seed)
        weight, bias = calibrated_linear(gen, pooled, 2, 1.5)
        head = {**mlm_head(variant, gen, untied=False), "sop_classifier.classifier.weight": weight,
                "sop_classifier.classifier.bias": bias}
        write_checkpoint(variant, dir_, encoder, head, config)
        model = load_model(AlbertForPreTraining, dir_, {**encoder, **head})
        cases = []
        for ci, ((a, b), enc, types) in enumerate(zip(SOP_PAIRS, encodings, segment_ids)):
            with torch.no_grad():
                logits = model(**enc).sop_logits[0]
                with_segments = model(**enc, token_type_ids=types).sop_logits[0]
            p = torch.softmax(logits, dim=-1)
            check_ranked(sorted(p.tolist(), reverse=True), f"{task_dir} case {ci}")
            cases.append({"name": f"case{ci}", "inputs": {"text": a, "text_pair": b}, "options": {},
                          "expected": {"in_order": f32(p[0])}, "logits": f32_nested(logits),
                          "input_ids": enc["input_ids"][0].tolist(),
                          "segment_ids": types[0].tolist(), "logits_with_segment_ids": f32_nested(with_segments)})
        return cases

    cases = retry(make, task_dir, first_seed)
    write_json(dir_ / "golden.json", golden("sentence-order", cases, model_max_length=MAX_TOKENS))


# ---------------------------------------------------------------------------------------------------------------
# Sentence embeddings (sentence-transformers over the bare encoder)

ST_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A man is playing a guitar on the street.",
    "",
    "Ünïcödé àccents and naïve cafés in Zürich.",
    "Short.",
    "This sentence is long enough to be cut by the small max_seq_length of one of the directories, since it "
    "keeps going with more and more words, commas, and clauses, well past sixteen tokens.",
]
# variant -> (pooling, Normalize module, max_seq_length)
ST_SPECS = {
    "roberta": ("mean", True, MAX_TOKENS),
    "xlm-roberta": ("cls", False, 16),
    "albert": ("max", False, MAX_TOKENS),
    "electra": ("mean_sqrt_len", True, 20),
    "distilbert": ("mean", False, MAX_TOKENS),
    "mpnet": ("mean", True, 24),  # all-mpnet-base-v2's modules (its max_seq_length is 384)
}
POOLING_FLAGS = {"cls": "cls_token", "mean": "mean_tokens", "max": "max_tokens", "mean_sqrt_len": "mean_sqrt_len_tokens"}


def make_sentence_embeddings(variant: str, encoder: dict) -> None:
    from sentence_transformers import SentenceTransformer

    pooling, normalize, max_seq_length = ST_SPECS[variant]
    task_dir = f"{variant}-sentence-embeddings"
    dir_ = OUT_DIR / task_dir
    # The encoder shard keeps its prefixed names (transformers strips the prefix when loading a bare model).
    write_checkpoint(variant, dir_, encoder, {}, variant_config(variant, VARIANTS[variant][1].__name__))
    prefix = VARIANTS[variant][2]
    bare = {k[len(prefix):]: v for k, v in encoder.items()}
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
        (dir_ / "2_Normalize").mkdir()
    write_json(dir_ / "modules.json", modules)
    write_json(dir_ / "sentence_bert_config.json", {"max_seq_length": max_seq_length, "do_lower_case": False})
    (dir_ / "1_Pooling").mkdir()
    flags = {f"pooling_mode_{m}": m == POOLING_FLAGS[pooling] for m in POOLING_FLAGS.values()}
    write_json(dir_ / "1_Pooling" / "config.json", {"word_embedding_dimension": hidden_size(variant), **flags,
                                                    "pooling_mode_weightedmean_tokens": False,
                                                    "pooling_mode_lasttoken": False, "include_prompt": True})
    st = SentenceTransformer(str(dir_), device="cpu",
                             model_kwargs={"dtype": torch.float32, "attn_implementation": "eager"})
    if st.max_seq_length != max_seq_length:
        sys.exit(f"{dir_}: sentence-transformers reads max_seq_length {st.max_seq_length}, expected {max_seq_length}")
    state = st[0].auto_model.state_dict()
    for name, t in bare.items():
        if name in state and not torch.equal(state[name], t.float()):
            sys.exit(f"{dir_}: loaded {name} differs from what was written")
    emb = st.encode(ST_SENTENCES, convert_to_numpy=True)
    lengths = [len(st.tokenizer(s, truncation=True, max_length=max_seq_length)["input_ids"]) for s in ST_SENTENCES]
    if max_seq_length < MAX_TOKENS and max(lengths) != max_seq_length:
        sys.exit(f"{dir_}: no sentence is truncated to max_seq_length {max_seq_length}")
    ids = [st.tokenizer(s, truncation=True, max_length=max_seq_length)["input_ids"] for s in ST_SENTENCES]
    cases = [{"name": "sentences", "inputs": {"sentences": ST_SENTENCES},
              "options": {"pooling": pooling, "normalize": normalize, "max_seq_length": max_seq_length},
              "expected": f32_nested(emb), "logits": None, "token_counts": lengths, "input_ids": ids}]
    write_json(dir_ / "golden.json", golden("sentence-embeddings", cases, model_type=variant_config(
        variant, None)["model_type"]))
    print(f"  {task_dir}: {pooling}, normalize={normalize}, max_seq_length {max_seq_length}, token counts {lengths}")


# ---------------------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", choices=list(VARIANTS), help="make only these variants (repeatable)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    transformers.logging.set_verbosity_error()
    for variant in args.only or list(VARIANTS):
        print(variant)
        encoder = write_shared(variant)
        make_fill_mask(variant, encoder, untied=variant == "xlm-roberta", first_seed=100)
        make_sentence_embeddings(variant, encoder)
        if variant == "electra":
            make_replaced_token_detection(encoder)
        if variant == "albert":
            make_sentence_order(encoder)


if __name__ == "__main__":
    main()
