#!/usr/bin/env python3
"""Side-by-side encoder latency: bertcpp vs ONNX Runtime vs PyTorch on identical weights and inputs.

What it does:
  1. builds a BERT-base-shaped model (and a BERT-large one) in transformers with random weights (torch.manual_seed; scaled so that
     activations are O(1), see build_model) and saves it with save_pretrained (model.safetensors +
     config.json) into a work directory;
  2. reloads that checkpoint and exports it to ONNX (torch.onnx.export, TorchScript exporter, opset 17,
     dynamic batch and sequence axes);
  3. writes one random input batch per shape (numpy .npz for the Python runtimes, JSON lines for bertcpp);
  4. times each runtime in its own process, one after the other, so they never compete for the cores:
       - ONNX Runtime: CPUExecutionProvider, ORT_ENABLE_ALL, intra_op_num_threads = --threads
       - PyTorch: BertModel eager mode with sdpa attention, torch.inference_mode, torch.set_num_threads(--threads)
         (run with OPENBLAS_CORETYPE removed from the environment)
       - bertcpp: `bertcpp bench --input FILE` (latency of BertModel::forward on the same batch)
  5. runs `bertcpp encode` on the same inputs and compares last_hidden_state / pooler_output against PyTorch and
     ONNX Runtime (max-abs difference, must be <= --atol);
  6. prints a table of median latencies and the ratios bertcpp/ORT and bertcpp/PyTorch (latency ratios: below 1
     means bertcpp is faster).

Usage:
  python3 bench/compare_runtimes.py --bertcpp build-cli/examples/bertcpp [--threads 2] [--iters 10]
      [--shapes 1x128,8x128,1x512,32x32,mixed] [--large-shapes 1x128,1x512] [--json results.json] [--workdir DIR]

Shapes: BATCHxSEQ of random ids, all tokens real; 'mixed' = 32 real texts of the test corpus (tests/data/tokenizer/
corpus.jsonl) tokenized by the default model's tokenizer to 8..128 tokens: ORT and PyTorch get them padded to the
longest with an attention mask, as transformers' pipelines feed a batch; bertcpp gets them unpadded (packed).
BERT-large (24 layers, hidden 1024, 16 heads, FFN 4096) runs --large-shapes on a second random checkpoint.

With --int8 it also times int8 inference (issue 11): ONNX Runtime on the same export quantized with
onnxruntime.quantization.quantize_dynamic (QInt8 weights, per tensor, as its docs recommend for CPU), and
`bertcpp bench --compute int8`; it prints bertcpp-int8/ORT-int8, bertcpp-int8/bertcpp-fp32 and
ORT-int8/ORT-fp32 latency ratios, and each int8 runtime's worst per-token cosine to PyTorch fp32.

Exit status: 0 when every output agrees within --atol, 1 when one does not, 2 on a usage or setup error.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

# BERT-base (bert-base-uncased) dimensions.
BERT_BASE = dict(
    vocab_size=30522,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    max_position_embeddings=512,
    type_vocab_size=2,
    hidden_act="gelu",
    layer_norm_eps=1e-12,
)
# BERT-large (bert-large-uncased) dimensions.
BERT_LARGE = dict(BERT_BASE, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)
MODELS = {"base": BERT_BASE, "large": BERT_LARGE}
DEFAULT_SHAPES = "1x128,8x128,1x512,32x32,mixed"
DEFAULT_LARGE_SHAPES = "1x128,1x512"
CLS_ID, SEP_ID = 101, 102
# The mixed-length batch: MIXED_BATCH texts of the test corpus, MIXED_MIN..MIXED_MAX tokens.
MIXED = "mixed"
MIXED_BATCH, MIXED_MIN, MIXED_MAX = 32, 8, 128
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_shapes(text):
    shapes = []
    for item in text.split(","):
        if item == MIXED:
            shapes.append((MIXED_BATCH, MIXED))
            continue
        try:
            batch, seq = (int(x) for x in item.lower().split("x"))
        except ValueError:
            raise SystemExit(f"--shapes: '{item}' is not BATCHxSEQ (e.g. 8x128)")
        if batch < 1 or seq < 2 or seq > BERT_BASE["max_position_embeddings"]:
            raise SystemExit(f"--shapes: '{item}' out of range (batch >= 1, 2 <= seq <= 512)")
        shapes.append((batch, seq))
    return shapes


def shape_name(batch, seq):
    return MIXED if seq == MIXED else f"{batch}x{seq}"


def summarize(seconds):
    """Latency statistics in milliseconds."""
    ms = [s * 1e3 for s in seconds]
    return {"median": statistics.median(ms), "mean": statistics.fmean(ms), "min": min(ms), "max": max(ms)}


# ---------------------------------------------------------------------------------------------------------------
# Setup: model, ONNX export, inputs


def build_model(workdir, seed, dims=BERT_BASE, name="model"):
    import torch
    import transformers

    torch.manual_seed(seed)
    config = transformers.BertConfig(**dims)
    model = transformers.BertModel(config).eval()
    # Re-draw the weights so that activations are O(1) everywhere: with transformers' own init (std 0.02) the
    # layers barely move the residual stream and the agreement check below would be weak.
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                module.weight.normal_(0.0, module.in_features ** -0.5)
                module.bias.normal_(0.0, 0.1)
            elif isinstance(module, torch.nn.Embedding):
                module.weight.normal_(0.0, 1.0)
            elif isinstance(module, torch.nn.LayerNorm):
                module.weight.normal_(1.0, 0.1)
                module.bias.normal_(0.0, 0.1)
    model_dir = os.path.join(workdir, name)
    model.save_pretrained(model_dir, safe_serialization=True)
    return model_dir


class _ExportWrapper:
    """nn.Module that calls BertModel with keyword arguments and returns a plain tuple (for the exporter)."""

    @staticmethod
    def make(model):
        import torch

        class Wrapper(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
                return out.last_hidden_state, out.pooler_output

        # eval() on the wrapper: the exporter restores the wrapper's training flag afterwards, recursively, so a
        # wrapper left in training mode would silently switch the model's dropout on.
        return Wrapper(model).eval()


def export_onnx(model_dir, workdir, name="model"):
    import torch
    import transformers

    model = transformers.BertModel.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa").eval()
    wrapper = _ExportWrapper.make(model)
    # Trace with a padded row so the attention-mask path is part of the graph (an all-ones mask may be elided).
    ids = torch.full((2, 16), 1000, dtype=torch.int64)
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0
    types = torch.zeros_like(ids)
    path = os.path.join(workdir, f"{name}.onnx")
    axes = {0: "batch", 1: "seq"}
    torch.onnx.export(
        wrapper,
        (ids, mask, types),
        path,
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state", "pooler_output"],
        dynamic_axes={
            "input_ids": axes,
            "attention_mask": axes,
            "token_type_ids": axes,
            "last_hidden_state": axes,
            "pooler_output": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )
    return path


def mixed_batch(tokenizer_dir):
    """MIXED_BATCH real texts of the test corpus, tokenized by the default model's tokenizer (the BERT uncased
    vocabulary, the same ids as BERT-base's 30522) to lengths spread evenly over MIXED_MIN..MIXED_MAX tokens:
    consecutive corpus lines are joined until a text is long enough, then truncated to its target length."""
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(tokenizer_dir)
    with open(os.path.join(REPO, "tests", "data", "tokenizer", "corpus.jsonl")) as f:
        lines = [json.loads(line)["text"] for line in f]
    targets = np.linspace(MIXED_MIN, MIXED_MAX, MIXED_BATCH).round().astype(int)
    rows, at = [], 0
    for target in targets:
        text = ""
        while len(tokenizer(text)["input_ids"]) < target:
            text = (text + " " + lines[at % len(lines)]).strip()
            at += 1
        rows.append(tokenizer(text, truncation=True, max_length=int(target))["input_ids"])
    return rows


def write_inputs(workdir, shapes, seed, tokenizer_dir, prefix=""):
    """One batch per shape: random [CLS] word pieces [SEP] with token types 0 and mask all ones; the mixed batch
    padded to its longest row with an attention mask for ORT and PyTorch (as transformers' pipelines feed it),
    unpadded (packed) for bertcpp."""
    rng = np.random.default_rng(seed)
    files = {}
    for batch, seq in shapes:
        name = shape_name(batch, seq)
        if seq == MIXED:
            rows = mixed_batch(tokenizer_dir)
            longest = max(len(r) for r in rows)
            ids = np.zeros((len(rows), longest), dtype=np.int64)
            mask = np.zeros_like(ids)
            for i, r in enumerate(rows):
                ids[i, :len(r)] = r
                mask[i, :len(r)] = 1
            types = np.zeros_like(ids)
            npz = os.path.join(workdir, f"{prefix}inputs_{name}.npz")
            np.savez(npz, input_ids=ids, token_type_ids=types, attention_mask=mask)
            jsonl = os.path.join(workdir, f"{prefix}inputs_{name}.jsonl")
            with open(jsonl, "w") as f:
                for r in rows:
                    f.write(json.dumps({"input_ids": r, "token_type_ids": [0] * len(r)}) + "\n")
            files[name] = (npz, jsonl)
            continue
        ids = rng.integers(1000, BERT_BASE["vocab_size"], size=(batch, seq), dtype=np.int64)
        ids[:, 0] = CLS_ID
        ids[:, -1] = SEP_ID
        types = np.zeros_like(ids)
        mask = np.ones_like(ids)
        npz = os.path.join(workdir, f"{prefix}inputs_{name}.npz")
        np.savez(npz, input_ids=ids, token_type_ids=types, attention_mask=mask)
        jsonl = os.path.join(workdir, f"{prefix}inputs_{name}.jsonl")
        with open(jsonl, "w") as f:
            for row in range(batch):
                f.write(json.dumps({"input_ids": ids[row].tolist(), "token_type_ids": types[row].tolist(),
                                    "attention_mask": mask[row].tolist()}) + "\n")
        files[name] = (npz, jsonl)
    return files


# ---------------------------------------------------------------------------------------------------------------
# Workers (each runs in its own process)


def time_calls(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return seconds


def worker_torch(args):
    import torch
    import transformers

    torch.set_num_threads(args.threads)
    model = transformers.BertModel.from_pretrained(args.model_dir, dtype=torch.float32,
                                                   attn_implementation="sdpa").eval()
    results = {"runtime": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(), "shapes": {}}
    for batch, seq in parse_shapes(args.shapes):
        name = shape_name(batch, seq)
        data = np.load(os.path.join(args.workdir, f"{args.prefix}inputs_{name}.npz"))
        feed = {k: torch.from_numpy(data[k]) for k in ("input_ids", "token_type_ids", "attention_mask")}
        with torch.inference_mode():
            out = model(**feed)
            np.save(os.path.join(args.workdir, f"out_pytorch_{args.prefix}{name}_last.npy"), out.last_hidden_state.numpy())
            np.save(os.path.join(args.workdir, f"out_pytorch_{args.prefix}{name}_pooler.npy"), out.pooler_output.numpy())
            seconds = time_calls(lambda: model(**feed), args.warmup, args.iters)
        results["shapes"][name] = summarize(seconds)
    return results


def time_ort_session(args, model_file, runtime, save_pooler):
    """Times one ONNX Runtime session (CPUExecutionProvider, ORT_ENABLE_ALL, --threads intra-op threads) on every
    shape, saving its outputs for the accuracy comparison; `runtime` names the result and the output files."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(model_file, options, providers=["CPUExecutionProvider"])
    results = {"runtime": runtime, "version": ort.__version__, "threads": args.threads, "shapes": {}}
    for batch, seq in parse_shapes(args.shapes):
        name = shape_name(batch, seq)
        data = np.load(os.path.join(args.workdir, f"{args.prefix}inputs_{name}.npz"))
        feed = {k: data[k] for k in ("input_ids", "token_type_ids", "attention_mask")}
        last, pooler = session.run(None, feed)
        np.save(os.path.join(args.workdir, f"out_{runtime}_{args.prefix}{name}_last.npy"), last)
        if save_pooler:
            np.save(os.path.join(args.workdir, f"out_{runtime}_{args.prefix}{name}_pooler.npy"), pooler)
        seconds = time_calls(lambda: session.run(None, feed), args.warmup, args.iters)
        results["shapes"][name] = summarize(seconds)
    return results


def worker_ort(args):
    return time_ort_session(args, os.path.join(args.workdir, f"{args.prefix}model.onnx"), "onnxruntime", True)


def worker_ort_int8(args):
    """ONNX Runtime on the export dynamically quantized to int8 (weights QInt8, activations quantized at run time)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantized = os.path.join(args.workdir, f"{args.prefix}model_int8.onnx")
    if not os.path.exists(quantized):
        quantize_dynamic(os.path.join(args.workdir, f"{args.prefix}model.onnx"), quantized, weight_type=QuantType.QInt8)
    return time_ort_session(args, quantized, "onnxruntime-int8", False)


def run_worker(kind, args, model_dir, shapes, prefix, env=None):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--workdir", args.workdir,
           "--model-dir", model_dir, "--threads", str(args.threads), "--iters", str(args.iters),
           "--warmup", str(args.warmup), "--shapes", shapes, "--prefix", prefix]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} worker failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------------------------
# bertcpp (through the CLI)


def run_bertcpp(args, model_dir, files, shapes, prefix, compute="fp32"):
    """`bertcpp bench [--compute int8]` per shape (latency of BertModel::forward), and its outputs through
    `bertcpp encode` (JSON, so not timed; whole batch in one forward call). The int8 run saves last_hidden_state
    only (its accuracy is compared per token to PyTorch fp32)."""
    runtime = "bertcpp" if compute == "fp32" else f"bertcpp-{compute}"
    with_pooler = compute == "fp32"
    results = {"runtime": runtime, "threads": args.threads, "shapes": {}}
    for batch, seq in parse_shapes(shapes):
        name = shape_name(batch, seq)
        _, jsonl = files[name]
        common = ["--model", model_dir, "--input", jsonl, "--threads", str(args.threads), "--compute", compute]
        cmd = [args.bertcpp, "bench", *common, "--iters", str(args.iters), "--warmup", str(args.warmup)]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"bertcpp bench failed on {name} (exit {proc.returncode}): {' '.join(cmd)}")
        timing = json.loads(proc.stdout)
        if timing["batch"] != batch or (seq != MIXED and timing["seq_len"] != seq):
            raise SystemExit(f"bertcpp bench ran {timing['batch']}x{timing['seq_len']}, expected {name}")
        results["shapes"][name] = timing["latency_ms"]

        out_path = os.path.join(args.workdir, f"out_{runtime}_{prefix}{name}.jsonl")
        cmd = [args.bertcpp, "encode", *common, "--output", out_path, "--batch-size", str(batch), "--precision", "9"]
        if not with_pooler:
            cmd.append("--no-pooler")
        if subprocess.run(cmd).returncode != 0:
            raise SystemExit(f"bertcpp encode failed on {name}: {' '.join(cmd)}")
        with open(out_path) as f:
            rows = [json.loads(line) for line in f]
        last = [row["last_hidden_state"] for row in rows]
        # Rows of the mixed batch have their own lengths: zero-padded to the longest (compared under the mask).
        longest = max(len(r) for r in last)
        padded = np.zeros((len(last), longest, len(last[0][0])), dtype=np.float32)
        for i, r in enumerate(last):
            padded[i, :len(r)] = r
        np.save(os.path.join(args.workdir, f"out_{runtime}_{prefix}{name}_last.npy"), padded)
        if with_pooler:
            pooler = np.asarray([row["pooler_output"] for row in rows], dtype=np.float32)
            np.save(os.path.join(args.workdir, f"out_{runtime}_{prefix}{name}_pooler.npy"), pooler)
    return results


# ---------------------------------------------------------------------------------------------------------------
# Report


def max_abs(workdir, a, b, key, part, mask=None):
    """Max-abs difference of two runtimes' outputs; `mask` [B, T] limits last_hidden_state to real tokens."""
    x = np.load(os.path.join(workdir, f"out_{a}_{key}_{part}.npy"))
    y = np.load(os.path.join(workdir, f"out_{b}_{key}_{part}.npy"))
    if part == "last" and mask is not None:
        x, y = x[:, :mask.shape[1]], y[:, :mask.shape[1]]
        if x.shape != y.shape:
            raise SystemExit(f"{key}: {a} {part} has shape {list(x.shape)}, {b} has {list(y.shape)}")
        return float(np.max(np.abs(x - y)[mask.astype(bool)]))
    if x.shape != y.shape:
        raise SystemExit(f"{key}: {a} {part} has shape {list(x.shape)}, {b} has {list(y.shape)}")
    return float(np.max(np.abs(x - y)))


def report(args, cases, results):
    """cases: [(model label, shapes string, file prefix)]; results[prefix][runtime]."""
    header = (f"{'model':>6} {'shape':>8} {'tokens':>6} {'bertcpp ms':>11} {'ORT ms':>9} {'PyTorch ms':>11} "
              f"{'bertcpp/ORT':>12} {'bertcpp/PT':>11} {'bertcpp tok/s':>14} "
              f"{'|bertcpp-PT|':>13} {'|ORT-PT|':>9} {'|bertcpp-ORT|':>14}")
    lines = [header, "-" * len(header)]
    ok = True
    rows = []
    for label, shapes, prefix in cases:
        b, o, p = (results[prefix][r] for r in ("bertcpp", "onnxruntime", "pytorch"))
        for batch, seq in parse_shapes(shapes):
            name = shape_name(batch, seq)
            key = prefix + name
            data = np.load(os.path.join(args.workdir, f"{prefix}inputs_{name}.npz"))
            mask = data["attention_mask"]
            tokens = int(mask.sum())
            tb, to, tp = (r["shapes"][name]["median"] for r in (b, o, p))
            diffs = {}
            for pair in (("bertcpp", "pytorch"), ("onnxruntime", "pytorch"), ("bertcpp", "onnxruntime")):
                diffs["-".join(pair)] = max(max_abs(args.workdir, *pair, key, "last", mask),
                                            max_abs(args.workdir, *pair, key, "pooler"))
            bad = [k for k, v in diffs.items() if not v <= args.atol]
            ok = ok and not bad
            rows.append({"model": label, "shape": name, "batch": batch, "seq_len": seq if seq != MIXED else int(mask.shape[1]),
                         "tokens": tokens, "bertcpp_ms": tb, "onnxruntime_ms": to, "pytorch_ms": tp,
                         "bertcpp_over_ort": tb / to, "bertcpp_over_pytorch": tb / tp, "max_abs": diffs,
                         "agree": not bad})
            lines.append(f"{label:>6} {name:>8} {tokens:>6} {tb:>11.1f} {to:>9.1f} {tp:>11.1f} {tb / to:>12.2f} "
                         f"{tb / tp:>11.2f} {tokens / tb * 1e3:>14.0f} {diffs['bertcpp-pytorch']:>13.2e} "
                         f"{diffs['onnxruntime-pytorch']:>9.2e} {diffs['bertcpp-onnxruntime']:>14.2e}"
                         + ("   MISMATCH" if bad else ""))
    any_results = next(iter(results.values()))
    print()
    print(f"BERT-base / BERT-large shapes, random weights (seed {args.seed}), fp32, {args.threads} thread(s), "
          f"median of {args.iters} runs after {args.warmup} warm-up; onnxruntime {any_results['onnxruntime']['version']}, "
          f"torch {any_results['pytorch']['version']}")
    print(f"'{MIXED}': {MIXED_BATCH} corpus texts of {MIXED_MIN}..{MIXED_MAX} tokens; ORT and PyTorch get them padded to "
          f"the longest with an attention mask, bertcpp packed (tokens = real tokens)")
    print("\n".join(lines))
    print(f"ratios are latency ratios (< 1: bertcpp faster); max-abs over last_hidden_state (real tokens) and "
          f"pooler_output, tolerance {args.atol:g}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "iters": args.iters, "warmup": args.warmup, "seed": args.seed,
                       "runtimes": results, "rows": rows}, f, indent=2)
    return ok


