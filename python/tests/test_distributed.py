"""The distributed example (python/examples/embed_corpus_dask.py) on a Dask LocalCluster of 2 worker processes:
the whole corpus (tests/data/tokenizer/corpus.jsonl, 2,731 lines in 30 scripts) is embedded into Parquet, both
workers take part, and every row equals a single-process bertcpp.SentenceTransformer.encode of the same line."""

import importlib.util
import sys

import numpy as np
import pytest

import bertcpp

from conftest import DATA, ROOT

distributed = pytest.importorskip("distributed", reason="pip install .[test] brings dask[distributed]")
pq = pytest.importorskip("pyarrow.parquet")

MODEL = DATA / "heads" / "sentence-embeddings-mean_sqrt_len"
CORPUS = DATA / "tokenizer" / "corpus.jsonl"


def load_example():
    path = ROOT / "python" / "examples" / "embed_corpus_dask.py"
    spec = importlib.util.spec_from_file_location("embed_corpus_dask", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["embed_corpus_dask"] = module
    spec.loader.exec_module(module)
    return module


def test_two_local_workers_match_one_process(tmp_path):
    import json

    example = load_example()
    out = tmp_path / "embeddings"
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with distributed.Client(cluster) as client:
            rows, tasks_of = example.run(MODEL, CORPUS, out, client, batch_size=16, lines_per_block=200, threads=1,
                                          timeout=600)
    finally:
        cluster.close()

    with open(CORPUS, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    assert rows == len(texts) == 2731
    assert len(tasks_of) == 2, f"both worker processes ran blocks: {tasks_of}"
    assert sum(tasks_of.values()) == 14

    table = pq.read_table(out)
    assert table.num_rows == len(texts)
    lines = table.column("line").to_numpy()
    assert sorted(lines.tolist()) == list(range(len(texts)))
    assert table.column("id").to_pylist() == [str(n) for n in lines]
    got = np.stack(table.column("embedding").to_numpy(zero_copy_only=False))
    assert got.dtype == np.float32

    reference = bertcpp.SentenceTransformer(MODEL, threads=1).encode(texts, batch_size=32)[lines]
    assert got.shape == reference.shape
    worst = np.abs(got - reference).max()
    assert worst <= 1e-5, worst
