#!/usr/bin/env python3
"""Trains the tiny tokenizers of the non-WordPiece variants on the committed corpus and saves them as Hugging Face
model directories would hold them (so the C++ loaders read the same files as for a real checkpoint):

  tests/data/tokenizer/roberta/  byte-level BPE (tokenizers' ByteLevelBPETokenizer): vocab.json, merges.txt,
                                 plus tokenizer.json / tokenizer_config.json written by transformers
  tests/data/tokenizer/xlmr/     SentencePiece unigram (sentencepiece library): sentencepiece.bpe.model, plus the
                                 files transformers writes for XLM-R (fairseq id shift, <mask> last)
  tests/data/tokenizer/albert/   SentencePiece unigram trained on lowercased text, ALBERT ids
                                 (<pad>=0, <unk>=1, [CLS]=2, [SEP]=3, [MASK]=4): spiece.model + transformers' files
  tests/data/tokenizer/wordpiece/ a small uncased WordPiece vocabulary (tokenizers' BertWordPieceTokenizer) for
                                 the tiny ELECTRA / DistilBERT checkpoints: vocab.txt + transformers' files
  tests/data/tokenizer/mpnet/    a small uncased WordPiece vocabulary laid out as MPNet's (<s>=0, <pad>=1, </s>=2,
                                 <unk>=3, the BERT specials with [UNK] as the unknown token, <mask> last):
                                 vocab.txt + what transformers' MPNetTokenizer saves (RobertaProcessing pairs)

Deterministic for a given corpus and library versions (single-threaded training, fixed seeds).
Usage: python3 models/make_variant_tokenizers.py [--out tests/data/tokenizer] [FAMILY ...]
(FAMILY: roberta, xlmr, albert, wordpiece, mpnet; default all. Only xlmr and albert need sentencepiece.)
"""
import argparse
import json
import os
import shutil
import tempfile

from tokenizers import BertWordPieceTokenizer, ByteLevelBPETokenizer
from transformers import AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def corpus_lines():
    with open(os.path.join(ROOT, "tests/data/tokenizer/corpus.jsonl"), encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def finish_with_transformers(model_dir, model_type):
    """Lets transformers convert the raw tokenizer files and save what a hub checkpoint ships."""
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump({"model_type": model_type}, f)
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    os.remove(os.path.join(model_dir, "config.json"))
    return tok


def make_bpe(out, texts):
    d = os.path.join(out, "roberta")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=2000, min_frequency=2,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], show_progress=False)
    bpe.save_model(d)
    tok = finish_with_transformers(d, "roberta")
    print(f"roberta: {len(tok)} tokens -> {d}")


def train_sp(texts, prefix, lowercase, **kw):
    # The input path is recorded in the model's trainer spec: train from a fixed relative name so the file is
    # byte-identical across runs.
    import sentencepiece as spm  # only the SentencePiece families need it

    prefix = os.path.abspath(prefix)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            with open("corpus.txt", "w", encoding="utf-8") as f:
                for t in texts:
                    f.write((t.lower() if lowercase else t).replace("\n", " ") + "\n")
            spm.SentencePieceTrainer.train(input="corpus.txt", model_prefix=prefix, model_type="unigram",
                                           vocab_size=3000, character_coverage=0.98, num_threads=1,
                                           seed_sentencepiece_size=200000, minloglevel=2, **kw)
        finally:
            os.chdir(cwd)


def make_xlmr(out, texts):
    d = os.path.join(out, "xlmr")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    # sentencepiece's defaults (<unk>=0, <s>=1, </s>=2), as in XLM-R's own model.
    train_sp(texts, os.path.join(d, "sp"), lowercase=False)
    os.rename(os.path.join(d, "sp.model"), os.path.join(d, "sentencepiece.bpe.model"))
    os.remove(os.path.join(d, "sp.vocab"))
    tok = finish_with_transformers(d, "xlm-roberta")
    print(f"xlmr: {len(tok)} tokens -> {d}")


def make_albert(out, texts):
    d = os.path.join(out, "albert")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    train_sp(texts, os.path.join(d, "sp"), lowercase=True, pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
             control_symbols=["[CLS]", "[SEP]", "[MASK]"])
    os.rename(os.path.join(d, "sp.model"), os.path.join(d, "spiece.model"))
    os.remove(os.path.join(d, "sp.vocab"))
    tok = finish_with_transformers(d, "albert")
    print(f"albert: {len(tok)} tokens -> {d}")


def train_wordpiece(out, name, texts, special_tokens):
    """A lowercasing WordPiece vocabulary of 2,000 pieces trained on the corpus into a fresh out/name (vocab.txt)."""
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    wp = BertWordPieceTokenizer(lowercase=True)
    wp.train_from_iterator(texts, vocab_size=2000, min_frequency=2, limit_alphabet=500,
                           special_tokens=special_tokens, show_progress=False)
    wp.save_model(d)
    return d


def make_wordpiece(out, texts):
    d = train_wordpiece(out, "wordpiece", texts, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok = finish_with_transformers(d, "bert")
    print(f"wordpiece: {len(tok)} tokens -> {d}")


def make_mpnet(out, texts):
    d = train_wordpiece(out, "mpnet", texts,
                        ["<s>", "<pad>", "</s>", "<unk>", "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    with open(os.path.join(d, "vocab.txt"), "a", encoding="utf-8") as f:
        f.write("<mask>\n")  # last, as in microsoft/mpnet-base's vocabulary
    tok = finish_with_transformers(d, "mpnet")
    assert type(tok).__name__ == "MPNetTokenizer", type(tok)
    print(f"mpnet: {len(tok)} tokens -> {d}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/data/tokenizer"))
    ap.add_argument("families", nargs="*", help="only these families")
    args = ap.parse_args()
    texts = corpus_lines()
    makers = {"roberta": make_bpe, "xlmr": make_xlmr, "albert": make_albert, "wordpiece": make_wordpiece,
              "mpnet": make_mpnet}
    unknown = set(args.families) - set(makers)
    if unknown:
        ap.error(f"unknown families: {sorted(unknown)}")
    for name, make in makers.items():
        if not args.families or name in args.families:
            make(args.out, texts)


if __name__ == "__main__":
    main()
