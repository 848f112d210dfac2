#!/usr/bin/env python3
"""bertcpp's Python package against sentence-transformers and transformers' pipeline, same machine, same threads.

  1. bertcpp.SentenceTransformer.encode vs sentence_transformers.SentenceTransformer.encode: all-MiniLM-L6-v2 on
     the first 2,000 lines of tests/data/tokenizer/corpus.jsonl, batch_size 32, fp32, 2 threads
     (torch.set_num_threads / bertcpp threads=2). Also checks the embeddings agree (cosine).
  2. bertcpp.pipeline("token-classification") vs transformers.pipeline("token-classification") on 200 texts
     (20 corpus lines joined, cut at the window: up to 256 tokens each), aggregation "simple", 2 threads. The NER
     checkpoint is all-MiniLM-L6-v2's encoder with a token-classification head (9 CoNLL labels, seeded random),
     written once by this script with transformers to --work: a real-size encoder (the head's values do not change
     the cost); the entities of both are compared too.

Both sides run in one interpreter that has bertcpp installed (pip install .) and torch + transformers +
sentence-transformers; each measurement is the best of --repeat runs after one warm-up. Run under a real-time
priority on an otherwise idle machine: chrt -f 10 python bench/python_bench.py --model models/cache/all-MiniLM-L6-v2
"""

import argparse
import json
import os
import pathlib
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONLL = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]


def corpus():
    with open(ROOT / "tests" / "data" / "tokenizer" / "corpus.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def best_of(fn, repeat):
    fn()  # warm-up: first-call allocations, oneDNN primitive creation, torch's lazy init
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def make_ner_checkpoint(model_dir, out_dir):
    """all-MiniLM-L6-v2's encoder + a seeded random BertForTokenClassification head, saved with transformers."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    if (out_dir / "config.json").is_file():
        return out_dir
    config = BertConfig.from_pretrained(model_dir, num_labels=len(CONLL), id2label=dict(enumerate(CONLL)),
                                        label2id={l: i for i, l in enumerate(CONLL)})
    torch.manual_seed(0)
    model = BertForTokenClassification.from_pretrained(model_dir, config=config)
    model.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(out_dir)
    return out_dir


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=str(ROOT / "models" / "cache" / "all-MiniLM-L6-v2"))
    p.add_argument("--work", default=str(ROOT / "build-python" / "bench"), help="where the NER checkpoint goes")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sentences", type=int, default=2000)
    p.add_argument("--ner-texts", type=int, default=200)
    args = p.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import numpy as np
    import torch

    import bertcpp

    torch.set_num_threads(args.threads)
    lines = corpus()
    results = {"threads": args.threads, "torch": torch.__version__}

    # ---- 1. sentence embeddings ------------------------------------------------------------------------------
    from sentence_transformers import SentenceTransformer

    sentences = lines[: args.sentences]
    ours = bertcpp.SentenceTransformer(args.model, threads=args.threads)
    theirs = SentenceTransformer(args.model, device="cpu")
    a = ours.encode(sentences, batch_size=32)
    b = theirs.encode(sentences, batch_size=32, convert_to_numpy=True)
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    t_ours = best_of(lambda: ours.encode(sentences, batch_size=32), args.repeat)
    with torch.inference_mode():
        t_theirs = best_of(lambda: theirs.encode(sentences, batch_size=32, convert_to_numpy=True), args.repeat)
    results["embed"] = {"sentences": len(sentences), "bertcpp_s": t_ours, "sentence_transformers_s": t_theirs,
                        "bertcpp_per_s": len(sentences) / t_ours,
                        "sentence_transformers_per_s": len(sentences) / t_theirs, "speedup": t_theirs / t_ours,
                        "worst_cosine": float(cos.min())}
    print(json.dumps(results["embed"]), flush=True)

    # ---- 2. token classification -----------------------------------------------------------------------------
    from transformers import pipeline as hf_pipeline

    ner_dir = make_ner_checkpoint(args.model, pathlib.Path(args.work) / "minilm-ner")
    tok = bertcpp.Tokenizer.from_pretrained(ner_dir)
    texts = []
    for i in range(args.ner_texts):
        text = " ".join(lines[(i * 20) % len(lines):(i * 20) % len(lines) + 20])
        # cut at 254 tokens (the window is 256 with [CLS] / [SEP]): both pipelines then see the same tokens
        offsets = tok(text, truncation=True, max_length=256, return_offsets_mapping=True)["offset_mapping"]
        texts.append(text[: max(e for _, e in offsets)])
    ours_ner = bertcpp.pipeline("token-classification", model=ner_dir, threads=args.threads,
                                aggregation_strategy="simple")
    theirs_ner = hf_pipeline("token-classification", model=str(ner_dir), aggregation_strategy="simple", device="cpu")
    a = ours_ner(texts)
    b = theirs_ner(texts)
    same = sum(1 for x, y in zip(a, b) if [(e["entity_group"], e["start"], e["end"]) for e in x] ==
               [(e["entity_group"], e["start"], e["end"]) for e in y])
    t_ours = best_of(lambda: ours_ner(texts), args.repeat)
    with torch.inference_mode():
        t_theirs = best_of(lambda: theirs_ner(texts), args.repeat)
    results["ner"] = {"texts": len(texts), "bertcpp_s": t_ours, "transformers_s": t_theirs,
                      "bertcpp_per_s": len(texts) / t_ours, "transformers_per_s": len(texts) / t_theirs,
                      "speedup": t_theirs / t_ours, "texts_with_identical_entities": same}
    print(json.dumps(results["ner"]), flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
