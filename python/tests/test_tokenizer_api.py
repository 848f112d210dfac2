"""The layout of bertcpp.Tokenizer's results: the calls below were run with transformers 5.24's AutoTokenizer
on the same directories, and its results are written here as the expected values (keys, nesting, padding,
overflow mapping, the RoBERTa-style tokenizers' missing token_type_ids)."""

import numpy as np

import bertcpp

from conftest import DATA

BERT = DATA / "heads/fill-mask"
ROBERTA = DATA / "variant-heads/roberta-text-classification"


def test_single_text():
    tok = bertcpp.Tokenizer.from_pretrained(BERT)
    assert dict(tok("Hello world")) == {"input_ids": [101, 7592, 2088, 102], "token_type_ids": [0, 0, 0, 0],
                                        "attention_mask": [1, 1, 1, 1]}
    # stride without return_overflowing_tokens: the first window only
    assert dict(tok("one two three four five six", truncation=True, max_length=5, stride=1)) == {
        "input_ids": [101, 2028, 2048, 2093, 102], "token_type_ids": [0] * 5, "attention_mask": [1] * 5}


def test_batch_with_padding():
    tok = bertcpp.Tokenizer.from_pretrained(BERT)
    assert dict(tok(["Hello world", "a b c d e"], padding=True)) == {
        "input_ids": [[101, 7592, 2088, 102, 0, 0, 0], [101, 1037, 1038, 1039, 1040, 1041, 102]],
        "token_type_ids": [[0] * 7, [0] * 7],
        "attention_mask": [[1, 1, 1, 1, 0, 0, 0], [1] * 7]}
    enc = tok(["Hello world", "a b c d e"], padding=True, return_tensors="np")
    assert enc["input_ids"].dtype == np.int64 and enc["input_ids"].shape == (2, 7)


def test_pair_padded_to_max_length():
    tok = bertcpp.Tokenizer.from_pretrained(BERT)
    assert dict(tok("Hi", "there", padding="max_length", max_length=8, return_special_tokens_mask=True,
                    return_length=True)) == {
        "input_ids": [101, 7632, 102, 2045, 102, 0, 0, 0], "token_type_ids": [0, 0, 0, 1, 1, 0, 0, 0],
        "attention_mask": [1, 1, 1, 1, 1, 0, 0, 0], "special_tokens_mask": [1, 0, 1, 0, 1, 1, 1, 1], "length": [8]}


def test_overflowing_windows():
    tok = bertcpp.Tokenizer.from_pretrained(BERT)
    enc = tok("one two three four five six", truncation=True, max_length=5, stride=1,
              return_overflowing_tokens=True, return_offsets_mapping=True)
    assert dict(enc) == {
        "input_ids": [[101, 2028, 2048, 2093, 102], [101, 2093, 2176, 2274, 102], [101, 2274, 2416, 102]],
        "token_type_ids": [[0] * 5, [0] * 5, [0] * 4],
        "attention_mask": [[1] * 5, [1] * 5, [1] * 4],
        "offset_mapping": [[(0, 0), (0, 3), (4, 7), (8, 13), (0, 0)], [(0, 0), (8, 13), (14, 18), (19, 23), (0, 0)],
                           [(0, 0), (19, 23), (24, 27), (0, 0)]],
        "overflow_to_sample_mapping": [0, 0, 0]}
    assert enc.word_ids(1) == [None, 2, 3, 4, None] and enc.tokens(2) == ["[CLS]", "five", "six", "[SEP]"]
    batch = tok(["Hello world", "a b c d e f g"], truncation=True, max_length=4, return_overflowing_tokens=True)
    assert batch["input_ids"] == [[101, 7592, 2088, 102], [101, 1037, 1038, 102], [101, 1039, 1040, 102],
                                  [101, 1041, 1042, 102], [101, 1043, 102]]
    assert batch["overflow_to_sample_mapping"] == [0, 1, 1, 1, 1]


def test_roberta_has_no_token_type_ids():
    tok = bertcpp.Tokenizer.from_pretrained(ROBERTA)
    assert dict(tok("Hello world", "pair")) == {"input_ids": [0, 44, 855, 83, 357, 312, 1097, 2, 2, 1457, 352, 2],
                                                "attention_mask": [1] * 12}
    assert "token_type_ids" in tok("Hello", return_token_type_ids=True)


def test_mpnet_has_no_token_type_ids():
    # transformers 5.24's MPNetTokenizer on the same directory: WordPiece, <s> A </s></s> B </s>, no token types.
    tok = bertcpp.Tokenizer.from_pretrained(DATA / "variant-heads/mpnet-text-classification")
    assert dict(tok("Hello world", "pair")) == {"input_ids": [0, 1243, 514, 514, 510, 1848, 1375, 2, 2, 1827, 999, 2],
                                                "attention_mask": [1] * 12}
    assert tok("Hello", return_token_type_ids=True)["token_type_ids"] == [0] * 6


def test_helpers():
    tok = bertcpp.Tokenizer.from_pretrained(BERT)
    assert tok.decode([101, 7592, 102]) == "[CLS] hello [SEP]"
    assert tok.decode([101, 7592, 102], skip_special_tokens=True) == "hello"
    assert tok.tokenize("Hello world") == ["hello", "world"]
    assert tok.encode("Hello") == [101, 7592, 102]
    assert tok.convert_ids_to_tokens([101, 7592]) == ["[CLS]", "hello"]
    assert tok.convert_tokens_to_ids(["hello", "not-a-token-xyz"]) == [7592, tok.unk_token_id]
    assert tok.mask_token == "[MASK]" and tok.pad_token_id == 0 and len(tok) == tok.vocab_size
