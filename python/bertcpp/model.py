"""bertcpp.BertModel: the encoder, called as transformers' AutoModel is."""

import os

import numpy as np

from . import _native
from .errors import InvalidArgumentError
from .tokenizer import Tokenizer, _model_input_names


class ModelOutput(dict):
    """``last_hidden_state`` [B, T, H] and ``pooler_output`` [B, H] (None without a pooler), as numpy float32;
    ``hidden_states`` (a tuple of [B, T, H]) when loaded with hidden_states=True. Keys are also attributes, as in
    transformers' BaseModelOutputWithPooling."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _ids_array(name, value, shape=None):
    array = np.asarray(value)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise InvalidArgumentError(f"{name} must be a [batch, seq_len] integer array, got shape {array.shape}")
    if array.dtype.kind not in "iub":
        raise InvalidArgumentError(f"{name} must hold integers, got dtype {array.dtype}")
    if shape is not None and array.shape != shape:
        raise InvalidArgumentError(f"{name} has shape {array.shape}, input_ids {shape}")
    return np.ascontiguousarray(array, dtype=np.int64)


class BertModel:
    """A BERT-family encoder (bert, roberta, xlm-roberta, albert, electra, distilbert, mpnet) loaded from a Hugging
    Face checkpoint directory. Immutable and thread-safe: the GIL is released during forward(), so Python threads
    run calls on one model in parallel. Picklable: it reloads from its directory with the same options.
    """

    def __init__(self, native, directory, options):
        self._model = native
        self._dir = directory
        self._options = options

    @classmethod
    def from_pretrained(cls, directory, threads=0, compute="fp32", pooler_output=True, hidden_states=False):
        """threads: OpenMP threads per call (0: all cores / OMP_NUM_THREADS). compute: "fp32", "int8" or "bf16"
        (docs/quantization.md)."""
        directory = os.path.abspath(os.fspath(directory))
        options = {"threads": int(threads), "compute": str(compute), "pooler_output": bool(pooler_output),
                   "hidden_states": bool(hidden_states)}
        native = _native.BertModel.load(directory, options["threads"], options["compute"], options["pooler_output"],
                                        options["hidden_states"], True)
        return cls(native, directory, options)

    def __reduce__(self):
        return (_restore_model, (self._dir, self._options))

    def __call__(self, input_ids, attention_mask=None, token_type_ids=None):
        """input_ids, attention_mask, token_type_ids: integer arrays [B, T] (or [T]; lists are fine). Positions
        with attention_mask 0 are not computed: their rows of last_hidden_state are 0 (transformers computes a
        value there that nothing should read)."""
        ids = _ids_array("input_ids", input_ids)
        types = None if token_type_ids is None else _ids_array("token_type_ids", token_type_ids, ids.shape)
        mask = None if attention_mask is None else _ids_array("attention_mask", attention_mask, ids.shape)
        return self._output(self._model.forward_padded(ids, types, mask))

    forward = __call__

    def encode_texts(self, texts):
        """Tokenizes with the directory's tokenizer (truncated to max_sequence_length) and runs the encoder."""
        if isinstance(texts, str):
            texts = [texts]
        return self._output(self._model.forward_texts(list(texts)))

    @staticmethod
    def _output(result):
        last, pooled, hidden = result
        out = ModelOutput(last_hidden_state=last, pooler_output=pooled)
        if hidden:
            out["hidden_states"] = tuple(hidden)
        return out

    @property
    def config(self):
        """The architecture read from config.json (model_type, hidden_size, ..., max_sequence_length)."""
        return self._model.config

    @property
    def tokenizer(self):
        """The tokenizer found next to the weights, as a bertcpp.Tokenizer (None if there is none)."""
        if not self._model.has_tokenizer:
            return None
        return Tokenizer(self._model.tokenizer(), ("from_pretrained", (self._dir,)), _model_input_names(self._dir))

    @property
    def name_or_path(self):
        return self._dir

    def __repr__(self):
        return f"bertcpp.BertModel({self._dir!r}, {self._options})"


def _restore_model(directory, options):
    return BertModel.from_pretrained(directory, **options)
