#!/usr/bin/env python3
"""Generates the golden fixtures of the task heads (tests/data/heads, tests/data/minilm/sentence_embeddings.json).

    python3 models/make_head_fixtures.py                          # everything transformers 5 can make
    python3 models/make_head_fixtures.py --only text-classification --only minilm
    python3 models/make_head_fixtures.py --qa-python /tmp/tf4/bin/python   # also question-answering (see below)

Every tests/data/heads/<task>/ is a real Hugging Face checkpoint directory that transformers (and, for the
sentence-embeddings-* directories, sentence-transformers) loads as it is, plus golden.json with inputs, options
and what the transformers pipeline / SentenceTransformer.encode returned for them. The tiny random encoder is
shared: heads/shared/encoder.safetensors is one shard of every directory's model.safetensors.index.json, reached
through a relative symlink in the directory; the head's own tensors are a second, small shard. The tokenizer is
the default model's real one (uncased BERT vocab), so tokenization, offsets and words are meaningful.

Question answering: transformers 5 dropped the question-answering pipeline, so its goldens come from the last
release line that has it (4.x) in a separate interpreter: `--qa-python PY` runs this same script there with
`--only question-answering --qa-child` after writing the checkpoint (the QA model itself still loads in
transformers 5, which the parent checks against the child's logits). See models/README.md.

Decisions of random heads are kept away from ties: after each task the script re-runs the pipeline with the
logits perturbed by +-1e-4 and requires the same labels / spans / tokens / order, and checks that ranked scores
are separated by more than 1e-3 (absolute for labels, relative for span and vocabulary probabilities); a head
that fails is re-drawn with the next seed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

import transformers
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    BertForNextSentencePrediction,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
)

REPO = Path(__file__).resolve().parent.parent
HEADS_DIR = REPO / "tests" / "data" / "heads"
SHARED_DIR = HEADS_DIR / "shared"
MINILM_JSON = REPO / "tests" / "data" / "minilm" / "sentence_embeddings.json"
DEFAULT_MODEL = REPO / "models" / "cache" / "all-MiniLM-L6-v2"

# The shared tiny encoder. intermediate 50 is not a multiple of 16 on purpose (kernel tails).
ENCODER = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=50,
               hidden_act="gelu", max_position_embeddings=128, type_vocab_size=2, layer_norm_eps=1e-12,
               pad_token_id=0, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
ENCODER_SEED = 4100
# Weight scales that keep activations O(1) (as make_encoder_fixtures.py): linear weights and embeddings
# N(0, 0.3), biases N(0, 0.1), LayerNorm weights 1 + N(0, 0.1).
LINEAR_STD, BIAS_STD, NORM_GAMMA_STD = 0.3, 0.1, 0.1
STORAGE = torch.float16

NOISE = 1e-4          # logit perturbation of the tie check
LABEL_MARGIN = 1e-3   # absolute margin between ranked label scores / per-token argmax probabilities
RANK_MARGIN = 1e-3    # relative margin between ranked span / vocabulary probabilities
MAX_TRIES = 40        # head seeds tried before giving up

QA_TASK = "question-answering"
TASKS = ["text-classification", "text-classification-multilabel", "text-classification-single",
         "sentence-embeddings", "minilm", "token-classification", QA_TASK, "fill-mask", "next-sentence"]

NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


class NearTie(Exception):
    """A head's decision is too close to a tie; the caller re-draws the head."""


# ---------------------------------------------------------------------------------------------------------------
# Small helpers


def f32(x) -> float:
    """A float32 value as the shortest decimal that reads back to the same float32."""
    return float(str(np.float32(x)))


def f32_nested(x):
    if isinstance(x, (list, tuple)):
        return [f32_nested(v) for v in x]
    if isinstance(x, np.ndarray) or torch.is_tensor(x):
        return f32_nested(x.tolist())
    return f32(x)


