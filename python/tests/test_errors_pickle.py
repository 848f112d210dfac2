"""Errors: every C++ bertcpp::Error arrives as the Python class of the same name, deriving from OSError (files
that cannot be read) or ValueError (everything else), with the C++ message naming the file / field / input.
Pickling: every object reloads from its directory with its options and gives the same results."""

import json
import pickle
import shutil
import threading

import numpy as np
import pytest

import bertcpp

from conftest import DATA

ENCODER = DATA / "encoder" / "bert_h48_gelu_f32"


def test_hierarchy():
    assert issubclass(bertcpp.IoError, OSError)
    for cls in (bertcpp.FormatError, bertcpp.ConfigError, bertcpp.UnsupportedError, bertcpp.InvalidArgumentError,
                bertcpp.Utf8Error):
        assert issubclass(cls, ValueError) and not issubclass(cls, OSError)
    for cls in (bertcpp.IoError, bertcpp.FormatError, bertcpp.ConfigError, bertcpp.UnsupportedError,
                bertcpp.InvalidArgumentError, bertcpp.Utf8Error):
        assert issubclass(cls, bertcpp.Error)


def copy_of(src, tmp_path):
    dst = tmp_path / "model"
    shutil.copytree(src, dst)
    return dst


def test_missing_directory_is_an_io_error(tmp_path):
    with pytest.raises(bertcpp.IoError, match="nowhere: no such directory") as info:
        bertcpp.BertModel.from_pretrained(tmp_path / "nowhere")
    assert isinstance(info.value, OSError) and info.value.code == "io"
    with pytest.raises(OSError):
        bertcpp.Tokenizer.from_pretrained(tmp_path / "nowhere")


def test_malformed_config_is_a_format_error(tmp_path):
    d = copy_of(ENCODER, tmp_path)
    (d / "config.json").write_text("{ not json")
    with pytest.raises(bertcpp.FormatError, match="config.json") as info:
        bertcpp.BertModel.from_pretrained(d)
    assert isinstance(info.value, ValueError)


def test_missing_field_is_a_config_error(tmp_path):
    d = copy_of(ENCODER, tmp_path)
    config = json.loads((d / "config.json").read_text())
    del config["hidden_size"]
    (d / "config.json").write_text(json.dumps(config))
    with pytest.raises(bertcpp.ConfigError, match="hidden_size"):
        bertcpp.BertModel.from_pretrained(d)


def test_unknown_model_type_is_unsupported(tmp_path):
    d = copy_of(ENCODER, tmp_path)
    config = json.loads((d / "config.json").read_text())
    config["model_type"] = "gpt2"
    (d / "config.json").write_text(json.dumps(config))
    with pytest.raises(bertcpp.UnsupportedError, match="gpt2"):
        bertcpp.BertModel.from_pretrained(d)


