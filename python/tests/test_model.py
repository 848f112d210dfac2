"""bertcpp.BertModel against transformers' encoder outputs (tests/data/encoder/*/golden_*.safetensors, made by
models/make_encoder_fixtures.py): last_hidden_state at attended positions, pooler_output and every hidden state
within fp32 max-abs 1e-4, from padded numpy inputs as transformers takes them. Outputs are numpy arrays over the
C++ buffers (no copy)."""

import json
import struct

import numpy as np
import pytest

import bertcpp

from conftest import DATA

TOL = 1e-4
ENCODERS = sorted(p.name for p in (DATA / "encoder").iterdir() if (p / "config.json").is_file())
DTYPES = {"F32": np.float32, "I64": np.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        out[name] = np.frombuffer(blob[begin:end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
    return out


def test_fixtures_found():
    assert len(ENCODERS) == 5, ENCODERS


@pytest.mark.parametrize("name", ENCODERS)
def test_matches_transformers(name):
    d = DATA / "encoder" / name
    model = bertcpp.BertModel.from_pretrained(d, hidden_states=True)
    goldens = sorted(d.glob("golden_*.safetensors"))
    assert goldens
    checked_layers = []
    for path in goldens:
        g = read_safetensors(path)
        out = model(input_ids=g["input_ids"], attention_mask=g["attention_mask"], token_type_ids=g["token_type_ids"])
        mask = g["attention_mask"].astype(bool)
        last = out.last_hidden_state
        assert last.dtype == np.float32 and last.shape == g["last_hidden_state"].shape
        assert np.abs(last[mask] - g["last_hidden_state"][mask]).max() <= TOL, path.name
        assert np.all(last[~mask] == 0), "rows of masked-out tokens are zero"
        if "pooler_output" in g and out.pooler_output is not None:
            assert np.abs(out.pooler_output - g["pooler_output"]).max() <= TOL, path.name
        layers = sorted((k for k in g if k.startswith("hidden_states.")), key=lambda k: int(k.split(".")[1]))
        if layers:  # the fixtures that record them
            assert len(out.hidden_states) == len(layers)
            checked_layers.append(path.name)
        for k, h in zip(layers, out.hidden_states):
            assert np.abs(h[mask] - g[k][mask]).max() <= TOL, f"{path.name} {k}"
    assert checked_layers or name != "bert_h48_gelu_f32"


def test_inputs_of_any_int_dtype_and_no_copy():
    d = DATA / "encoder" / "bert_h48_gelu_f32"
    g = read_safetensors(d / "golden_mixed.safetensors")
    model = bertcpp.BertModel.from_pretrained(d)
    ref = model(g["input_ids"], g["attention_mask"], g["token_type_ids"])
    as_int32 = model(input_ids=g["input_ids"].astype(np.int32), attention_mask=g["attention_mask"].astype(np.int32),
                     token_type_ids=g["token_type_ids"].tolist())
    assert np.array_equal(ref["last_hidden_state"], as_int32.last_hidden_state)
    assert "hidden_states" not in ref
    # The array is a view of the C++ output buffer, owned through a capsule: nothing was copied.
    assert not ref.last_hidden_state.flags.owndata and ref.last_hidden_state.base is not None
    assert ref.last_hidden_state.flags.c_contiguous and ref.last_hidden_state.flags.writeable


def test_texts_through_the_directorys_tokenizer(minilm_dir):
    model = bertcpp.BertModel.from_pretrained(minilm_dir, threads=2)
    tok = bertcpp.Tokenizer.from_pretrained(minilm_dir)
    texts = ["A man is eating food.", "A man is eating a piece of bread, slowly."]
    enc = tok(texts, padding=True, return_tensors="np")
    assert set(enc) == {"input_ids", "token_type_ids", "attention_mask"}
    a = model(**enc)
    b = model.encode_texts(texts)
    mask = enc["attention_mask"].astype(bool)
    assert np.abs(a.last_hidden_state[mask] - b.last_hidden_state[mask]).max() <= 1e-5
    assert model.config["hidden_size"] == 384 and model.config["model_type"] == "bert"
    assert model.tokenizer("hi")["input_ids"] == tok("hi")["input_ids"]
