"""bertcpp.pipeline against transformers' pipelines on the committed goldens (tests/data/heads/*,
tests/data/variant-heads/*; made by models/make_head_fixtures.py, make_variant_cls_fixtures.py, ...): for every
case the same structure (nesting, keys, python types), identical labels / words / spans / tokens, scores within
1e-4 (fp32). Question answering follows transformers 4.57's pipeline, the last that has it."""

import math

import pytest

import bertcpp

from conftest import DATA, HEAD_DIRS, golden

TOL = 1e-4


def assert_same(expected, got, where):
    """Same structure, same types; floats within TOL, everything else equal."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), f"{where}: expected a dict, got {type(got).__name__}"
        assert list(got.keys()) == list(expected.keys()), f"{where}: keys {list(got)} != {list(expected)}"
        for k in expected:
            assert_same(expected[k], got[k], f"{where}.{k}")
    elif isinstance(expected, list):
        assert isinstance(got, list), f"{where}: expected a list, got {type(got).__name__}"
        assert len(got) == len(expected), f"{where}: {len(got)} entries, expected {len(expected)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            assert_same(e, g, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert type(got) is float, f"{where}: {got!r} is a {type(got).__name__}, expected float"
        assert abs(got - expected) <= TOL, f"{where}: {got} vs {expected}"
    else:
        assert type(got) is type(expected), f"{where}: {got!r} is a {type(got).__name__}, expected {type(expected).__name__}"
        assert got == expected, f"{where}: {got!r} != {expected!r}"


def given(options):
    """The options the golden passed (None = left to the pipeline's default)."""
    return {k: v for k, v in options.items() if v is not None}


# ---- text-classification ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("directory", HEAD_DIRS["text-classification"])
def test_text_classification(directory):
    g = golden(directory)
    clf = bertcpp.pipeline("text-classification", model=DATA / directory)
    assert len(g["cases"]) >= 3
    for c in g["cases"]:
        inp, opts = c["inputs"], c["options"]
        kwargs = {"top_k": opts["top_k"]}  # the goldens always pass top_k (None = every label)
        if opts["function_to_apply"] is not None:
            kwargs["function_to_apply"] = opts["function_to_apply"]
        arg = inp["text"] if inp["text_pair"] is None else {"text": inp["text"], "text_pair": inp["text_pair"]}
        assert_same(c["expected"], clf(arg, **kwargs), f"{directory} {c['name']}")


def test_text_classification_structures():
    """transformers' odd nesting: no top_k -> [best] for a str, best for a dict, [best, ...] for a list."""
    d = DATA / "heads/text-classification"
    g = golden("heads/text-classification")
    clf = bertcpp.pipeline("sentiment-analysis", model=d)
    by_text = {}
    for c in g["cases"]:
        if c["options"] == {"top_k": None, "function_to_apply": None} and c["inputs"]["text_pair"] is None:
            by_text[c["inputs"]["text"]] = c["expected"][0]
    texts = list(by_text)
    assert len(texts) >= 3
    assert_same([by_text[texts[0]]], clf(texts[0]), "str")
    assert_same([by_text[t] for t in texts], clf(texts), "list")
    pair = next(c for c in g["cases"] if c["inputs"]["text_pair"] is not None and c["options"]["top_k"] is None
                and c["options"]["function_to_apply"] is None)
    assert_same(pair["expected"][0], clf(dict(pair["inputs"])), "dict")
    assert_same([[by_text[t]] for t in texts[:2]], clf(texts[:2], top_k=1), "list, top_k=1")
    # pipeline(..., top_k=None) makes it the default of every call
    all_labels = bertcpp.pipeline("text-classification", model=d, top_k=None)
    assert len(all_labels(texts[0])) == len(clf.labels) == g["num_labels"]


# ---- token-classification --------------------------------------------------------------------------------------
@pytest.mark.parametrize("directory", HEAD_DIRS["token-classification"])
def test_token_classification(directory):
    g = golden(directory)
    ner = bertcpp.pipeline("token-classification", model=DATA / directory)
    strides = 0
    for c in g["cases"]:
        opts = given(c["options"])
        strides += "stride" in opts
        assert_same(c["expected"], ner(c["inputs"]["text"], **opts), f"{directory} {c['name']}")
    assert len(g["cases"]) >= 5


def test_token_classification_batch_and_defaults():
    d = DATA / "heads/token-classification"
    g = golden("heads/token-classification")
    simple = [c for c in g["cases"] if c["options"] == {"aggregation_strategy": "simple", "ignore_labels": None,
                                                        "stride": None}]
    assert len(simple) >= 2
    ner = bertcpp.pipeline("ner", model=d, aggregation_strategy="simple")
    assert_same([c["expected"] for c in simple], ner([c["inputs"]["text"] for c in simple]), "batch")
    assert any(c["options"]["stride"] for c in g["cases"]), "the goldens cover stride windows"


# ---- question-answering ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("directory", HEAD_DIRS["question-answering"])
def test_question_answering(directory):
    g = golden(directory)
    qa = bertcpp.pipeline("question-answering", model=DATA / directory)
    for c in g["cases"]:
        expected = c["expected"]  # recorded as a list; the pipeline returns a lone answer unwrapped
        got = qa(question=c["inputs"]["question"], context=c["inputs"]["context"], **given(c["options"]))
        assert_same(expected[0] if len(expected) == 1 else expected, got, f"{directory} {c['name']}")
    for e in g.get("error_cases", []):
        with pytest.raises(bertcpp.Error) as info:
            qa(question=e["inputs"]["question"], context=e["inputs"]["context"], **given(e["options"]))
        assert isinstance(info.value, ValueError), e["python_error"]


def test_question_answering_call_forms():
    g = golden("heads/question-answering")
    qa = bertcpp.pipeline("question-answering", model=DATA / "heads/question-answering")
    c = next(c for c in g["cases"] if not any(v is not None for v in c["options"].values()))
    q, ctx = c["inputs"]["question"], c["inputs"]["context"]
    one = c["expected"][0]
    assert_same(one, qa(q, ctx), "positional")
    assert_same(one, qa({"question": q, "context": ctx}), "dict")
    assert_same([one, one], qa(question=[q, q], context=[ctx, ctx]), "lists")


# ---- fill-mask ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("directory", HEAD_DIRS["fill-mask"])
def test_fill_mask(directory):
    g = golden(directory)
    fill = bertcpp.pipeline("fill-mask", model=DATA / directory)
    several = 0
    for c in g["cases"]:
        got = fill(c["inputs"]["text"], **given(c["options"]))
        several += isinstance(c["expected"][0], list)
        assert_same(c["expected"], got, f"{directory} {c['name']}")
    assert several > 0, "the goldens cover texts with several masks"
    for e in g.get("error_cases", []):
        with pytest.raises(bertcpp.InvalidArgumentError):
            fill(e["inputs"]["text"], **given(e["options"]))


def test_fill_mask_batch():
    g = golden("heads/fill-mask")
    fill = bertcpp.pipeline("fill-mask", model=DATA / "heads/fill-mask")
    plain = [c for c in g["cases"] if c["options"] == {"top_k": None, "targets": None}]
    assert len(plain) >= 2
    assert_same([c["expected"] for c in plain], fill([c["inputs"]["text"] for c in plain]), "batch")
    assert_same(plain[0]["expected"], fill([plain[0]["inputs"]["text"]]), "a list of one is unwrapped")


# ---- sentence embeddings ---------------------------------------------------------------------------------------
def cosine(a, b):
    return float((a @ b) / math.sqrt(float(a @ a) * float(b @ b)))


@pytest.mark.parametrize("directory", HEAD_DIRS["sentence-embeddings"])
def test_sentence_embeddings_tiny(directory):
    import numpy as np

    g = golden(directory)
    st = bertcpp.SentenceTransformer(DATA / directory)
    for c in g["cases"]:
        expected = np.asarray(c["expected"], dtype=np.float64)
        got = st.encode(c["inputs"]["sentences"], batch_size=4)
        assert got.dtype == np.float32 and got.shape == expected.shape
        assert st.get_sentence_embedding_dimension() == expected.shape[1]  # Dense modules change it
        assert np.abs(got - expected).max() <= TOL, c["name"]
        assert min(cosine(a, b) for a, b in zip(got.astype(np.float64), expected)) >= 0.99999
    modes = g["cases"][0]["options"]["pooling"]
    assert st.pooling == (tuple(modes) if isinstance(modes, list) else modes)  # several: concatenated, in order


@pytest.mark.parametrize("directory", ["heads/sentence-embeddings-prompts", "heads/sentence-embeddings-prompts-included"])
def test_sentence_embeddings_prompts(directory):
    """prompt / prompt_name / the default prompt as sentence-transformers applies them (and leaves them out of the
    pooling with include_prompt false), through encode, encode_query and encode_document."""
    import numpy as np

    g = golden(directory)
    st = bertcpp.SentenceTransformer(DATA / directory)
    assert {c["options"]["method"] for c in g["cases"]} == {"encode", "encode_query", "encode_document"}
    for c in g["cases"]:
        o = c["options"]
        got = getattr(st, o["method"])(c["inputs"]["sentences"], prompt_name=o["prompt_name"], prompt=o["prompt"],
                                       batch_size=3)
        assert np.abs(got - np.asarray(c["expected"], dtype=np.float64)).max() <= TOL, c["name"]
    assert st.prompts["document"] == ""  # always there, as sentence-transformers has it
    if directory.endswith("prompts"):
        assert st.default_prompt_name == "query" and st.prompts["passage"] == "passage: "
        with pytest.raises(bertcpp.InvalidArgumentError, match="prompt_name 'question' is not one of"):
            st.encode(["x"], prompt_name="question")
        with pytest.raises(bertcpp.InvalidArgumentError, match="prompt must be a str"):
            st.encode(["x"], prompt=3)


def test_sentence_embeddings_truncate_dim():
    """truncate_dim (constructor or encode) keeps the first values of the normalized embedding, as
    sentence-transformers; normalize_embeddings then normalizes what is kept."""
    import pickle

    import numpy as np

    directory = "heads/sentence-embeddings-dense"
    g = golden(directory)
    c = g["cases"][0]
    expected = np.asarray(c["expected"], dtype=np.float64)
    st = bertcpp.SentenceTransformer(DATA / directory)
    got = st.encode(c["inputs"]["sentences"], truncate_dim=5)
    assert got.shape == (len(expected), 5)
    assert np.abs(got - expected[:, :5]).max() <= TOL
    normalized = st.encode(c["inputs"]["sentences"], truncate_dim=5, normalize_embeddings=True)
    assert np.allclose(np.linalg.norm(normalized, axis=1), 1.0, atol=1e-6)
    cut = bertcpp.SentenceTransformer(DATA / directory, truncate_dim=3)
    assert cut.get_sentence_embedding_dimension() == 3 and st.get_sentence_embedding_dimension() == expected.shape[1]
    assert cut.encode(c["inputs"]["sentences"][0]).shape == (3,)
    assert cut.encode([]).shape == (0, 3)
    assert cut.encode(["x"], truncate_dim=4).shape == (1, 4)  # encode's argument wins
    assert pickle.loads(pickle.dumps(cut)).truncate_dim == 3
    with pytest.raises(bertcpp.InvalidArgumentError, match="truncate_dim must be an int >= 1"):
        st.encode(["x"], truncate_dim=0)


def test_sentence_embeddings_similarity(tmp_path):
    """similarity / similarity_pairwise with the model's similarity_fn_name (sentence-transformers' four
    functions), against their definitions worked out by hand."""
    import json
    import shutil

    import numpy as np

    a = np.array([[1.0, 2.0, 2.0], [0.0, -3.0, 4.0]], dtype=np.float32)
    b = np.array([[2.0, 0.0, 0.0], [1.0, 2.0, 2.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    expected = {
        "cosine": [[1 / 3, 1.0, 0.0], [0.0, 2 / 15, 0.0]],
        "dot": [[2.0, 9.0, 0.0], [0.0, 2.0, 0.0]],
        "euclidean": [[-3.0, 0.0, -3.0], [-np.sqrt(29), -np.sqrt(30), -5.0]],
        "manhattan": [[-5.0, 0.0, -5.0], [-9.0, -8.0, -7.0]],
    }
    source = DATA / "heads/sentence-embeddings-concat"
    for name, want in expected.items():
        d = tmp_path / name
        shutil.copytree(source, d, symlinks=False)
        config = json.loads((d / "config_sentence_transformers.json").read_text())
        config["similarity_fn_name"] = name
        (d / "config_sentence_transformers.json").write_text(json.dumps(config))
        st = bertcpp.SentenceTransformer(d)
        assert st.similarity_fn_name == name
        got = st.similarity(a, b)
        assert got.dtype == np.float32 and got.shape == (2, 3)
        assert np.abs(got - np.asarray(want)).max() <= 1e-6, name
        pair = st.similarity_pairwise(a, b[:2])
        assert np.abs(pair - np.asarray(want)[[0, 1], [0, 1]]).max() <= 1e-6, name
        assert st.similarity(a[0], b).shape == (1, 3)  # a vector is one row
    with pytest.raises(bertcpp.InvalidArgumentError, match="same D"):
        st.similarity(a, b[:, :2])


def test_sentence_embeddings_minilm(minilm_dir):
    """all-MiniLM-L6-v2 on 35 sentences (one of 296 tokens, cut at max_seq_length 256) vs sentence-transformers."""
    import json

    import numpy as np

    with open(DATA / "minilm" / "sentence_embeddings.json", encoding="utf-8") as f:
        g = json.load(f)
    st = bertcpp.SentenceTransformer(minilm_dir)
    got = st.encode(g["sentences"], batch_size=32)
    expected = np.asarray(g["embeddings"], dtype=np.float64)
    assert got.shape == expected.shape == (35, 384)
    worst = min(cosine(a, b) for a, b in zip(got.astype(np.float64), expected))
    assert worst >= 0.99999, worst
    assert np.abs(got - expected).max() <= TOL
    # sentence-transformers' call forms: a str gives [H]; normalize_embeddings on an already normalized model
    one = st.encode(g["sentences"][0])
    assert one.shape == (384,) and np.abs(one - got[0]).max() <= 1e-6
    assert np.abs(st.encode(g["sentences"][:3], normalize_embeddings=True) - got[:3]).max() <= 1e-6
    as_list = st.encode(g["sentences"][:2], convert_to_numpy=False)
    assert isinstance(as_list, list) and len(as_list) == 2 and as_list[1].shape == (384,)
    assert st.get_sentence_embedding_dimension() == 384 and st.max_seq_length == 256