def min_token_cosine(workdir, runtime, key, mask):
    """Worst per-token cosine of `runtime`'s last_hidden_state to PyTorch fp32's, over real tokens."""
    x = np.load(os.path.join(workdir, f"out_{runtime}_{key}_last.npy")).astype(np.float64)[:, :mask.shape[1]]
    y = np.load(os.path.join(workdir, f"out_pytorch_{key}_last.npy")).astype(np.float64)[:, :mask.shape[1]]
    real = mask.astype(bool)
    x, y = x[real], y[real]
    cos = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
    return float(cos.min())


def report_int8(args, cases, results):
    header = (f"{'model':>6} {'shape':>8} {'bertcpp fp32':>12} {'bertcpp int8':>12} {'ORT fp32':>9} {'ORT int8':>9} "
              f"{'bc-int8/ORT-int8':>17} {'bc-int8/bc-fp32':>16} {'ORT-int8/ORT-fp32':>18} "
              f"{'min cos bc-int8':>16} {'min cos ORT-int8':>17}")
    lines = [header, "-" * len(header)]
    rows = []
    for label, shapes, prefix in cases:
        b, bq, o, oq = (results[prefix][r] for r in ("bertcpp", "bertcpp-int8", "onnxruntime", "onnxruntime-int8"))
        for batch, seq in parse_shapes(shapes):
            name = shape_name(batch, seq)
            mask = np.load(os.path.join(args.workdir, f"{prefix}inputs_{name}.npz"))["attention_mask"]
            tb, tbq, to, toq = (r["shapes"][name]["median"] for r in (b, bq, o, oq))
            cb = min_token_cosine(args.workdir, "bertcpp-int8", prefix + name, mask)
            co = min_token_cosine(args.workdir, "onnxruntime-int8", prefix + name, mask)
            rows.append({"model": label, "shape": name, "bertcpp_fp32_ms": tb, "bertcpp_int8_ms": tbq,
                         "onnxruntime_fp32_ms": to, "onnxruntime_int8_ms": toq,
                         "bertcpp_int8_over_ort_int8": tbq / toq, "bertcpp_int8_over_bertcpp_fp32": tbq / tb,
                         "ort_int8_over_ort_fp32": toq / to, "min_token_cosine_bertcpp_int8": cb,
                         "min_token_cosine_ort_int8": co})
            lines.append(f"{label:>6} {name:>8} {tb:>12.1f} {tbq:>12.1f} {to:>9.1f} {toq:>9.1f} {tbq / toq:>17.2f} "
                         f"{tbq / tb:>16.2f} {toq / to:>18.2f} {cb:>16.5f} {co:>17.5f}")
    print()
    print(f"int8: bertcpp --compute int8 vs ONNX Runtime quantize_dynamic (QInt8 weights), {args.threads} thread(s), "
          f"median of {args.iters} runs (ms); latency ratios < 1: the first is faster; cosine per token to PyTorch fp32")
    print("\n".join(lines))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bertcpp", help="path of the built `bertcpp` CLI (e.g. build-cli/examples/bertcpp)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for every runtime")
    parser.add_argument("--iters", type=int, default=10, help="timed runs per shape")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per shape before timing")
    parser.add_argument("--shapes", default=DEFAULT_SHAPES,
                        help=f"BERT-base: comma-separated BATCHxSEQ list, '{MIXED}' for the mixed-length batch")
    parser.add_argument("--large-shapes", default=DEFAULT_LARGE_SHAPES,
                        help="BERT-large (24 layers, hidden 1024): shapes as --shapes; empty to skip the model")
    parser.add_argument("--tokenizer", default=os.path.join(REPO, "models", "cache", "all-MiniLM-L6-v2"),
                        help="tokenizer directory for the mixed batch (default: the default model, "
                             "bash models/fetch_default_model.sh)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights and the inputs")
    parser.add_argument("--atol", type=float, default=1e-4, help="max-abs difference allowed between runtimes")
    parser.add_argument("--workdir", help="keep the model, ONNX file and outputs here (default: a temp dir)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--int8", action="store_true",
                        help="also time int8: ORT quantize_dynamic (QInt8) and bertcpp --compute int8")
    # Internal: run one runtime's timing in this process.
    parser.add_argument("--worker", choices=["torch", "ort", "ort-int8"], help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    parse_shapes(args.shapes)
    if args.large_shapes:
        parse_shapes(args.large_shapes)

    if args.worker:
        workers = {"torch": worker_torch, "ort": worker_ort, "ort-int8": worker_ort_int8}
        result = workers[args.worker](args)
        print(json.dumps(result))
        return 0

    if not args.bertcpp or not os.access(args.bertcpp, os.X_OK):
        print(f"--bertcpp: '{args.bertcpp}' is not an executable (build the bertcpp_cli target)", file=sys.stderr)
        return 2
    args.bertcpp = os.path.abspath(args.bertcpp)
    own_tmp = args.workdir is None
    args.workdir = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix="bertcpp-compare-"))
    os.makedirs(args.workdir, exist_ok=True)
    cases = [("base", args.shapes, "")]
    if args.large_shapes:
        cases.append(("large", args.large_shapes, "large-"))
    try:
        print(f"work dir {args.workdir}", file=sys.stderr)
        results = {}
        for label, shapes, prefix in cases:
            dims = MODELS[label]
            model_dir = os.path.join(args.workdir, prefix + "model")
            if not os.path.exists(os.path.join(model_dir, "model.safetensors")):  # reused from a kept --workdir
                build_model(args.workdir, args.seed, dims, prefix + "model")
            if not os.path.exists(os.path.join(args.workdir, prefix + "model.onnx")):
                export_onnx(model_dir, args.workdir, prefix + "model")
            files = write_inputs(args.workdir, parse_shapes(shapes), args.seed, args.tokenizer, prefix)
            results[prefix] = {}
            print(f"[{label}] timing onnxruntime ...", file=sys.stderr)
            results[prefix]["onnxruntime"] = run_worker("ort", args, model_dir, shapes, prefix)
            print(f"[{label}] timing pytorch ...", file=sys.stderr)
            torch_env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
            results[prefix]["pytorch"] = run_worker("torch", args, model_dir, shapes, prefix, env=torch_env)
            print(f"[{label}] timing bertcpp ...", file=sys.stderr)
            results[prefix]["bertcpp"] = run_bertcpp(args, model_dir, files, shapes, prefix)
            if args.int8:
                print(f"[{label}] timing onnxruntime int8 ...", file=sys.stderr)
                results[prefix]["onnxruntime-int8"] = run_worker("ort-int8", args, model_dir, shapes, prefix)
                print(f"[{label}] timing bertcpp int8 ...", file=sys.stderr)
                results[prefix]["bertcpp-int8"] = run_bertcpp(args, model_dir, files, shapes, prefix, compute="int8")
        ok = report(args, cases, results)
        if args.int8:
            int8_rows = report_int8(args, cases, results)
            if args.json:
                with open(args.json) as f:
                    saved = json.load(f)
                saved["int8_rows"] = int8_rows
                with open(args.json, "w") as f:
                    json.dump(saved, f, indent=2)
        return 0 if ok else 1
    finally:
        if own_tmp:
            shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
