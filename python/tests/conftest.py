"""Shared paths of the Python suite. The fixtures are the C++ suite's (tests/data/, made by models/*.py with
transformers / sentence-transformers); nothing here imports transformers or downloads anything."""

import json
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"

# Fixtures of the tiny random checkpoints, by task: (directory, golden.json) for every variant.
VARIANTS = ("roberta", "xlm-roberta", "albert", "electra", "distilbert", "mpnet")
HEAD_DIRS = {
    "text-classification": ["heads/text-classification", "heads/text-classification-multilabel",
                            "heads/text-classification-single"] +
                           [f"variant-heads/{v}-text-classification" for v in VARIANTS],
    "token-classification": ["heads/token-classification"] +
                            [f"variant-heads/{v}-token-classification" for v in VARIANTS],
    "question-answering": ["heads/question-answering"] +
                          [f"variant-heads/{v}-question-answering" for v in VARIANTS],
    "fill-mask": ["heads/fill-mask", "heads/fill-mask-untied"] +
                 [f"variant-heads/{v}-fill-mask" for v in VARIANTS],
    "sentence-embeddings": ["heads/sentence-embeddings-cls", "heads/sentence-embeddings-max",
                            "heads/sentence-embeddings-mean_sqrt_len", "heads/sentence-embeddings-dense",
                            "heads/sentence-embeddings-concat", "heads/sentence-embeddings-concat-legacy",
                            "heads/sentence-embeddings-weightedmean", "heads/sentence-embeddings-lasttoken"] +
                           [f"variant-heads/{v}-sentence-embeddings" for v in VARIANTS],
}


def golden(directory):
    with open(DATA / directory / "golden.json", encoding="utf-8") as f:
        return json.load(f)


def default_model_dir():
    """all-MiniLM-L6-v2 as models/fetch_default_model.sh leaves it (.ci/test fetches it before this suite)."""
    env = os.environ.get("BERTCPP_DEFAULT_MODEL_DIR")
    return pathlib.Path(env) if env else ROOT / "models" / "cache" / "all-MiniLM-L6-v2"


@pytest.fixture(scope="session")
def minilm_dir():
    d = default_model_dir()
    if not (d / "config.json").is_file():
        # Not a skip: CI fetches the model first, so its absence is a broken set-up, not an optional test.
        pytest.fail(f"{d} has no all-MiniLM-L6-v2: run models/fetch_default_model.sh or set BERTCPP_DEFAULT_MODEL_DIR")
    return d
