#!/usr/bin/env python3
"""Writes the small committed seed corpora of tests/fuzz/seeds/<target>/ from the test fixtures in tests/data.

Each seed is a cut-down copy of a real file (a few hundred vocabulary entries instead of thousands) so that the
corpora stay small; .ci/fuzz.sh adds the full fixture files to its working corpus. Run from the repository root:
    python3 tests/fuzz/make_seeds.py
"""
import json
import pathlib
import struct

root = pathlib.Path(__file__).resolve().parents[2]
data = root / "tests" / "data"
seeds = root / "tests" / "fuzz" / "seeds"
SEP = b"\n--8<--\n"


def put(target, name, content):
    d = seeds / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(content if isinstance(content, bytes) else content.encode())


def safetensors(header, data_bytes):
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data_bytes


# safetensors: the reference fixture, a two-tensor file, an empty tensor, metadata.
put("safetensors_header", "reference.safetensors", (data / "weights" / "reference.safetensors").read_bytes())
put("safetensors_header", "two.safetensors", safetensors(
    {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
     "b": {"dtype": "BF16", "shape": [1, 2], "data_offsets": [8, 12]}}, bytes(12)))
put("safetensors_header", "meta.safetensors", safetensors(
    {"__metadata__": {"format": "pt"}, "e": {"dtype": "I64", "shape": [0], "data_offsets": [0, 0]}}, b""))

# config.json of every fixture family.
for d in sorted((data / "encoder").iterdir()) + sorted((data / "variants").iterdir()):
    if (d / "config.json").exists():
        put("config_json", d.name + ".json", (d / "config.json").read_bytes())

# sentence-transformers: modules.json, 1_Pooling/config.json, sentence_bert_config.json, 2_Dense/config.json,
# config_sentence_transformers.json (every Dense module of the input reads 2_Dense, the only one the target writes).
for d in [data / "heads" / n for n in ("sentence-embeddings-cls", "sentence-embeddings-max",
                                        "sentence-embeddings-mean_sqrt_len", "sentence-embeddings-dense",
                                        "sentence-embeddings-prompts")]:
    modules = json.loads((d / "modules.json").read_text())
    for m in modules:
        if m["type"].endswith("Dense"):
            m["path"] = "2_Dense"
    parts = [json.dumps(modules, indent=1).encode() if d.name.endswith("dense") else (d / "modules.json").read_bytes(),
             (d / "1_Pooling" / "config.json").read_bytes(), (d / "sentence_bert_config.json").read_bytes()]
    if (d / "2_Dense").exists() or (d / "config_sentence_transformers.json").exists():
        dense = d / "2_Dense" / "config.json"
        parts.append(dense.read_bytes() if dense.exists() else b"")
        prompts = d / "config_sentence_transformers.json"
        parts.append(prompts.read_bytes() if prompts.exists() else b"")
    put("st_modules", d.name, SEP.join(parts))


def small_wordpiece(n=300):
    tok = json.loads((data / "tokenizer" / "wordpiece" / "tokenizer.json").read_text())
    vocab = tok["model"]["vocab"]
    keep = {k: v for k, v in vocab.items() if v < n}
    tok["model"]["vocab"] = keep
    tok["added_tokens"] = [t for t in tok.get("added_tokens", []) if t["id"] < n]
    return tok


def small_bpe(n=400):
    tok = json.loads((data / "tokenizer" / "roberta" / "tokenizer.json").read_text())
    vocab = {k: v for k, v in tok["model"]["vocab"].items() if v < n}
    merges = []
    for m in tok["model"]["merges"]:
        a, b = m.split(" ") if isinstance(m, str) else m
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(m)
    tok["model"]["vocab"] = vocab
    tok["model"]["merges"] = merges
    tok["added_tokens"] = [t for t in tok.get("added_tokens", []) if t["id"] < n]
    return tok, vocab, merges


wp = small_wordpiece()
put("tokenizer_json", "wordpiece.json", json.dumps(wp, ensure_ascii=False))
bpe, bpe_vocab, bpe_merges = small_bpe()
put("tokenizer_json", "bpe.json", json.dumps(bpe, ensure_ascii=False))
put("vocab_txt", "vocab.txt", "\n".join(sorted(wp["model"]["vocab"], key=wp["model"]["vocab"].get)) + "\n")
merges_txt = "#version: 0.2\n" + "\n".join(m if isinstance(m, str) else " ".join(m) for m in bpe_merges) + "\n"
put("bpe_files", "roberta", json.dumps(bpe_vocab, ensure_ascii=False).encode() + SEP + merges_txt.encode())

# SentencePiece: the first 4 KiB of each fixture model (the proto reader's header fields and first pieces);
# .ci/fuzz.sh seeds its working corpus with the whole files.
for name in ("albert/spiece.model", "xlmr/sentencepiece.bpe.model"):
    put("sentencepiece_model", name.split("/")[0] + ".head", (data / "tokenizer" / name).read_bytes()[:4096])

# CLI record lines.
for i, line in enumerate([
        '{"input_ids": [101, 7592, 102], "token_type_ids": [0, 0, 0], "attention_mask": [1, 1, 1]}',
        '{"input_ids": [1, 2], "token_type_ids": null}',
        '{"text": "Hello world!", "text_pair": null}',
        '{"question": "Who?", "context": "Me."}',
        '[1, 2, 3]']):
    put("cli_records", "line%d" % i, line)

# encode: first byte = options, then the text (0xff separates a pair when bit 0 of the options is set).
texts = ["Hello, world! Héllo wörld: 中文字符 don't stop", "  spaces   and\ttabs\n", "a" * 120 + " b",
         "ΣΑΣ ΟΔΟΣ İstanbul ﬁ ①", "<mask> [MASK] </s> <s> [CLS]", "x\xffy pair second"]
for target in ("encode_wordpiece", "encode_bpe", "encode_sentencepiece"):
    for i, t in enumerate(texts):
        put(target, "text%d" % i, bytes([(i * 37) & 0xFF]) + t.encode().replace("\xff".encode(), b"\xff"))