def jsonable(x):
    """Pipeline results (numpy / torch scalars inside dicts and lists) as plain JSON values; floats as float32."""
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if torch.is_tensor(x):
        x = x.numpy()
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        return f32(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    return x


def dumps(obj, indent: int = 0) -> str:
    """JSON with lists of numbers on one line (the goldens are mostly numbers) and everything else indented."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if not obj:
            return "[]"
        if all(not isinstance(v, (dict, list)) for v in obj):
            return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in obj) + "]"
        if all(isinstance(v, list) and all(not isinstance(w, (dict, list)) for w in v) for v in obj):
            return "[\n" + ",\n".join(inner + dumps(v) for v in obj) + "\n" + pad + "]"
        return "[\n" + ",\n".join(inner + dumps(v, indent + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False)


def write_json(path: Path, obj) -> None:
    path.write_text(dumps(obj) + "\n", encoding="utf-8")


def versions() -> dict:
    v = {"transformers_version": transformers.__version__, "torch_version": torch.__version__.split("+")[0]}
    import tokenizers
    v["tokenizers_version"] = tokenizers.__version__
    try:
        import sentence_transformers
        v["sentence_transformers_version"] = sentence_transformers.__version__
    except Exception:  # noqa: BLE001 - absent or incompatible with this transformers (the QA child)
        pass
    return v


def golden(task: str, cases: list, error_cases: list | None = None, **extra) -> dict:
    out = {"task": task, **versions(), **extra, "cases": cases}
    if error_cases:
        out["error_cases"] = error_cases
    return out


def randn(gen: torch.Generator, shape, std: float, mean: float = 0.0) -> torch.Tensor:
    return torch.randn(*shape, generator=gen) * std + mean


def stored(t: torch.Tensor) -> torch.Tensor:
    """Rounded to the storage dtype: the fp32 reference is computed from exactly what the file holds."""
    return t.to(STORAGE).contiguous()


@contextlib.contextmanager
def perturbed_logits(model, seed: int, amplitude: float = NOISE):
    """Adds uniform noise in [-amplitude, amplitude] to every logits tensor the model returns."""
    gen = torch.Generator().manual_seed(seed)

    def hook(_module, _inputs, output):
        for key in ("logits", "start_logits", "end_logits"):
            t = output.get(key) if isinstance(output, dict) else None
            if t is not None:
                t.add_((torch.rand(t.shape, generator=gen) * 2 - 1) * amplitude)
        return output

    handle = model.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def check_stable(model, run, decision, what: str, trials: int = 3) -> None:
    """run() -> result; decision(result) must not change when the logits move by NOISE."""
    reference = decision(run())
    for trial in range(trials):
        with perturbed_logits(model, seed=trial):
            if decision(run()) != reference:
                raise NearTie(f"{what}: decision changes under {NOISE:g} logit noise")


def check_ranked(scores, what: str, relative: bool = False) -> None:
    """Consecutive scores (best first) must differ by more than the margin (absolute or relative)."""
    for a, b in zip(scores, scores[1:]):
        gap = a - b
        if gap < 0:
            raise NearTie(f"{what}: scores not sorted ({a} then {b})")
        limit = RANK_MARGIN * abs(a) if relative else LABEL_MARGIN
        if gap <= limit:
            raise NearTie(f"{what}: ranked scores {a:.6g} and {b:.6g} are closer than {limit:.3g}")


def check_argmax(probs: np.ndarray, what: str) -> None:
    """Each row's best probability must beat the runner-up by more than LABEL_MARGIN."""
    top2 = np.sort(probs, axis=-1)[..., -2:]
    gap = (top2[..., 1] - top2[..., 0]).min()
    if gap <= LABEL_MARGIN:
        raise NearTie(f"{what}: an argmax margin is only {gap:.3g}")


def softmax_np(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def retry(make, name: str, first_seed: int):
    """Calls make(seed) with seeds first_seed, first_seed + 1, ... until no NearTie is raised."""
    for attempt in range(MAX_TRIES):
        try:
            result = make(first_seed + attempt)
            print(f"  {name}: head seed {first_seed + attempt}")
            return result
        except NearTie as e:
            print(f"  {name}: seed {first_seed + attempt} rejected: {e}")
    sys.exit(f"{name}: no head seed in {MAX_TRIES} tries gives well separated decisions")


# ---------------------------------------------------------------------------------------------------------------
# Checkpoint directories


def encoder_tensors() -> dict[str, torch.Tensor]:
    """The shared random encoder (with pooler), keyed as a BertFor* checkpoint stores it ("bert." prefix)."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(ENCODER_SEED)
    model = BertModel(BertConfig(**ENCODER))
    out = {}
    for name, p in model.named_parameters():
        if name.endswith("LayerNorm.weight"):
            t = randn(gen, p.shape, NORM_GAMMA_STD, 1.0)
        elif name.endswith(".bias"):
            t = randn(gen, p.shape, BIAS_STD)
        else:
            t = randn(gen, p.shape, LINEAR_STD)
        out["bert." + name] = stored(t)
    return out


def write_shared() -> dict[str, torch.Tensor]:
    SHARED_DIR.mkdir(parents=True, exist_ok=True)
    tensors = encoder_tensors()
    save_file(tensors, SHARED_DIR / "encoder.safetensors", metadata={"format": "pt"})
    for name in ("tokenizer.json", "vocab.txt"):
        shutil.copyfile(DEFAULT_MODEL / name, SHARED_DIR / name)
    return tensors


def link(dir_: Path, name: str) -> None:
    """dir_/name -> ../shared/name (relative, so the tree can move and git stores a symlink)."""
    target = dir_ / name
    if target.is_symlink() or target.exists():
        target.unlink()
    os.symlink(Path("..") / "shared" / name, target)


def tokenizer_files(dir_: Path, model_max_length: int) -> None:
    """The default model's tokenizer: tokenizer.json and vocab.txt shared, tokenizer_config.json with this
    directory's window (model_max_length), special_tokens_map.json."""
    link(dir_, "tokenizer.json")
    link(dir_, "vocab.txt")
    cfg = json.loads((DEFAULT_MODEL / "tokenizer_config.json").read_text())
    cfg.pop("name_or_path", None)
    cfg["model_max_length"] = model_max_length
    write_json(dir_ / "tokenizer_config.json", cfg)
    shutil.copyfile(DEFAULT_MODEL / "special_tokens_map.json", dir_ / "special_tokens_map.json")


def write_checkpoint(dir_: Path, encoder: dict[str, torch.Tensor], head: dict[str, torch.Tensor],
                     config: dict | None, model_max_length: int) -> None:
    """A checkpoint directory: config.json, model.safetensors.index.json over the shared encoder shard (symlink)
    and head.safetensors (when there are head tensors), and the tokenizer files."""
    if dir_.exists():
        shutil.rmtree(dir_)
    dir_.mkdir(parents=True)
    link(dir_, "encoder.safetensors")
    weight_map = {name: "encoder.safetensors" for name in sorted(encoder)}
    total = sum(t.numel() * t.element_size() for t in encoder.values())
    if head:
        save_file(head, dir_ / "head.safetensors", metadata={"format": "pt"})
        weight_map.update({name: "head.safetensors" for name in sorted(head)})
        total += sum(t.numel() * t.element_size() for t in head.values())
    write_json(dir_ / "model.safetensors.index.json", {"metadata": {"total_size": total}, "weight_map": weight_map})
    if config is not None:
        write_json(dir_ / "config.json", config)
    tokenizer_files(dir_, model_max_length)


def bert_config(architecture: str, **extra) -> dict:
    """config.json as transformers writes it for this architecture (plus `extra`), dtype float32."""
    cfg = BertConfig(**ENCODER, **extra)
    cfg.architectures = [architecture]
    d = json.loads(cfg.to_json_string(use_diff=True))  # what save_pretrained writes
    d["dtype"] = "float32"
    return d


def load_model(cls, dir_: Path, expect_unexpected: set[str] = frozenset(), expect_missing: set[str] = frozenset()):
    """from_pretrained in fp32 eager mode, requiring exactly the expected missing / unexpected keys."""
    model, info = cls.from_pretrained(dir_, dtype=torch.float32, attn_implementation="eager",
                                      output_loading_info=True)
    if set(info["unexpected_keys"]) != set(expect_unexpected) or set(info["missing_keys"]) != set(expect_missing):
        sys.exit(f"{dir_}: {cls.__name__} loaded with missing {sorted(info['missing_keys'])} and unexpected "
                 f"{sorted(info['unexpected_keys'])}; expected {sorted(expect_missing)} / {sorted(expect_unexpected)}")
    if info["mismatched_keys"] or info["error_msgs"]:
        sys.exit(f"{dir_}: {info}")
    return model.eval()


def check_weights(model, tensors: dict[str, torch.Tensor], dir_: Path) -> None:
    """The loaded model holds exactly the stored (rounded) values."""
    params = dict(model.named_parameters())
    prefix = "" if any(k.startswith("bert.") for k in params) else "bert."
    for name, t in tensors.items():
        key = name if prefix == "" else name[len(prefix):] if name.startswith(prefix) else name
        if key not in params:
            continue
        if not torch.equal(params[key].detach(), t.float()):
            sys.exit(f"{dir_}: loaded {key} differs from what was written")


def encoder_features(encoder: dict[str, torch.Tensor], texts: list) -> tuple[torch.Tensor, torch.Tensor,
                                                                            torch.Tensor]:
    """Hidden states of every real token [N, H], pooler outputs [B, H] and [CLS] hidden states [B, H] of the
    shared encoder for `texts` (strings or (text, pair) tuples): what a head sees, to calibrate random heads."""
    model = BertModel(BertConfig(**ENCODER), add_pooling_layer=True)
    model.load_state_dict({k[len("bert."):]: v.float() for k, v in encoder.items()})
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(DEFAULT_MODEL)
    tokens, pooled, first = [], [], []
    for t in texts:
        a, b = t if isinstance(t, tuple) else (t, None)
        enc = tokenizer(a, b, truncation=True, max_length=ENCODER["max_position_embeddings"], return_tensors="pt")
        with torch.no_grad():
            out = model(**enc)
        tokens.append(out.last_hidden_state[0])
        pooled.append(out.pooler_output[0])
        first.append(out.last_hidden_state[0, 0])
    return torch.cat(tokens), torch.stack(pooled), torch.stack(first)


def calibrated_linear(gen: torch.Generator, features: torch.Tensor, out: int, logit_std: float,
                      offsets: list[float] | None = None, components: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """A random nn.Linear [out, in] whose outputs over `features` have mean `offsets` (default 0) and standard
    deviation `logit_std` per output. A plain random head on a random encoder sees every input alike (the hidden
    states share a large common component) and gives the same label everywhere; its weights are therefore drawn
    in the span of the features' main directions of variation, which also keeps them small (|w| ~ logit_std /
    the spread of the features), so that float noise in the encoder is not amplified into the logits."""
    centered = features - features.mean(dim=0)
    _, _, vh = torch.linalg.svd(centered, full_matrices=False)
    k = min(components, features.shape[0] - 1)
    weight = randn(gen, (out, k), 1.0) @ vh[:k]
    z = features @ weight.T
    scale = logit_std / z.std(dim=0)
    weight = weight * scale[:, None]
    bias = -z.mean(dim=0) * scale + torch.tensor(offsets if offsets is not None else [0.0] * out)
    return stored(weight), stored(bias)


POOLER_KEYS = {"bert.pooler.dense.weight", "bert.pooler.dense.bias"}


# ---------------------------------------------------------------------------------------------------------------
# Sequence classification


CLS_TEXTS = [
    ("A gripping, funny film with a terrible ending.", None),
    ("The cat sat on the mat.", "A feline rested on the rug."),
    ("Ünïcödé àccents: naïve café — résumé!", None),
    ("", None),
    ("Is this the real life?", "Is this just fantasy?"),
    ("first part [SEP] second part", None),
    ("Stock markets fell sharply in Tokyo, London and New York on Monday.", None),
    ("東京は日本の首都です。", "Berlin ist die Hauptstadt Deutschlands."),
]
CLS_OPTIONS = [  # (top_k, function_to_apply); top_k None = all labels, function None = the default rule
    (None, None), (1, None), (2, "softmax"), (None, "softmax"), (None, "sigmoid"), (None, "none"), (1, "none"),
    (2, "sigmoid"),
]


def make_classification(encoder, task_dir: str, num_labels: int, id2label: dict | None, problem_type: str | None,
                        first_seed: int) -> None:
    from transformers import pipeline

    dir_ = HEADS_DIR / task_dir
    extra = {"num_labels": num_labels}
    if id2label is not None:
        extra["id2label"] = {i: l for i, l in enumerate(id2label)}
        extra["label2id"] = {l: i for i, l in enumerate(id2label)}
    if problem_type is not None:
        extra["problem_type"] = problem_type
    config = bert_config("BertForSequenceClassification", **extra)
    if id2label is None:  # no id2label in the file: readers fall back to LABEL_<i> from num_labels
        config.pop("id2label", None)
        config.pop("label2id", None)
        config["num_labels"] = num_labels

    _, pooled, _ = encoder_features(encoder, list(CLS_TEXTS))

    def make(seed):
        gen = torch.Generator().manual_seed(seed)
        # Logits of std ~1.5 across the texts: labels vary and no probability is vanishingly small.
        weight, bias = calibrated_linear(gen, pooled, num_labels, 1.5)
        head = {"classifier.weight": weight, "classifier.bias": bias}
        write_checkpoint(dir_, encoder, head, config, model_max_length=ENCODER["max_position_embeddings"])
        model = load_model(BertForSequenceClassification, dir_)
        check_weights(model, {**encoder, **head}, dir_)
        tokenizer = AutoTokenizer.from_pretrained(dir_)
        clf = pipeline("text-classification", model=model, tokenizer=tokenizer)
        cases = []
        for ti, (text, pair) in enumerate(CLS_TEXTS):
            enc = tokenizer(text, pair, return_tensors="pt")
            with torch.no_grad():
                logits = model(**enc).logits[0]
            for oi, (top_k, fn) in enumerate(CLS_OPTIONS):
                if num_labels == 1 and top_k == 2:
                    continue
                kwargs = {"top_k": top_k}
                if fn is not None:
                    kwargs["function_to_apply"] = fn
                inp = {"text": text, "text_pair": pair}

                def run():
                    return clf(dict(inp) if pair is not None else text, **kwargs)

                expected = run()
                check_ranked([e["score"] for e in expected], f"{task_dir} text {ti} options {oi}")
                check_stable(model, run, lambda r: [e["label"] for e in r], f"{task_dir} text {ti} options {oi}")
                cases.append({"name": f"text{ti}_{top_k if top_k is not None else 'all'}_{fn or 'default'}",
                              "inputs": inp, "options": {"top_k": top_k, "function_to_apply": fn},
                              "expected": jsonable(expected), "logits": f32_nested(logits),
                              "input_ids": enc["input_ids"][0].tolist()})
        # A text longer than max_position_embeddings: the pipeline does not truncate by default.
        errors = []
        for text in ("word " * 200,):
            try:
                result = clf(text)
                sys.exit(f"{task_dir}: expected an error for a {len(text)}-character text, got {result}")
            except Exception as e:  # noqa: BLE001 - recording whatever the pipeline raises
                errors.append({"inputs": {"text": text, "text_pair": None},
                               "options": {"top_k": None, "function_to_apply": None},
                               "python_error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"})
        return cases, errors

    cases, errors = retry(make, task_dir, first_seed)
    write_json(dir_ / "golden.json", golden("text-classification", cases, errors, num_labels=num_labels,
                                           problem_type=problem_type))


# ---------------------------------------------------------------------------------------------------------------
# Sentence embeddings (sentence-transformers)

ST_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A man is playing a guitar on the street.",
    "",
    "   ",
    "Ünïcödé àccents and naïve cafés in Zürich.",
    "Was kostet die Fahrkarte nach München?",
    "東京タワーは美しい。",
    "Short.",
    "This sentence is long enough to be cut by the small max_seq_length of one of the directories, since it "
    "keeps going with more and more words, commas, and clauses, well past sixteen tokens.",
    "Numbers like 3.14159, 2,718 and 1e-9 are tokenized piece by piece!",
]

# directory suffix -> (pooling, sentence-transformers file layout, Normalize module, max_seq_length, Dense modules
# as (out_features, bias, torch.nn activation, use_residual))
ST_SPECS = {
    # The classic layout every hub model has: modules.json with sentence_transformers.models.*, 1_Pooling/
    # config.json with pooling_mode_* flags, sentence_bert_config.json with max_seq_length.
    "cls": ("cls", "classic", True, 128, []),
    "max": ("max", "classic", False, 16, []),
    # As sentence-transformers >= 5 saves it: pooling_mode "mean_sqrt_len_tokens", max_seq_length as the
    # tokenizer's model_max_length in tokenizer_config.json, no max_seq_length in sentence_bert_config.json.
    "mean_sqrt_len": ("mean_sqrt_len", "saved", False, 24, []),
    "weightedmean": ("weightedmean", "saved", False, 24, []),
    "lasttoken": ("lasttoken", "saved", True, 20, []),
    # Dense modules after the pooling, as LaBSE (Dense tanh + Normalize) and distiluse-* (Dense 768 -> 512 tanh)
    # have them: a projection with bias and tanh, one without bias or activation, a residual one of equal sizes
    # and a residual one whose sizes differ (its residual goes through a projection of its own).
    "dense": ("mean", "saved", True, 32, [(40, True, "Tanh", False), (24, False, "Identity", False),
                                          (24, True, "GELU", True), (16, True, "ReLU", True)]),
    # Several pooling modes, concatenated: a list in its own order (not the canonical one, a repeat included)
    # feeding a Dense module of 4 x hidden inputs; and the legacy booleans (sentence-transformers orders them).
    "concat": (("max", "cls", "mean", "max"), "saved", True, 24, [(20, True, "Tanh", False)]),
    "concat-legacy": (("cls", "mean_sqrt_len", "lasttoken"), "classic", False, 24, []),
}
DENSE_SEED = 4242


def st_pooling_mode(pooling):
    """sentence-transformers' name(s) of a pooling spec: a mode or a tuple of modes."""
    rename = {"mean_sqrt_len": "mean_sqrt_len_tokens"}
    return rename.get(pooling, pooling) if isinstance(pooling, str) else tuple(rename.get(p, p) for p in pooling)


def write_st_classic(dir_: Path, pooling, normalize: bool, max_seq_length: int) -> None:
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
        (dir_ / "2_Normalize").mkdir()
    write_json(dir_ / "modules.json", modules)
    write_json(dir_ / "sentence_bert_config.json", {"max_seq_length": max_seq_length, "do_lower_case": False})
    (dir_ / "1_Pooling").mkdir()
    modes = (pooling,) if isinstance(pooling, str) else pooling
    flag_of = {"cls": "cls_token", "mean": "mean_tokens", "max": "max_tokens", "mean_sqrt_len": "mean_sqrt_len_tokens",
               "weightedmean": "weightedmean_tokens", "lasttoken": "lasttoken"}
    flags = {f"pooling_mode_{flag}": mode in modes for mode, flag in flag_of.items()}
    write_json(dir_ / "1_Pooling" / "config.json", {"word_embedding_dimension": ENCODER["hidden_size"], **flags,
                                                    "include_prompt": True})


def write_st_saved(dir_: Path, pooling: str, normalize: bool, max_seq_length: int, dense=(), include_prompt=True,
                   prompts=None, default_prompt_name=None) -> None:
    """Saves a SentenceTransformer over the checkpoint with sentence-transformers itself, then puts the shared
    encoder shard and tokenizer back in place of the full copies it writes."""
    from sentence_transformers import SentenceTransformer, models
    from torch import nn

    tmp = dir_.parent / (dir_.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    modules = [models.Transformer(str(dir_), max_seq_length=max_seq_length,
                                  model_kwargs={"dtype": torch.float32, "attn_implementation": "eager"}),
               models.Pooling(ENCODER["hidden_size"],
                              pooling_mode=st_pooling_mode(pooling), include_prompt=include_prompt)]
    torch.manual_seed(DENSE_SEED)
    width = ENCODER["hidden_size"] * (1 if isinstance(pooling, str) else len(pooling))
    for out_features, bias, activation, residual in dense:
        modules.append(models.Dense(width, out_features, bias=bias, activation_function=getattr(nn, activation)(),
                                    use_residual=residual))
        width = out_features
    if normalize:
        modules.append(models.Normalize())
    SentenceTransformer(modules=modules, prompts=prompts, default_prompt_name=default_prompt_name).save(str(tmp))
    for name in ("model.safetensors", "tokenizer.json", "README.md", "config.json", "vocab.txt",
                 "special_tokens_map.json"):
        if (tmp / name).exists():
            (tmp / name).unlink()
    for item in tmp.iterdir():
        target = dir_ / item.name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        shutil.move(str(item), str(target))
    shutil.rmtree(tmp)


def make_sentence_embeddings(encoder) -> None:
    from sentence_transformers import SentenceTransformer

    config = bert_config("BertModel")
    for suffix, (pooling, layout, normalize, max_seq_length, dense) in ST_SPECS.items():
        dir_ = HEADS_DIR / f"sentence-embeddings-{suffix}"
        write_checkpoint(dir_, encoder, {}, config, model_max_length=ENCODER["max_position_embeddings"])
        if layout == "classic":
            write_st_classic(dir_, pooling, normalize, max_seq_length)
        else:
            write_st_saved(dir_, pooling, normalize, max_seq_length, dense)
        st = SentenceTransformer(str(dir_), device="cpu",
                                 model_kwargs={"dtype": torch.float32, "attn_implementation": "eager"})
        if st.max_seq_length != max_seq_length:
            sys.exit(f"{dir_}: sentence-transformers reads max_seq_length {st.max_seq_length}, "
                     f"expected {max_seq_length}")
        check_weights(st[0].auto_model, encoder, dir_)
        if st[1].pooling_mode != st_pooling_mode(pooling):
            sys.exit(f"{dir_}: sentence-transformers reads pooling {st[1].pooling_mode}, expected {pooling}")
        emb = st.encode(ST_SENTENCES, convert_to_numpy=True)
        if emb.dtype != np.float32:
            sys.exit(f"{dir_}: embeddings are {emb.dtype}")
        tokenizer = st.tokenizer
        lengths = [len(tokenizer(s, truncation=True, max_length=max_seq_length)["input_ids"]) for s in ST_SENTENCES]
        if max(lengths) != max_seq_length and max_seq_length < ENCODER["max_position_embeddings"]:
            sys.exit(f"{dir_}: no sentence is truncated to max_seq_length {max_seq_length}")
        cases = [{"name": "sentences", "inputs": {"sentences": ST_SENTENCES},
                  "options": {"pooling": pooling, "normalize": normalize, "max_seq_length": max_seq_length,
                              "layout": layout, "dimension": int(emb.shape[1]),
                              "dense": [{"out_features": o, "bias": b, "activation": a, "use_residual": r}
                                        for o, b, a, r in dense]},
                  "expected": f32_nested(emb), "logits": None, "token_counts": lengths}]
        write_json(dir_ / "golden.json", golden("sentence-embeddings", cases))
        print(f"  sentence-embeddings-{suffix}: {layout} layout, normalize={normalize}, max_seq_length "
              f"{max_seq_length}, token counts {lengths}")


# Prompts (config_sentence_transformers.json): suffix -> (pooling, include_prompt, prompts, default_prompt_name,
# the calls as (case name, prompt_name, prompt, method: encode, encode_query or encode_document))
ST_PROMPT_SPECS = {
    # E5 / INSTRUCTOR style: a default prompt, the prompt's tokens ([CLS] included) left out of mean pooling.
    "prompts": ("mean", False, {"query": "query: ", "passage": "passage: "}, "query",
                [("default prompt", None, None, "encode"), ("prompt_name passage", "passage", None, "encode"),
                 ("explicit prompt", None, "Represent this sentence for searching relevant passages: ", "encode"),
                 ("empty prompt turns the default off", None, "", "encode"),
                 # "document" (empty: the model sets none) is encode_document's first choice, before "passage"
                 ("encode_document: the empty document prompt turns the default off", None, None, "encode_document"),
                 ("encode_query with prompt_name passage", "passage", None, "encode_query")]),
    # Prompts kept in the pooling (include_prompt true, sentence-transformers' default), no default prompt.
    "prompts-included": ("cls", True, {"query": "Query - ", "doc": "Ünïcödé document: "}, None,
                         [("no prompt", None, None, "encode"), ("prompt_name query", "query", None, "encode"),
                          ("prompt_name doc", "doc", None, "encode"), ("encode_query", None, None, "encode_query"),
                          ("encode_document", None, None, "encode_document")]),
}


def make_prompt_embeddings(encoder) -> None:
    from sentence_transformers import SentenceTransformer

    config = bert_config("BertModel")
    for suffix, (pooling, include_prompt, prompts, default_name, calls) in ST_PROMPT_SPECS.items():
        dir_ = HEADS_DIR / f"sentence-embeddings-{suffix}"
        max_seq_length = 24
        write_checkpoint(dir_, encoder, {}, config, model_max_length=ENCODER["max_position_embeddings"])
        write_st_saved(dir_, pooling, True, max_seq_length, include_prompt=include_prompt, prompts=prompts,
                       default_prompt_name=default_name)
        st = SentenceTransformer(str(dir_), device="cpu",
                                 model_kwargs={"dtype": torch.float32, "attn_implementation": "eager"})
        # (sentence-transformers adds empty "query" / "document" prompts for encode_query / encode_document.)
        if any(st.prompts.get(k) != v for k, v in prompts.items()) or st.default_prompt_name != default_name:
            sys.exit(f"{dir_}: sentence-transformers reads prompts {st.prompts}, default {st.default_prompt_name}")
        check_weights(st[0].auto_model, encoder, dir_)
        cases = []
        for name, prompt_name, prompt, method in calls:
            emb = getattr(st, method)(ST_SENTENCES, convert_to_numpy=True, prompt_name=prompt_name, prompt=prompt)
            cases.append({"name": name, "inputs": {"sentences": ST_SENTENCES},
                          "options": {"pooling": pooling, "include_prompt": include_prompt, "prompt_name": prompt_name,
                                      "prompt": prompt, "method": method, "max_seq_length": max_seq_length},
                          "expected": f32_nested(emb), "logits": None})
        write_json(dir_ / "golden.json", golden("sentence-embeddings", cases))
        print(f"  sentence-embeddings-{suffix}: {pooling} pooling, include_prompt={include_prompt}, "
              f"{len(cases)} prompt cases")


# ---------------------------------------------------------------------------------------------------------------
# The default model's sentence embeddings

MINILM_LONG = (
    "The old lighthouse stood at the edge of the cliff for more than two centuries, watching over fishermen, "
    "merchants and the occasional lost traveller who mistook the bay for a safe harbour. Its keepers changed "
    "with the generations: first a retired sailor who kept a logbook full of weather notes, then his daughter, "
    "who taught herself mathematics by candlelight and later wrote letters to the observatory in the capital, "
    "then a quiet family who grew potatoes in the sheltered garden behind the tower. When the electric lamp "
    "arrived in 1921, the villagers gathered on the rocks to see it switched on, and many of them swore that "
    "the beam reached the islands thirty kilometres away. Storms came every winter; one of them, in 1953, tore "
    "the roof off the keeper's cottage and flooded the lower rooms, but the light itself never failed. Today "
    "the lighthouse is automated, maintained by engineers who visit twice a year, and the cottage has become a "
    "small museum with photographs, brass instruments, a barometer that still works, and the original logbook "
    "open at a page describing a calm September evening, the sea like glass, and a flock of geese flying south "
    "in a perfect line across the orange sky. Visitors climb the one hundred and twelve steps, pause at the "
    "narrow windows to catch their breath, and at the top they look out over the water, imagining the ships "
    "that passed in the dark, guided home by a flame, then a lamp, and now a circuit that nobody needs to tend."
)

MINILM_SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "What is the capital of France?",
    "Paris is the capital and most populous city of France.",
    "How do I install the library on Linux?",
    "Run `cmake -S . -B build && cmake --build build -j2`, then `ctest --test-dir build`.",
    "Email me at jane.doe@example.com or visit https://example.org/docs?page=2#install.",
    "Prices rose 3.5% in Q3 2024, to $1,299.99 per unit.",
    "Wow!!! This is... unbelievable?! (Really.)",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
    "Le chat dort sur le canapé pendant que la pluie tombe.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "¿Dónde está la estación de tren más cercana?",
    "Il mio libro preferito è sul tavolo della cucina.",
    "Москва — столица России.",
    "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
    "東京は日本の首都です。",
    "北京是中国的首都。",
    "서울은 대한민국의 수도입니다.",
    "القاهرة هي عاصمة مصر.",
    "दिल्ली भारत की राजधानी है।",
    "Zoë, Chloé and Anaïs met at the café in Kraków.",
    "I ❤️ pizza 🍕 and sushi 🍣!",
    "hello",
    "",
    "Transformers encode sentences into dense vectors that capture their meaning.",
    "The weather today is sunny with a light breeze from the west.",
    MINILM_LONG,
]


def make_minilm() -> None:
    from sentence_transformers import SentenceTransformer

    if not (DEFAULT_MODEL / "model.safetensors").exists():
        sys.exit(f"{DEFAULT_MODEL} is missing: run models/fetch_default_model.sh")
    st = SentenceTransformer(str(DEFAULT_MODEL), device="cpu",
                             model_kwargs={"dtype": torch.float32, "attn_implementation": "eager"})
    if st.max_seq_length != 256:
        sys.exit(f"all-MiniLM-L6-v2: max_seq_length {st.max_seq_length}, expected 256")
    emb = st.encode(MINILM_SENTENCES, convert_to_numpy=True)
    lengths = [len(st.tokenizer(s)["input_ids"]) for s in MINILM_SENTENCES]
    if max(lengths) <= 256:
        sys.exit(f"no MiniLM sentence is longer than 256 tokens: {lengths}")
    MINILM_JSON.parent.mkdir(parents=True, exist_ok=True)
    write_json(MINILM_JSON, {"model": "sentence-transformers/all-MiniLM-L6-v2", **versions(),
                             "max_seq_length": 256, "normalize": True, "pooling": "mean",
                             "token_counts_untruncated": lengths,
                             "sentences": MINILM_SENTENCES, "embeddings": f32_nested(emb)})
    print(f"  minilm: {len(MINILM_SENTENCES)} sentences, token counts {lengths}")


# ---------------------------------------------------------------------------------------------------------------
# Token classification (NER)

NER_WINDOW = 32  # model_max_length of the directory: small, so that texts need several windows
NER_LONG = (
    "In March 2019, Dr. Amelia Hawthorne of the University of Edinburgh flew from London to Buenos Aires with "
    "her colleague Rafael Domínguez-Ortega. They met representatives of Siemens, the World Health Organization "
    "and Médecins Sans Frontières near the Río de la Plata, then travelled on to Montevideo, Uruguay, where "
    "Hawthorne presented the Kirchhoff–Helmholtz results at the Universidad de la República."
)
NER_TEXTS = {
    "people": "Angela Merkel visited Paris and met Emmanuel Macron at the Élysée Palace.",
    "subwords": "Tchaikovsky's unbelievably extraordinary compositions mesmerized Reykjavík audiences.",
    "punctuation": "Zoë Saldaña (born 1978) — «actress» from New Jersey, U.S.A.!",
    "combining": "Jose\u0301 Marti\u0301nez lives in Bogota\u0301.",
    "cjk": "李明在北京大学工作。Apple Inc. hired him.",
    "unknown": "I \u2764\ufe0f New York \U0001F355 and " + "x" * 101 + " too.",
    "whitespace": "  New   York\tCity\nis  big  ",
    "empty": "",
    "blank": " \t\n ",
    "long": NER_LONG,
}
# (text, aggregation_strategy, ignore_labels, stride); ignore_labels None = the pipeline's default ["O"]
NER_CASES = (
    [(t, a, None, None) for t in ("people", "subwords", "punctuation", "combining", "cjk", "unknown", "whitespace")
     for a in ("none", "simple", "first", "average", "max")]
    + [("empty", "none", None, None), ("empty", "simple", None, None), ("blank", "first", None, None),
       ("people", "simple", [], None), ("people", "none", ["O", "I-PER", "B-LOC"], None),
       ("subwords", "average", ["PER", "MISC"], None), ("punctuation", "max", ["O", "ORG"], None)]
    + [("long", a, None, None) for a in ("none", "simple", "average")]
    + [("long", a, None, 8) for a in ("simple", "first", "average", "max")]
    + [("long", "simple", None, 0), ("long", "first", None, 16), ("long", "max", [], 4),
       ("punctuation", "first", None, 10), ("empty", "simple", None, 8)]
)


@contextlib.contextmanager
def recorded_forwards(model):
    """Records (inputs, outputs) of every forward call the pipeline makes."""
    calls = []

    def hook(_module, args, kwargs, output):
        calls.append(({k: v.detach().clone() for k, v in kwargs.items() if torch.is_tensor(v)},
                      {k: v.detach().clone() for k, v in output.items() if torch.is_tensor(v)}))

    handle = model.register_forward_hook(hook, with_kwargs=True)
    try:
        yield calls
    finally:
        handle.remove()


def ner_decision(entities):
    return [(e.get("entity"), e.get("entity_group"), e["word"], e["start"], e["end"], e.get("index"))
            for e in entities]


def make_token_classification(encoder, first_seed: int = 500) -> None:
    from transformers import pipeline

    dir_ = HEADS_DIR / "token-classification"
    config = bert_config("BertForTokenClassification", num_labels=len(NER_LABELS),
                         id2label={i: l for i, l in enumerate(NER_LABELS)},
                         label2id={l: i for i, l in enumerate(NER_LABELS)})

    tokens, _, _ = encoder_features(encoder, list(NER_TEXTS.values()))

    def make(seed):
        gen = torch.Generator().manual_seed(seed)
        # Logits of std ~2 across tokens; O and the I- labels get a head start so that entities are sparse and
        # some span several tokens.
        offsets = [2.0] + [0.0, 0.6] * 4
        weight, bias = calibrated_linear(gen, tokens, len(NER_LABELS), 2.0, offsets)
        head = {"classifier.weight": weight, "classifier.bias": bias}
        write_checkpoint(dir_, encoder, head, config, model_max_length=NER_WINDOW)
        model = load_model(BertForTokenClassification, dir_, expect_unexpected=POOLER_KEYS)
        check_weights(model, {**encoder, **head}, dir_)
        tokenizer = AutoTokenizer.from_pretrained(dir_)
        ner = pipeline("token-classification", model=model, tokenizer=tokenizer)
        cases = []
        stats = {"entities": 0, "multi_token_groups": 0, "windows": 0}
        for key, aggregation, ignore, stride in NER_CASES:
            text = NER_TEXTS[key]
            kwargs = {"aggregation_strategy": aggregation}
            if ignore is not None:
                kwargs["ignore_labels"] = ignore
            if stride is not None:
                kwargs["stride"] = stride
            name = f"{key}_{aggregation}" + (f"_stride{stride}" if stride is not None else "") + \
                   (f"_ignore{len(ignore)}" if ignore is not None else "")

            def run():
                return ner(text, **kwargs)

            with recorded_forwards(model) as calls:
                expected = run()
            ids, logits = [], []
            for inputs, outputs in calls:
                mask = inputs["attention_mask"][0].bool()
                ids.append(inputs["input_ids"][0][mask].tolist())
                win_logits = outputs["logits"][0][mask]
                logits.append(f32_nested(win_logits))
                specials = torch.tensor([i in tokenizer.all_special_ids for i in ids[-1]])
                if (~specials).any():
                    check_argmax(softmax_np(win_logits[~specials].numpy()), f"token-classification {name}")
            check_stable(model, run, ner_decision, f"token-classification {name}")
            stats["entities"] += len(expected)
            stats["windows"] += len(calls)
            stats["multi_token_groups"] += sum(1 for e in expected if " " in e["word"] or "##" in e["word"] or
                                               (e["end"] - e["start"] > len(e["word"])))
            cases.append({"name": name, "inputs": {"text": text},
                          "options": {"aggregation_strategy": aggregation, "ignore_labels": ignore,
                                      "stride": stride},
                          "expected": jsonable(expected), "logits": logits, "input_ids": ids})
        print(f"  token-classification: {len(cases)} cases, {stats}")
        return cases

    cases = retry(make, "token-classification", first_seed)
    write_json(dir_ / "golden.json", golden("token-classification", cases, model_max_length=NER_WINDOW,
                                           labels=NER_LABELS))


# ---------------------------------------------------------------------------------------------------------------
# Extractive question answering

QA_WINDOW = ENCODER["max_position_embeddings"]
QA_LONG = (
    "The Millbrook Observatory was founded in 1887 by the astronomer Clara Voss, who had studied in Leipzig "
    "and Uppsala before returning to her native valley. Its first telescope, a refractor with a lens ground in "
    "Munich, arrived by train in the winter of 1889 and was carried up the hill on an ox cart. Voss catalogued "
    "more than four thousand variable stars over three decades. After her death in 1924 the observatory was "
    "run by her nephew, Tobias Renner, who added a spectrograph and a small library. During the war the "
    "building served as a weather station. In 1961 the university bought the site, and today students from "
    "twelve countries spend their summers there measuring the light curves of distant binaries. The original "
    "refractor still works; it is used on public nights every second Friday, when visitors queue on the "
    "gravel path to look at Saturn, the Moon and, on clear autumn evenings, the Andromeda galaxy."
)
QA_SHORT = "My name is Wolfgang and I live in Berlin. My sister Ana lives in São Paulo, Brazil."
QA_ACCENTS = ("Zoë Saldaña ❤️ moved to Zürich in 2003; the café «Au Naïf» on Bahnhofstraße 12 "
              "is where she met François Truffaut's grandson.")
QA_REPEAT = ("The cat chased the dog, the dog chased the cat, and the cat and the dog slept by the fire while "
             "the bird watched the cat, the dog and the fire.")
QA_QUESTION_LONG = ("Considering everything that the text says about the founder, the instruments, the wars, "
                    "the university and the visitors, who catalogued the stars?")
# (question, context, options); an option left None is the pipeline's default.
QA_CASES = [
    ("Where does Wolfgang live?", QA_SHORT, {}),
    ("Where does Ana live?", QA_SHORT, {"top_k": 3}),
    ("Who founded the observatory?", QA_LONG, {}),
    ("Who founded the observatory?", QA_LONG, {"top_k": 5}),
    ("When did the telescope arrive?", QA_LONG, {"max_seq_len": 64, "doc_stride": 16, "top_k": 3}),
    ("When did the telescope arrive?", QA_LONG, {"max_seq_len": 48, "doc_stride": 24, "top_k": 4,
                                                 "max_answer_len": 4}),
    ("What is used on public nights?", QA_LONG, {"max_seq_len": 40, "doc_stride": 8, "max_answer_len": 1,
                                                 "top_k": 2}),
    ("What is used on public nights?", QA_LONG, {"max_seq_len": 96, "doc_stride": 32, "max_answer_len": 30,
                                                 "top_k": 3}),
    ("Is there an answer?", QA_SHORT, {"handle_impossible_answer": True}),
    ("Is there an answer?", QA_SHORT, {"handle_impossible_answer": True, "top_k": 10}),
    ("Is there an answer?", QA_LONG, {"handle_impossible_answer": True, "top_k": 6, "max_seq_len": 64,
                                      "doc_stride": 20}),
    ("Where did Zoë move?", QA_ACCENTS, {"top_k": 4}),
    ("Who met the grandson?", QA_ACCENTS, {"handle_impossible_answer": True, "top_k": 5}),
    ("Which café?", QA_ACCENTS, {"max_answer_len": 3, "top_k": 3}),
    ("Who chased whom?", QA_REPEAT, {"top_k": 8}),
    (QA_QUESTION_LONG, QA_LONG, {"max_seq_len": 48, "doc_stride": 8, "top_k": 3}),
    (QA_QUESTION_LONG, QA_LONG, {"max_seq_len": 64, "doc_stride": 16, "max_question_len": 4}),
    ("  where   does wolfgang LIVE ?  ", "  " + QA_SHORT + "  ", {"top_k": 2}),
    ("Where?", "Berlin.", {"top_k": 3}),
    # Three spans ("berlin", "berlin .", ".") and the null answer: it has to be in the list.
    ("Where?", "Berlin.", {"top_k": 4, "handle_impossible_answer": True}),
]
QA_OPTION_NAMES = ["top_k", "doc_stride", "max_answer_len", "max_seq_len", "max_question_len",
                   "handle_impossible_answer"]
QA_ERRORS = [
    ("", QA_SHORT, {}),
    ("Where does Wolfgang live?", "", {}),
    ("Where does Wolfgang live?", QA_SHORT, {"max_seq_len": 32, "doc_stride": 40}),
    (QA_QUESTION_LONG, QA_SHORT, {"max_seq_len": 24, "doc_stride": 4}),
    ("Where does Wolfgang live?", QA_SHORT, {"top_k": 0}),
    ("Where does Wolfgang live?", QA_SHORT, {"max_answer_len": 0}),
]


def qa_cutoff_is_close(start: np.ndarray, end: np.ndarray, p_mask: np.ndarray, keep: int,
                       max_answer_len: int) -> bool:
    """The pipeline keeps the best `keep` spans of each window (argpartition) before mapping them to text and
    summing spans of equal text. True when the last span kept and the first one dropped are a near-tie (float
    noise could swap them)."""
    undesired = p_mask.astype(bool)
    s = softmax_np(np.where(undesired, -10000.0, start).astype(np.float32))
    e = softmax_np(np.where(undesired, -10000.0, end).astype(np.float32))
    s[0] = e[0] = 0.0
    ranked = np.sort(np.tril(np.triu(np.outer(s, e)), max_answer_len - 1).ravel())[::-1]
    if len(ranked) <= keep or ranked[keep] < 1e-6:  # a dropped span that small cannot move a score visibly
        return False
    return ranked[keep - 1] - ranked[keep] <= RANK_MARGIN * ranked[keep - 1]


@contextlib.contextmanager
def qa_kept_spans_delta(delta: int):
    """Makes the QA pipeline keep `delta` more (or fewer) spans per window than it does."""
    import transformers.pipelines.question_answering as qa_module

    original = qa_module.select_starts_ends

    def patched(start, end, p_mask, attention_mask, min_null_score, top_k, *rest):
        return original(start, end, p_mask, attention_mask, min_null_score, top_k + delta, *rest)

    qa_module.select_starts_ends = patched
    try:
        yield
    finally:
        qa_module.select_starts_ends = original


def qa_same(a: list, b: list) -> bool:
    return len(a) == len(b) and all((x["start"], x["end"], x["answer"]) == (y["start"], y["end"], y["answer"]) and
                                    abs(x["score"] - y["score"]) <= 1e-6 for x, y in zip(a, b))


def make_question_answering(encoder, first_seed: int = 600) -> None:
    from transformers import pipeline

    dir_ = HEADS_DIR / QA_TASK
    config = bert_config("BertForQuestionAnswering")

    tokens, _, _ = encoder_features(encoder, [(q, c) for q, c, _ in QA_CASES])

    def make(seed):
        gen = torch.Generator().manual_seed(seed)
        # Start / end logits of std ~2.5 across tokens: a few spans stand out in each window.
        weight, bias = calibrated_linear(gen, tokens, 2, 2.5)
        head = {"qa_outputs.weight": weight, "qa_outputs.bias": bias}
        write_checkpoint(dir_, encoder, head, config, model_max_length=QA_WINDOW)
        model = load_model(BertForQuestionAnswering, dir_, expect_unexpected=POOLER_KEYS)
        check_weights(model, {**encoder, **head}, dir_)
        tokenizer = AutoTokenizer.from_pretrained(dir_)
        qa = pipeline("question-answering", model=model, tokenizer=tokenizer)
        merges = {"n": 0}
        original_get_answer = qa.get_answer

        def counting_get_answer(answers, target):  # how often the pipeline sums a span into an earlier answer
            found = original_get_answer(answers, target)
            merges["n"] += found is not None
            return found

        qa.get_answer = counting_get_answer
        cases = []
        for ci, (question, context, opts) in enumerate(QA_CASES):
            options = {k: opts.get(k) for k in QA_OPTION_NAMES}
            kwargs = {k: v for k, v in opts.items()}
            name = f"case{ci}"

            def run():
                r = qa(question=question, context=context, **kwargs)
                return r if isinstance(r, list) else [r]

            merges["n"] = 0
            with recorded_forwards(model) as calls:
                expected = run()
            case_merges = merges["n"]
            ids, starts, ends = [], [], []
            top_k = opts.get("top_k", 1)
            for inputs, outputs in calls:
                ids.append(inputs["input_ids"][0].tolist())
                starts.append(f32_nested(outputs["start_logits"][0]))
                ends.append(f32_nested(outputs["end_logits"][0]))
                # p_mask as the pipeline builds it: everything but the context tokens, except [CLS]
                types = inputs["token_type_ids"][0].numpy()
                p_mask = ((types != 1) | (inputs["input_ids"][0].numpy() == tokenizer.sep_token_id)).astype(np.int64)
                p_mask[0] = 0
                close_cutoff = qa_cutoff_is_close(outputs["start_logits"][0].numpy(),
                                                  outputs["end_logits"][0].numpy(), p_mask, 2 * top_k + 10,
                                                  opts.get("max_answer_len", 15))
                if close_cutoff:  # a near-tie at the cut-off matters only if it changes the answers
                    with qa_kept_spans_delta(-1):
                        fewer = run()
                    with qa_kept_spans_delta(+1):
                        more = run()
                    if not qa_same(fewer, more):
                        raise NearTie(f"{QA_TASK} {name}: the spans kept per window end at a near-tie that "
                                      "changes the answers")
            check_ranked([a["score"] for a in expected], f"{QA_TASK} {name}", relative=True)
            if any(a["score"] < 1e-7 for a in expected):  # zero-score spans come in numpy's argpartition order
                raise NearTie(f"{QA_TASK} {name}: an answer with a vanishing score is returned")
            check_stable(model, run, lambda r: [(a["start"], a["end"], a["answer"]) for a in r], f"{QA_TASK} {name}")
            cases.append({"name": name, "inputs": {"question": question, "context": context}, "options": options,
                          "expected": jsonable(expected), "logits": {"start_logits": starts, "end_logits": ends},
                          "input_ids": ids, "windows": len(calls), "merged_answers": case_merges})
        errors = []
        for question, context, opts in QA_ERRORS:
            try:
                result = qa(question=question, context=context, **opts)
                sys.exit(f"{QA_TASK}: expected an error for {question!r} / {context[:20]!r} / {opts}, got {result}")
            except Exception as e:  # noqa: BLE001 - recording whatever the pipeline raises
                errors.append({"inputs": {"question": question, "context": context},
                               "options": {k: opts.get(k) for k in QA_OPTION_NAMES},
                               "python_error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"})
        impossible = sum(any(a["answer"] == "" and a["start"] == a["end"] == 0 for a in c["expected"]) for c in cases)
        if impossible == 0:  # the null answer is a code path of its own: some case must return it
            raise NearTie("no case returns the impossible (empty) answer")
        print(f"  {QA_TASK}: windows per case {[c['windows'] for c in cases]}, merged answers "
              f"{[c['merged_answers'] for c in cases]}, impossible answer returned in {impossible} cases")
        return cases, errors

    cases, errors = retry(make, QA_TASK, first_seed)
    write_json(dir_ / "golden.json", golden(QA_TASK, cases, errors, model_max_length=QA_WINDOW))


def check_qa_in_this_transformers() -> None:
    """The QA checkpoint written by the 4.x child loads in this transformers too and gives the same logits."""
    dir_ = HEADS_DIR / QA_TASK
    model = load_model(BertForQuestionAnswering, dir_, expect_unexpected=POOLER_KEYS)
    g = json.loads((dir_ / "golden.json").read_text())
    sep = AutoTokenizer.from_pretrained(dir_).sep_token_id
    worst = 0.0
    for case in g["cases"]:
        for w, ids in enumerate(case["input_ids"]):
            ids_t = torch.tensor([ids])
            first_sep = ids.index(sep)
            types = torch.tensor([[0 if i <= first_sep else 1 for i in range(len(ids))]])
            with torch.no_grad():
                out = model(input_ids=ids_t, token_type_ids=types, attention_mask=torch.ones_like(ids_t))
            for key in ("start_logits", "end_logits"):
                diff = (out[key][0] - torch.tensor(case["logits"][key][w])).abs().max().item()
                worst = max(worst, diff)
    if worst > 5e-5:  # the two transformers releases order some float ops differently (~3e-6 in the encoder)
        sys.exit(f"{QA_TASK}: transformers {transformers.__version__} logits differ from the golden by {worst}")
    print(f"  {QA_TASK}: transformers {transformers.__version__} reproduces the golden logits (max diff {worst:.2g})")


# ---------------------------------------------------------------------------------------------------------------
# Fill-mask

FILL_CASES = [  # (text, options)
    ("Paris is the [MASK] of France.", {}),
    ("Paris is the [MASK] of France.", {"top_k": 1}),
    ("Paris is the [MASK] of France.", {"top_k": 10}),
    ("The [MASK] sat on the [MASK].", {"top_k": 3}),
    ("[MASK] is a beautiful city.", {}),
    ("I love [MASK]!", {"top_k": 2}),
    ("Zoë loves [MASK] café au lait.", {}),
    ("[MASK][MASK] done", {"top_k": 2}),
    # "@m.r": the r-th most likely whole word at mask m (0-based) without targets, so that some targets have
    # probabilities well above the tests' tolerance; the others are ordinary words with tiny probabilities.
    ("Paris is the [MASK] of France.", {"targets": ["capital", "@0.2", "city", "@0.5", "heart"]}),
    ("Paris is the [MASK] of France.", {"targets": ["capital", "Paris", "zxqvk", "capital", "@0.1"], "top_k": 10}),
    ("The [MASK] sat on the [MASK].", {"targets": ["cat", "@0.1", "dog", "@1.3", "mat", "sofa"], "top_k": 3}),
    ("東京は[MASK]の首都です。", {"top_k": 4}),
]
FILL_ERRORS = [
    ("Paris is the capital of France.", {}),
    ("Paris is the [mask] of France.", {}),
    ("Paris is the [MASK] of France.", {"targets": [""]}),
]


def resolve_targets(fill, text: str, targets: list[str]) -> list[str]:
    """Replaces each "@m.r" by the r-th most likely whole word (letters only) at mask m of `text`."""
    rows = None
    out = []
    for t in targets:
        if not t.startswith("@"):
            out.append(t)
            continue
        if rows is None:
            result = fill(text, top_k=200)
            rows = result if isinstance(result[0], list) else [result]
        mask, rank = (int(x) for x in t[1:].split("."))
        words = [p["token_str"] for p in rows[mask] if p["token_str"].isalpha() and p["token_str"].isascii()]
        out.append(words[rank - 1])
    return out


def fill_decision(result):
    rows = result if result and isinstance(result[0], list) else [result]
    return [[(p["token"], p["sequence"]) for p in row] for row in rows]


def make_fill_mask(encoder, task_dir: str, untied: bool, first_seed: int) -> None:
    from transformers import pipeline

    dir_ = HEADS_DIR / task_dir
    config = bert_config("BertForMaskedLM", tie_word_embeddings=not untied)
    hidden, vocab = ENCODER["hidden_size"], ENCODER["vocab_size"]

    def make(seed):
        gen = torch.Generator().manual_seed(seed)
        # The transform's LayerNorm weight ~2.5 spreads the vocabulary logits (std ~4) so that the top tokens
        # have clear probabilities.
        head = {"cls.predictions.transform.dense.weight": stored(randn(gen, (hidden, hidden), LINEAR_STD)),
                "cls.predictions.transform.dense.bias": stored(randn(gen, (hidden,), BIAS_STD)),
                "cls.predictions.transform.LayerNorm.weight": stored(randn(gen, (hidden,), 0.25, 2.5)),
                "cls.predictions.transform.LayerNorm.bias": stored(randn(gen, (hidden,), BIAS_STD)),
                "cls.predictions.bias": stored(randn(gen, (vocab,), 0.5))}
        if untied:
            # As transformers writes an untied MaskedLM: the decoder with its own weight and bias (the bias
            # equal to cls.predictions.bias, which transformers 4 shares with it and transformers 5 does not).
            head["cls.predictions.decoder.weight"] = stored(randn(gen, (vocab, hidden), LINEAR_STD))
            head["cls.predictions.decoder.bias"] = head["cls.predictions.bias"].clone()
        write_checkpoint(dir_, encoder, head, config, model_max_length=ENCODER["max_position_embeddings"])
        model = load_model(BertForMaskedLM, dir_, expect_unexpected=POOLER_KEYS)
        check_weights(model, {**encoder, **head}, dir_)
        decoder = model.cls.predictions.decoder.weight.detach()
        embeddings = model.bert.embeddings.word_embeddings.weight.detach()
        if torch.equal(decoder, embeddings) == untied:
            sys.exit(f"{dir_}: decoder {'equals' if untied else 'differs from'} the word embeddings")
        tokenizer = AutoTokenizer.from_pretrained(dir_)
        fill = pipeline("fill-mask", model=model, tokenizer=tokenizer)
        cases = []
        for ci, (text, opts) in enumerate(FILL_CASES):
            if opts.get("targets"):
                opts = {**opts, "targets": resolve_targets(fill, text, opts["targets"])}
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
                errors.append({"inputs": {"text": text},
                               "options": {"top_k": opts.get("top_k"), "targets": opts.get("targets")},
                               "python_error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"})
        return cases, errors

    cases, errors = retry(make, task_dir, first_seed)
    write_json(dir_ / "golden.json", golden("fill-mask", cases, errors, tied_decoder=not untied))


# ---------------------------------------------------------------------------------------------------------------
# Next-sentence prediction

NSP_PAIRS = [
    ("The weather is lovely today.", "Let's go for a walk in the park."),
    ("The weather is lovely today.", "Quantum chromodynamics describes the strong interaction."),
    ("She opened the door.", ""),
    ("", "Nothing came before this."),
    ("Zoë ordered a café crème.", "The waiter brought it with a croissant — très bien!"),
    ("東京は日本の首都です。", "It has a population of about fourteen million."),
]


def make_next_sentence(encoder, first_seed: int = 800) -> None:
    dir_ = HEADS_DIR / "next-sentence"
    config = bert_config("BertForNextSentencePrediction")

    _, pooled, _ = encoder_features(encoder, NSP_PAIRS)

    def make(seed):
        gen = torch.Generator().manual_seed(seed)
        weight, bias = calibrated_linear(gen, pooled, 2, 1.5)
        head = {"cls.seq_relationship.weight": weight, "cls.seq_relationship.bias": bias}
        write_checkpoint(dir_, encoder, head, config, model_max_length=ENCODER["max_position_embeddings"])
        model = load_model(BertForNextSentencePrediction, dir_)
        check_weights(model, {**encoder, **head}, dir_)
        tokenizer = AutoTokenizer.from_pretrained(dir_)
        cases = []
        for ci, (a, b) in enumerate(NSP_PAIRS):
            enc = tokenizer(a, b, return_tensors="pt")
            with torch.no_grad():
                logits = model(**enc).logits[0]
            p = torch.softmax(logits, dim=-1)
            check_ranked(sorted(p.tolist(), reverse=True), f"next-sentence case {ci}")
            cases.append({"name": f"case{ci}", "inputs": {"text": a, "text_pair": b}, "options": {},
                          "expected": {"is_next": f32(p[0])}, "logits": f32_nested(logits),
                          "input_ids": enc["input_ids"][0].tolist()})
        return cases

    cases = retry(make, "next-sentence", first_seed)
    write_json(dir_ / "golden.json", golden("next-sentence", cases))


# ---------------------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", choices=TASKS, help="make only these (repeatable)")
    ap.add_argument("--qa-python", help="interpreter with transformers 4.x for the question-answering goldens")
    ap.add_argument("--qa-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    transformers.logging.set_verbosity_error()
    only = set(args.only or TASKS)

    if args.qa_child:  # the shared encoder was written by the parent: read it back, bit for bit
        from safetensors.torch import load_file
        encoder = load_file(SHARED_DIR / "encoder.safetensors")
    else:
        encoder = write_shared()
    if "text-classification" in only:
        make_classification(encoder, "text-classification", 3, ["negative", "neutral", "positive"], None, 100)
    if "text-classification-multilabel" in only:
        make_classification(encoder, "text-classification-multilabel", 4, ["sports", "politics", "science", "arts"],
                            "multi_label_classification", 200)
    if "text-classification-single" in only:
        make_classification(encoder, "text-classification-single", 1, None, None, 300)
    if "sentence-embeddings" in only:
        make_sentence_embeddings(encoder)
        make_prompt_embeddings(encoder)
    if "minilm" in only:
        make_minilm()
    if "token-classification" in only:
        make_token_classification(encoder)
    if QA_TASK in only:
        make_qa(encoder, args)
    if "fill-mask" in only:
        make_fill_mask(encoder, "fill-mask", untied=False, first_seed=700)
        make_fill_mask(encoder, "fill-mask-untied", untied=True, first_seed=750)
    if "next-sentence" in only:
        make_next_sentence(encoder)


def make_qa(encoder, args) -> None:
    """Runs the QA goldens here when this transformers has the pipeline, else in --qa-python's interpreter."""
    from transformers.pipelines import SUPPORTED_TASKS

    if QA_TASK in SUPPORTED_TASKS:
        make_question_answering(encoder)
        return
    if not args.qa_python:
        print(f"  {QA_TASK}: skipped: transformers {transformers.__version__} has no question-answering "
              "pipeline; pass --qa-python with an interpreter that has transformers 4.x (see models/README.md)")
        return
    subprocess.run([args.qa_python, __file__, "--only", QA_TASK, "--qa-child"], check=True)
    check_qa_in_this_transformers()


if __name__ == "__main__":
    main()
