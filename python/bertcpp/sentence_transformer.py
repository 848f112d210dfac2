"""bertcpp.SentenceTransformer: sentence-transformers' encode() over the C++ SentenceEmbedder."""

import os
import sys

import numpy as np

from . import _native
from .errors import InvalidArgumentError, check_utf8


def _check_truncate_dim(truncate_dim):
    if truncate_dim is None:
        return None
    if isinstance(truncate_dim, bool) or not isinstance(truncate_dim, int) or truncate_dim < 1:
        raise InvalidArgumentError(f"truncate_dim must be an int >= 1 or None, got {truncate_dim!r}")
    return truncate_dim


def _rows(embeddings1, embeddings2):
    """Two embedding arrays as C-contiguous float32 [rows, D] (a [D] vector is one row); their widths must agree."""
    a = np.ascontiguousarray(np.atleast_2d(np.asarray(embeddings1, dtype=np.float32)))
    b = np.ascontiguousarray(np.atleast_2d(np.asarray(embeddings2, dtype=np.float32)))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise InvalidArgumentError(f"similarity: expected [rows, D] arrays of the same D, got {a.shape} and {b.shape}")
    return a, b


class SentenceTransformer:
    """A sentence-transformers model directory (modules.json, the Pooling module, sentence_bert_config.json,
    Dense modules, Normalize), or a plain checkpoint (mean pooling). Immutable and thread-safe; the GIL is released while
    encoding. Picklable: it reloads from its directory with the same options.
    """

    def __init__(self, model_name_or_path, threads=0, compute="fp32", truncate_dim=None):
        self.model_name_or_path = os.path.abspath(os.fspath(model_name_or_path))
        self._threads = int(threads)
        self._compute = str(compute)
        self.truncate_dim = _check_truncate_dim(truncate_dim)
        self._native = _native.SentenceEmbedder.load(self.model_name_or_path, self._threads, self._compute)

    def __reduce__(self):
        return (SentenceTransformer, (self.model_name_or_path, self._threads, self._compute, self.truncate_dim))

    def encode(self, sentences, prompt_name=None, prompt=None, batch_size=32, show_progress_bar=False,
               convert_to_numpy=True, normalize_embeddings=False, truncate_dim=None):
        """sentences: a str or a list of str. Returns float32 [N, D] (a str: [D]), as SentenceTransformer.encode;
        D is the hidden size, or the last Dense module's out_features.
        prompt (prepended to every sentence) or prompt_name (a key of self.prompts) as sentence-transformers takes
        them; neither: the model's default_prompt_name, if it has one (prompt="" turns it off).
        normalize_embeddings L2-normalizes on top of the model's own Normalize module (if any).
        convert_to_numpy=False returns a list of [D] arrays (bertcpp has no torch tensors).
        truncate_dim (else the constructor's): keep the first truncate_dim values of each embedding (Matryoshka
        models), before normalize_embeddings, as sentence-transformers does."""
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        for t in texts:
            if not isinstance(t, str):
                raise InvalidArgumentError(f"sentences must be str, got {type(t).__name__}")
        check_utf8(texts)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidArgumentError(f"batch_size must be an int >= 1, got {batch_size!r}")
        for name, value in (("prompt", prompt), ("prompt_name", prompt_name)):
            if value is not None and not isinstance(value, str):
                raise InvalidArgumentError(f"{name} must be a str, got {type(value).__name__}")
        if prompt is not None:
            check_utf8([prompt])
            prompt_name = None  # sentence-transformers: an explicit prompt wins over prompt_name
        truncate_dim = _check_truncate_dim(truncate_dim) if truncate_dim is not None else self.truncate_dim
        if not texts:
            width = int(self._native.dimension)
            embeddings = np.zeros((0, min(width, truncate_dim) if truncate_dim else width), dtype=np.float32)
        elif show_progress_bar:
            # One C++ call per batch so that progress can be shown; the same batches the C++ call would make.
            parts = []
            total = (len(texts) + batch_size - 1) // batch_size
            for b in range(total):
                parts.append(self._native.encode(texts[b * batch_size:(b + 1) * batch_size], batch_size, prompt,
                                                 prompt_name, truncate_dim))
                sys.stderr.write(f"\rBatches: {b + 1}/{total}")
                sys.stderr.flush()
            sys.stderr.write("\n")
            embeddings = np.concatenate(parts, axis=0)
        else:
            embeddings = self._native.encode(texts, batch_size, prompt, prompt_name, truncate_dim)  # [N, D], owned by the array
        if normalize_embeddings:
            norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
            embeddings = embeddings / np.maximum(norms, 1e-12)  # torch.nn.functional.normalize's eps
        if single:
            embeddings = embeddings[0]
        if not convert_to_numpy:
            return embeddings if single else list(embeddings)
        return embeddings

    def encode_query(self, sentences, prompt_name=None, prompt=None, **kwargs):
        """encode() with the "query" prompt when neither prompt nor prompt_name is given, as sentence-transformers'
        encode_query (the prompt is empty unless the model's config sets one, which also keeps the default prompt
        off). Takes encode()'s other arguments."""
        if prompt_name is None and prompt is None and "query" in self.prompts:
            prompt_name = "query"
        return self.encode(sentences, prompt_name=prompt_name, prompt=prompt, **kwargs)

    def encode_document(self, sentences, prompt_name=None, prompt=None, **kwargs):
        """encode() with the first of the "document", "passage" and "corpus" prompts the model has when neither
        prompt nor prompt_name is given, as sentence-transformers' encode_document ("document" is always there,
        empty unless the model's config sets it)."""
        if prompt_name is None and prompt is None:
            prompt_name = next((n for n in ("document", "passage", "corpus") if n in self.prompts), None)
        return self.encode(sentences, prompt_name=prompt_name, prompt=prompt, **kwargs)

    @property
    def similarity_fn_name(self):
        """config_sentence_transformers.json's similarity_fn_name: "cosine" (also when the model names none), "dot",
        "euclidean" or "manhattan"."""
        return self._native.similarity_fn_name

    def similarity(self, embeddings1, embeddings2):
        """[N, M] float32 scores of the model's similarity function between the rows of two embedding arrays ([D] is
        one row), as SentenceTransformer.similarity: cosine, dot product, or the negated euclidean / manhattan
        distance (the C++ SentenceEmbedder::similarity; inputs are taken as float32, as sentence-transformers'
        tensors)."""
        return self._native.similarity(*_rows(embeddings1, embeddings2))

    def similarity_pairwise(self, embeddings1, embeddings2):
        """[N] scores between row i of each array (same shapes), as SentenceTransformer.similarity_pairwise."""
        a, b = _rows(embeddings1, embeddings2)
        if a.shape != b.shape:
            raise InvalidArgumentError(f"similarity_pairwise: shapes {a.shape} and {b.shape} differ")
        return self._native.similarity_pairwise(a, b)

    def get_sentence_embedding_dimension(self):
        # hidden_size per pooling mode, or the last Dense module's out_features; at most truncate_dim
        width = int(self._native.dimension)
        return min(width, self.truncate_dim) if self.truncate_dim else width

    @property
    def prompts(self):
        """config_sentence_transformers.json's prompts: {name: text}, with "query" and "document" ("" unless the
        file sets them), as sentence-transformers has them."""
        return dict(self._native.prompts)

    @property
    def default_prompt_name(self):
        return self._native.default_prompt_name

    @property
    def max_seq_length(self):
        return self._native.max_seq_length

    @property
    def pooling(self):
        """"cls", "mean", "max", "mean_sqrt_len", "weightedmean" or "lasttoken"; a tuple of them when the Pooling
        module concatenates several (as sentence-transformers' Pooling.pooling_mode)."""
        modes = tuple(self._native.pooling_modes)
        return modes[0] if len(modes) == 1 else modes

    def __repr__(self):
        return f"bertcpp.SentenceTransformer({self.model_name_or_path!r}, pooling={self.pooling!r})"
