"""bertcpp.Tokenizer: the C++ tokenizer behind a transformers fast tokenizer's call signature.

The tokenization itself (normalization, WordPiece / BPE / SentencePiece, truncation, stride windows, offsets) is
the C++ library's; this module only maps transformers' arguments onto it and lays the result out as
transformers' ``BatchEncoding`` does. Padding is done here, on the C++ windows (it is list bookkeeping: pad id,
type 0, mask 0, offsets (0, 0)).
"""

import json
import os

from . import _native
from .errors import InvalidArgumentError, check_utf8

_TRUNCATION = {"do_not_truncate": 0, "longest_first": 1, "only_first": 2, "only_second": 3}

# transformers 5's model_input_names per tokenizer class (without "Fast") when tokenizer_config.json does not
# list them: these tokenizers return no token_type_ids.
_NO_TOKEN_TYPES_CLASSES = {"RobertaTokenizer", "XLMRobertaTokenizer", "AlbertTokenizer", "DistilBertTokenizer",
                           "MPNetTokenizer", "CamembertTokenizer", "LongformerTokenizer", "BartTokenizer",
                           "GPT2Tokenizer"}
_NO_TOKEN_TYPES_MODEL_TYPES = {"roberta", "xlm-roberta", "albert", "distilbert", "mpnet", "camembert", "longformer"}


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _model_input_names(directory):
    """The keys transformers' AutoTokenizer returns for this directory (it decides from the same files)."""
    config = _read_json(os.path.join(directory, "tokenizer_config.json"))
    names = config.get("model_input_names")
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        return list(names)
    cls = config.get("tokenizer_class")
    if isinstance(cls, str):
        cls = cls[:-4] if cls.endswith("Fast") else cls
        if cls in _NO_TOKEN_TYPES_CLASSES:
            return ["input_ids", "attention_mask"]
        return ["input_ids", "token_type_ids", "attention_mask"]
    model_type = _read_json(os.path.join(directory, "config.json")).get("model_type")
    if model_type in _NO_TOKEN_TYPES_MODEL_TYPES:
        return ["input_ids", "attention_mask"]
    return ["input_ids", "token_type_ids", "attention_mask"]


class BatchEncoding(dict):
    """A dict of lists (or numpy arrays with return_tensors="np"), as transformers' BatchEncoding; the keys are
    also attributes. ``word_ids(i)``, ``sequence_ids(i)`` and ``tokens(i)`` describe window i."""

    def __init__(self, data, windows):
        super().__init__(data)
        self._windows = windows

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def _window(self, i):
        return self._windows[i]

    def word_ids(self, batch_index=0):
        return list(self._window(batch_index)["word_ids"])

    def sequence_ids(self, batch_index=0):
        return list(self._window(batch_index)["sequence_ids"])

    def tokens(self, batch_index=0):
        return list(self._window(batch_index)["tokens"])

    def __reduce__(self):
        return (BatchEncoding, (dict(self), self._windows))


def _truncation_code(truncation, max_length):
    if truncation is None:  # transformers: max_length alone turns truncation on (longest_first)
        truncation = max_length is not None
    if truncation is True:
        truncation = "longest_first"
    elif truncation is False:
        truncation = "do_not_truncate"
    if truncation not in _TRUNCATION:
        raise InvalidArgumentError(f"truncation must be True, False or one of {sorted(_TRUNCATION)}, got {truncation!r}")
    return _TRUNCATION[truncation]


def _padding_mode(padding):
    if padding is True:
        return "longest"
    if padding is False or padding is None:
        return "do_not_pad"
    if padding in ("longest", "max_length", "do_not_pad"):
        return padding
    raise InvalidArgumentError(f"padding must be True, False, 'longest', 'max_length' or 'do_not_pad', got {padding!r}")


def _as_length(name, value):
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(f"{name} must be a non-negative int, got {value!r}")
    return value


