"""bertcpp.Tokenizer against Hugging Face on the committed corpus (tests/data/tokenizer/): for every configuration
of tests/data/tokenizer/hf/*.jsonl.gz (the files tests/tokenizer_parity_test.cpp and
tests/tokenizer_sentencepiece_test.cpp read) and every input in it, the Python call returns exactly HF's
input_ids, token_type_ids, offsets and windows (return_overflowing_tokens=True), and the token strings,
special_tokens_mask and word ids where the fixture records them. Inputs HF refuses raise InvalidArgumentError."""

import gzip
import json
import shutil

import pytest

import bertcpp

from conftest import DATA

TOK = DATA / "tokenizer"
CONFIGS = sorted(p.name[: -len(".jsonl.gz")] for p in (TOK / "hf").glob("*.jsonl.gz"))


def test_every_fixture_is_covered():
    assert len(CONFIGS) == 50, CONFIGS


def corpus():
    with open(TOK / "corpus.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


CORPUS = corpus()


def text_of(ref):
    return CORPUS[ref] if isinstance(ref, int) else " ".join(CORPUS[i] for i in ref)


def tokenizer_for(settings, tmp_path):
    if "file" in settings:
        return bertcpp.Tokenizer.from_file(TOK / settings["file"])
    if "bpe_json" in settings:
        return bertcpp.Tokenizer.from_file(TOK / settings["bpe_json"])
    if "bpe_dir" in settings:  # tokenizer.json next to the recorded tokenizer_config.json
        shutil.copy(TOK / settings["bpe_dir"], tmp_path / "tokenizer.json")
        (tmp_path / "tokenizer_config.json").write_text(json.dumps(settings["tokenizer_config"]))
        return bertcpp.Tokenizer.from_pretrained(tmp_path)
    if "bpe_files" in settings:
        d = TOK / settings["bpe_files"]
        return bertcpp.Tokenizer.from_bpe_files(d / "vocab.json", d / "merges.txt",
                                                add_prefix_space=settings["add_prefix_space"])
    if "dir" in settings:  # SentencePiece or MPNet: the directory as shipped, or its model with tokenizer_config
        # overrides
        d = TOK / settings["dir"]
        if not settings["tokenizer_config"]:
            return bertcpp.Tokenizer.from_pretrained(d)
        shutil.copy(d / settings["model_file"], tmp_path / settings["model_file"])
        config = json.loads((d / "tokenizer_config.json").read_text())
        config.update(settings["tokenizer_config"])
        (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
        return bertcpp.Tokenizer.from_pretrained(tmp_path)
    return bertcpp.Tokenizer.from_vocab(TOK / settings["vocab"], do_lower_case=settings["do_lower_case"],
                                        strip_accents=settings["strip_accents"],
                                        tokenize_chinese_chars=settings["tokenize_chinese_chars"])


def call_kwargs(encode):
    return {"truncation": encode["truncation"], "max_length": encode["max_length"] or None,
            "stride": encode["stride"], "return_overflowing_tokens": True, "return_offsets_mapping": True,
            "return_special_tokens_mask": True, "return_token_type_ids": True}


def window_diff(expected, got, i):
    """None when window i of `got` (a BatchEncoding of windows) equals HF's, else what differs first."""
    checks = [("ids", expected["ids"], got["input_ids"][i]),
              ("type_ids", expected["type_ids"], got["token_type_ids"][i]),
              ("offsets", expected["offsets"], [x for pair in got["offset_mapping"][i] for x in pair])]
    if "special_tokens_mask" in expected:
        checks.append(("special_tokens_mask", expected["special_tokens_mask"], got["special_tokens_mask"][i]))
    if "tokens" in expected:
        checks.append(("tokens", expected["tokens"], got.tokens(i)))
    if "word_ids" in expected:
        checks.append(("word_ids", expected["word_ids"], got.word_ids(i)))
    for name, want, have in checks:
        if list(want) != list(have):
            at = next((k for k, (a, b) in enumerate(zip(want, have)) if a != b), min(len(want), len(have)))
            return f"{name} differ at {at}: HF {want[max(0, at - 2):at + 3]} bertcpp {list(have)[max(0, at - 2):at + 3]}"
    return None


@pytest.mark.parametrize("config", CONFIGS)
def test_matches_hugging_face(config, tmp_path):
    with gzip.open(TOK / "hf" / f"{config}.jsonl.gz", "rt", encoding="utf-8") as f:
        header = json.loads(f.readline())
        records = [json.loads(line) for line in f if line.strip()]
    assert header["corpus_lines"] == len(CORPUS)
    tok = tokenizer_for(header["tokenizer"], tmp_path)
    kwargs = call_kwargs(header["encode"])

    good = [r for r in records if "error" not in r]
    refused = [r for r in records if "error" in r]
    # The inputs HF encodes: one batched call, windows mapped back by overflow_to_sample_mapping.
    texts = [text_of(r["a"]) for r in good]
    pairs = [text_of(r["b"]) for r in good] if good and "b" in good[0] else None
    enc = tok(texts, pairs, **kwargs)
    windows_of = {}
    for w, sample in enumerate(enc["overflow_to_sample_mapping"]):
        windows_of.setdefault(sample, []).append(w)
    failures = []
    for n, r in enumerate(good):
        ws = windows_of.get(n, [])
        if len(ws) != len(r["windows"]):
            failures.append(f"a={r['a']}: HF {len(r['windows'])} windows, bertcpp {len(ws)}")
            continue
        for expected, w in zip(r["windows"], ws):
            diff = window_diff(expected, enc, w)
            if diff:
                failures.append(f"a={r['a']} b={r.get('b')} window {w - ws[0]}: {diff}")
                break
    # The inputs HF refuses (truncation cannot reach max_length, or stride leaves no room).
    for r in refused:
        with pytest.raises(bertcpp.InvalidArgumentError, match="max_length|stride"):
            tok(text_of(r["a"]), text_of(r["b"]) if "b" in r else None, **kwargs)
    assert not failures, f"{len(failures)} of {len(good)} inputs differ, first ones:\n" + "\n".join(failures[:5])
    assert len(good) + len(refused) == len(records) > 100