def test_truncated_weights_are_a_format_error(tmp_path):
    d = copy_of(ENCODER, tmp_path)
    data = (d / "model.safetensors").read_bytes()
    (d / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(bertcpp.FormatError, match="model.safetensors"):
        bertcpp.BertModel.from_pretrained(d)


def test_bad_inputs_are_invalid_argument_errors():
    model = bertcpp.BertModel.from_pretrained(ENCODER)
    vocab = model.config["vocab_size"]
    with pytest.raises(bertcpp.InvalidArgumentError, match=str(vocab)):
        model(input_ids=np.array([[1, 2, vocab]]))
    with pytest.raises(bertcpp.InvalidArgumentError, match="shape"):
        model(input_ids=np.ones((2, 3), np.int64), attention_mask=np.ones((2, 4), np.int64))
    with pytest.raises(bertcpp.InvalidArgumentError, match="integers"):
        model(input_ids=np.ones((1, 3), np.float32))
    with pytest.raises(bertcpp.InvalidArgumentError):
        model(input_ids=np.zeros((1, 0), np.int64))
    with pytest.raises(bertcpp.InvalidArgumentError, match="compute"):
        bertcpp.BertModel.from_pretrained(ENCODER, compute="fp16")
    with pytest.raises(bertcpp.InvalidArgumentError, match="threads"):
        bertcpp.BertModel.from_pretrained(ENCODER, threads=-1)


def test_pipeline_argument_errors():
    fill = bertcpp.pipeline("fill-mask", model=DATA / "heads/fill-mask")
    with pytest.raises(bertcpp.InvalidArgumentError, match="mask"):
        fill("no mask token here")
    ner = bertcpp.pipeline("token-classification", model=DATA / "heads/token-classification")
    with pytest.raises(bertcpp.InvalidArgumentError, match="aggregation"):
        ner("Angela Merkel", aggregation_strategy="sum")
    with pytest.raises(bertcpp.InvalidArgumentError, match="aggregation none"):
        ner("Angela Merkel", stride=4)
    with pytest.raises(TypeError, match="unexpected"):
        ner("Angela Merkel", beam_size=3)
    with pytest.raises(bertcpp.InvalidArgumentError, match="unknown task"):
        bertcpp.pipeline("summarization", model=DATA / "heads/fill-mask")
    tok = bertcpp.Tokenizer.from_pretrained(DATA / "heads/fill-mask")
    with pytest.raises(bertcpp.InvalidArgumentError, match="padding=True"):
        tok(["a", "a b c"], return_tensors="np")
    with pytest.raises(bertcpp.InvalidArgumentError, match="truncation"):
        tok("a", truncation="sometimes")


def test_errors_from_threads_do_not_crash():
    model = bertcpp.BertModel.from_pretrained(ENCODER)
    caught = []

    def bad():
        try:
            model(input_ids=np.array([[10**6]]))
        except bertcpp.InvalidArgumentError as e:
            caught.append(e)

    threads = [threading.Thread(target=bad) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(caught) == 4


# ---- pickling ----------------------------------------------------------------------------------------------------
def roundtrip(obj):
    return pickle.loads(pickle.dumps(obj))


def test_pickle_tokenizers():
    tok_dir = DATA / "tokenizer"
    for tok in (bertcpp.Tokenizer.from_pretrained(DATA / "variant-heads/roberta-text-classification"),
                bertcpp.Tokenizer.from_file(tok_dir / "tokenizer.json"),
                bertcpp.Tokenizer.from_vocab(tok_dir / "vocab.txt", do_lower_case=False),
                bertcpp.Tokenizer.from_bpe_files(tok_dir / "roberta/vocab.json", tok_dir / "roberta/merges.txt",
                                                 add_prefix_space=True)):
        again = roundtrip(tok)
        text = "Héllo, World! 東京 naïve"
        assert again(text, return_offsets_mapping=True) == tok(text, return_offsets_mapping=True)
        assert again.model_input_names == tok.model_input_names


def test_pickle_model_and_pipelines():
    model = bertcpp.BertModel.from_pretrained(ENCODER, threads=1, hidden_states=True)
    ids = np.array([[2, 17, 33, 3]])
    again = roundtrip(model)
    assert np.array_equal(again(ids).last_hidden_state, model(ids).last_hidden_state)
    assert len(again(ids).hidden_states) == len(model(ids).hidden_states)

    cases = [("text-classification", "heads/text-classification", ("a gripping, funny film",), {"top_k": None}),
             ("token-classification", "heads/token-classification", ("Angela Merkel visited Paris.",),
              {"aggregation_strategy": "max"}),
             ("question-answering", "heads/question-answering", (), {"question": "Where does Ana live?",
              "context": "My sister Ana lives in São Paulo, Brazil."}),
             ("fill-mask", "heads/fill-mask", ("Paris is the [MASK] of France.",), {"top_k": 3})]
    for task, d, args, kwargs in cases:
        pipe = bertcpp.pipeline(task, model=DATA / d, aggregation_strategy="max") if task == "token-classification" \
            else bertcpp.pipeline(task, model=DATA / d)
        again = roundtrip(pipe)
        assert type(again) is type(pipe) and again.model == pipe.model
        assert again(*args, **kwargs) == pipe(*args, **kwargs), task
    ner = roundtrip(bertcpp.pipeline("ner", model=DATA / "heads/token-classification", aggregation_strategy="first"))
    assert all("entity_group" in e for e in ner("Angela Merkel visited Paris."))  # call defaults survive too

    st = bertcpp.SentenceTransformer(DATA / "heads/sentence-embeddings-cls")
    texts = ["one sentence", "and another one"]
    assert np.array_equal(roundtrip(st).encode(texts), st.encode(texts))


def test_text_without_utf8_form_is_a_utf8_error():
    """A Python str may hold a lone surrogate, which has no UTF-8 form: Utf8Error with the byte offset."""
    tok = bertcpp.Tokenizer.from_pretrained(DATA / "heads/fill-mask")
    with pytest.raises(bertcpp.Utf8Error, match="U\\+D800") as info:
        tok(["fine", "ab\ud800c"])
    assert info.value.byte_offset == 2 and isinstance(info.value, ValueError)
    st = bertcpp.SentenceTransformer(DATA / "heads/sentence-embeddings-cls")
    with pytest.raises(bertcpp.Utf8Error):
        st.encode(["é\udfffx"])
    ner = bertcpp.pipeline("ner", model=DATA / "heads/token-classification")
    with pytest.raises(bertcpp.Utf8Error):
        ner("Angela \ud800")