class Tokenizer:
    """A Hugging Face compatible tokenizer (WordPiece, byte-level BPE, SentencePiece) run by the C++ library.

    ``Tokenizer.from_pretrained(dir)`` reads what transformers' AutoTokenizer reads (tokenizer.json, else
    vocab.txt / vocab.json + merges.txt / spiece.model / sentencepiece.bpe.model, with tokenizer_config.json);
    calling it returns the keys and values a transformers fast tokenizer returns. Immutable and thread-safe; the
    GIL is released while tokenizing. Picklable: it reloads from its directory (or files).
    """

    def __init__(self, native, source, model_input_names=None):
        self._tok = native
        self._source = source  # (constructor name, args) to reload from when unpickled
        self.model_input_names = list(model_input_names or ["input_ids", "token_type_ids", "attention_mask"])

    # ---- construction --------------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, directory):
        directory = os.path.abspath(os.fspath(directory))
        return cls(_native.Tokenizer.load(directory), ("from_pretrained", (directory,)),
                   _model_input_names(directory))

    @classmethod
    def from_file(cls, tokenizer_json):
        """From one tokenizer.json file (no tokenizer_config.json read)."""
        path = os.path.abspath(os.fspath(tokenizer_json))
        return cls(_native.Tokenizer.from_tokenizer_json(path), ("from_file", (path,)))

    @classmethod
    def from_vocab(cls, vocab_txt, do_lower_case=True, strip_accents=None, tokenize_chinese_chars=True,
                   model_max_length=512):
        """WordPiece from a vocab.txt with transformers' BertTokenizer arguments."""
        path = os.path.abspath(os.fspath(vocab_txt))
        args = (path, bool(do_lower_case), strip_accents, bool(tokenize_chinese_chars), int(model_max_length))
        return cls(_native.Tokenizer.from_vocab(*args), ("from_vocab", args))

    @classmethod
    def from_bpe_files(cls, vocab_json, merges_txt, add_prefix_space=False, trim_offsets=True, model_max_length=512):
        """Byte-level BPE from vocab.json + merges.txt with transformers' RobertaTokenizer arguments."""
        args = (os.path.abspath(os.fspath(vocab_json)), os.path.abspath(os.fspath(merges_txt)),
                bool(add_prefix_space), bool(trim_offsets), int(model_max_length))
        return cls(_native.Tokenizer.from_bpe_files(*args), ("from_bpe_files", args),
                   ["input_ids", "attention_mask"])

    def __reduce__(self):
        name, args = self._source
        return (_restore_tokenizer, (name, args, self.model_input_names))

    # ---- the transformers call --------------------------------------------------------------------------------
    def __call__(self, text, text_pair=None, add_special_tokens=True, padding=False, truncation=None,
                 max_length=None, stride=0, pad_to_multiple_of=None, return_tensors=None,
                 return_token_type_ids=None, return_attention_mask=None, return_overflowing_tokens=False,
                 return_special_tokens_mask=False, return_offsets_mapping=False, return_length=False):
        batched = isinstance(text, (list, tuple))
        texts = list(text) if batched else [text]
        if text_pair is None:
            pairs = None
        elif batched:
            if not isinstance(text_pair, (list, tuple)):
                raise InvalidArgumentError("text is a batch (a list) but text_pair is not")
            pairs = list(text_pair)
        else:
            if not isinstance(text_pair, str):
                raise InvalidArgumentError(f"text_pair must be a str for a single text, got {type(text_pair).__name__}")
            pairs = [text_pair]
        for t in texts + (pairs or []):
            if not isinstance(t, str):
                raise InvalidArgumentError(f"texts must be str, got {type(t).__name__}")
        if return_tensors not in (None, "np"):
            raise InvalidArgumentError(f"return_tensors must be None or 'np' (bertcpp has no torch), got {return_tensors!r}")

        truncation_code = _truncation_code(truncation, max_length)
        padding_mode = _padding_mode(padding)
        max_length_value = _as_length("max_length", max_length)
        stride_value = _as_length("stride", stride)
        multiple = _as_length("pad_to_multiple_of", pad_to_multiple_of)

        try:
            per_input = self._tok.encode_many(texts, pairs, bool(add_special_tokens), truncation_code,
                                              max_length_value if truncation_code else 0, stride_value,
                                              bool(return_overflowing_tokens), 0, 0)
        except TypeError:
            check_utf8(texts + (pairs or []))  # a str without a UTF-8 form is the one TypeError texts can cause
            raise
        windows, sample_of = [], []
        for i, ws in enumerate(per_input):
            kept = ws if return_overflowing_tokens else ws[:1]
            windows.extend(kept)
            sample_of.extend([i] * len(kept))

        target = None
        if padding_mode == "longest":
            target = max((len(w["input_ids"]) for w in windows), default=0)
        elif padding_mode == "max_length":
            target = max_length_value or self._tok.model_max_length
        if target is not None and multiple:
            target = -(-target // multiple) * multiple
        if target is not None:
            windows = [self._pad(w, target) for w in windows]

        keys = ["input_ids"]
        if return_token_type_ids or (return_token_type_ids is None and "token_type_ids" in self.model_input_names):
            keys.append("token_type_ids")
        if return_attention_mask or (return_attention_mask is None and "attention_mask" in self.model_input_names):
            keys.append("attention_mask")
        if return_special_tokens_mask:
            keys.append("special_tokens_mask")
        if return_offsets_mapping:
            keys.append("offset_mapping")
        data = {k: [w[k] for w in windows] for k in keys}
        if return_length:
            data["length"] = [len(w["input_ids"]) for w in windows]
        if return_overflowing_tokens:
            data["overflow_to_sample_mapping"] = sample_of
        elif not batched:  # a single text without overflow: flat lists, as transformers (whose `length` stays [n])
            data = {k: (v if k == "length" else v[0]) for k, v in data.items()}
        if return_tensors == "np":
            data = self._to_numpy(data)
        return BatchEncoding(data, windows)

    def _pad(self, window, target):
        n = target - len(window["input_ids"])
        if n <= 0:
            return window
        padded = dict(window)
        pad = self._tok.pad_token_id
        padded["input_ids"] = window["input_ids"] + [pad] * n
        padded["token_type_ids"] = window["token_type_ids"] + [0] * n
        padded["attention_mask"] = window["attention_mask"] + [0] * n
        padded["special_tokens_mask"] = window["special_tokens_mask"] + [1] * n
        padded["offset_mapping"] = window["offset_mapping"] + [(0, 0)] * n
        padded["word_ids"] = window["word_ids"] + [None] * n
        padded["sequence_ids"] = window["sequence_ids"] + [None] * n
        padded["tokens"] = window["tokens"] + [self._tok.id_to_token(pad)] * n
        return padded

    @staticmethod
    def _to_numpy(data):
        import numpy as np

        out = {}
        for k, v in data.items():
            try:
                out[k] = np.asarray(v, dtype=np.int64)
            except ValueError:
                raise InvalidArgumentError(
                    f"return_tensors='np' needs sequences of one length: pass padding=True ({k} differ)") from None
            if out[k].dtype == object:
                raise InvalidArgumentError(f"return_tensors='np' needs sequences of one length: pass padding=True")
        return out

    # ---- the rest of a transformers tokenizer's everyday surface -----------------------------------------------
    def encode(self, text, text_pair=None, add_special_tokens=True, truncation=None, max_length=None, stride=0):
        """input_ids of one text (and pair), as transformers' tokenizer.encode."""
        return self(text, text_pair, add_special_tokens=add_special_tokens, truncation=truncation,
                    max_length=max_length, stride=stride)["input_ids"]

    def tokenize(self, text, text_pair=None, add_special_tokens=False):
        """Token strings, without special tokens unless asked (transformers' tokenizer.tokenize)."""
        return self(text, text_pair, add_special_tokens=add_special_tokens).tokens()

    def decode(self, token_ids, skip_special_tokens=False):
        """Ids -> text with the tokenizer's decoder (transformers' default keeps special tokens)."""
        return self._tok.decode([int(i) for i in token_ids], bool(skip_special_tokens))

    def batch_decode(self, sequences, skip_special_tokens=False):
        return [self.decode(s, skip_special_tokens) for s in sequences]

    def convert_ids_to_tokens(self, ids):
        if isinstance(ids, int):
            return self._tok.id_to_token(ids)
        return [self._tok.id_to_token(int(i)) for i in ids]

    def convert_tokens_to_ids(self, tokens):
        def one(t):
            i = self._tok.token_to_id(t)
            return self._tok.unk_token_id if i is None else i

        return one(tokens) if isinstance(tokens, str) else [one(t) for t in tokens]

    def convert_tokens_to_string(self, tokens):
        return self._tok.convert_tokens_to_string(list(tokens))

    @property
    def vocab_size(self):
        return self._tok.vocab_size

    def __len__(self):
        return self._tok.vocab_size

    @property
    def model_max_length(self):
        return self._tok.model_max_length

    @property
    def cls_token_id(self):
        return self._tok.cls_token_id

    @property
    def sep_token_id(self):
        return self._tok.sep_token_id

    @property
    def pad_token_id(self):
        return self._tok.pad_token_id

    @property
    def unk_token_id(self):
        i = self._tok.unk_token_id
        return None if i < 0 else i

    @property
    def mask_token_id(self):
        return self._tok.mask_token_id

    @property
    def mask_token(self):
        i = self._tok.mask_token_id
        return None if i is None else self._tok.id_to_token(i)

    def __repr__(self):
        return f"bertcpp.Tokenizer({self._source[0]}{self._source[1]!r}, vocab_size={self.vocab_size})"


def _restore_tokenizer(name, args, model_input_names):
    tok = getattr(Tokenizer, name)(*args)
    tok.model_input_names = list(model_input_names)
    return tok
