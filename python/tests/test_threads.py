"""The GIL is released inside the C++ calls: while one thread encodes, another thread keeps running Python; and
threads sharing one object get the results of a sequential run."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import bertcpp

from conftest import DATA

MODEL = DATA / "heads" / "sentence-embeddings-cls"


def corpus(n):
    with open(DATA / "tokenizer" / "corpus.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["text"] for _, line in zip(range(n), f)]


def python_iterations_during(call):
    """How many loop iterations the calling thread makes while `call` runs in another thread."""
    started = threading.Event()

    def run():
        started.set()
        call()

    t = threading.Thread(target=run)
    t.start()
    started.wait()
    n = 0
    while t.is_alive():
        n += 1
    t.join()
    return n


def test_gil_released_during_encode_and_tokenize():
    st = bertcpp.SentenceTransformer(MODEL, threads=1)
    texts = corpus(2000) * 2
    # Holding the GIL, the C++ call would let this thread make no progress until it returned (a few hundred
    # milliseconds at least); released, this thread spins freely meanwhile.
    assert python_iterations_during(lambda: st.encode(texts, batch_size=64)) > 10000
    tok = bertcpp.Tokenizer.from_pretrained(MODEL)
    assert python_iterations_during(lambda: tok._tok.encode_many(texts * 3, None, True, 0, 0, 0, False, 0, 0)) > 10000


def test_threads_share_one_object():
    st = bertcpp.SentenceTransformer(MODEL, threads=1)
    ner = bertcpp.pipeline("ner", model=DATA / "heads/token-classification", aggregation_strategy="simple")
    texts = corpus(64)
    chunks = [texts[i::4] for i in range(4)]
    alone = [st.encode(c) for c in chunks]
    alone_ner = [ner(c) for c in chunks]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(st.encode, chunks))
        together_ner = list(pool.map(ner, chunks))
    for a, b in zip(alone, together):
        assert np.abs(a - b).max() <= 1e-6
    assert together_ner == alone_ner
