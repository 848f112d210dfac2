"""bertcpp.pipeline(task, model=dir, **kwargs): transformers' pipelines over the C++ heads.

Each task returns exactly the structure transformers' pipeline returns for the same call: the same nesting
(single input vs batch, one mask vs several, top_k given or not), the same keys, python str / int / float
values. The heads themselves (windows, aggregation, span search, target resolution) are the C++ library's
(include/bertcpp/pipelines.hpp); this module maps arguments and lays out results.
"""

import os

from . import _native
from .errors import InvalidArgumentError, check_utf8

_UNSET = object()

_TASK_ALIASES = {"sentiment-analysis": "text-classification", "ner": "token-classification"}


def _as_int(name, value, minimum=0):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


class Pipeline:
    """Common part: the directory, load options, default call arguments (from pipeline(..., **kwargs)),
    pickling by reloading from the directory."""

    task = None
    _call_parameters = ()

    def __init__(self, model, threads=0, compute="fp32", **defaults):
        unknown = set(defaults) - set(self._call_parameters)
        if unknown:
            raise TypeError(f"{self.task} pipeline: unexpected argument(s) {sorted(unknown)}; "
                            f"accepted: {list(self._call_parameters)}")
        self.model = os.path.abspath(os.fspath(model))
        self._threads = int(threads)
        self._compute = str(compute)
        self._defaults = dict(defaults)
        self._native = self._load(self.model, self._threads, self._compute)

    def _load(self, directory, threads, compute):
        raise NotImplementedError

    def _params(self, kwargs):
        unknown = set(kwargs) - set(self._call_parameters)
        if unknown:
            raise TypeError(f"{self.task} pipeline: unexpected argument(s) {sorted(unknown)}; "
                            f"accepted: {list(self._call_parameters)}")
        return {**self._defaults, **kwargs}

    def __reduce__(self):
        return (_restore_pipeline, (self.task, self.model, self._threads, self._compute, self._defaults))

    def __repr__(self):
        return f"bertcpp.pipeline({self.task!r}, model={self.model!r})"


def _restore_pipeline(task, model, threads, compute, defaults):
    return pipeline(task, model=model, threads=threads, compute=compute, **defaults)


# ---- text-classification ---------------------------------------------------------------------------------------
class TextClassificationPipeline(Pipeline):
    """clf("text") -> [{"label", "score"}] (the best label); clf("text", top_k=None) -> every label, best first;
    clf({"text": a, "text_pair": b}) -> {"label", "score"}; a list of inputs -> one result per input."""

    task = "text-classification"
    _call_parameters = ("top_k", "function_to_apply")

    def _load(self, directory, threads, compute):
        return _native.SequenceClassifier.load(directory, threads, compute)

    @property
    def labels(self):
        return list(self._native.labels)

    def __call__(self, inputs, **kwargs):
        params = self._params(kwargs)
        legacy = "top_k" not in params  # transformers' _legacy: no top_k anywhere -> the best label, unwrapped
        top_k = params.get("top_k", 1)
        if top_k is not None:
            top_k = _as_int("top_k", top_k)
        function_to_apply = params.get("function_to_apply")
        if function_to_apply is not None:
            function_to_apply = getattr(function_to_apply, "value", function_to_apply)
            function_to_apply = str(function_to_apply).lower()

        batched = isinstance(inputs, (list, tuple))
        items = list(inputs) if batched else [inputs]
        texts, pairs = [], []
        for item in items:
            if isinstance(item, str):
                texts.append(item)
                pairs.append(None)
            elif isinstance(item, dict) and set(item) == {"text", "text_pair"}:
                texts.append(item["text"])
                pairs.append(item["text_pair"])
            elif isinstance(item, dict) and set(item) == {"text"}:
                texts.append(item["text"])
                pairs.append(None)
            else:
                raise InvalidArgumentError(
                    "text-classification takes a str, a dict {'text': ..., 'text_pair': ...} or a list of them; "
                    f"got {type(item).__name__}")
        check_utf8(texts + [p for p in pairs if p is not None])
        # One call for the unpaired texts (batched in C++), one per pair.
        results = [None] * len(items)
        native_top_k = 1 if legacy else (0 if top_k is None else top_k)
        single = [i for i, p in enumerate(pairs) if p is None]
        if single:
            for i, r in zip(single, self._native.classify_many([texts[i] for i in single], None, native_top_k,
                                                                function_to_apply)):
                results[i] = r
        paired = [i for i, p in enumerate(pairs) if p is not None]
        if paired:
            for i, r in zip(paired, self._native.classify_many([texts[i] for i in paired], [pairs[i] for i in paired],
                                                                native_top_k, function_to_apply)):
                results[i] = r
        out = []
        for labels, _logits in results:
            if legacy:
                out.append(labels[0])
            else:
                out.append(labels[:top_k] if top_k is not None else labels)
        if batched:
            return out
        if isinstance(inputs, str) and legacy:
            return [out[0]]  # transformers: "This pipeline is odd, and return a list when single item is run"
        return out[0]


# ---- token-classification ---------------------------------------------------------------------------------------
class TokenClassificationPipeline(Pipeline):
    """ner("text") -> [{"entity", "score", "index", "word", "start", "end"}] (aggregation_strategy "none") or
    [{"entity_group", "score", "word", "start", "end"}]; a list of texts -> a list of such lists."""

    task = "token-classification"
    _call_parameters = ("aggregation_strategy", "ignore_labels", "stride")

    def _load(self, directory, threads, compute):
        return _native.TokenClassifier.load(directory, threads, compute)

    @property
    def labels(self):
        return list(self._native.labels)

    def __call__(self, inputs, **kwargs):
        params = self._params(kwargs)
        aggregation = params.get("aggregation_strategy") or "none"
        aggregation = str(getattr(aggregation, "value", aggregation)).lower()
        ignore_labels = params.get("ignore_labels")
        ignore_labels = ["O"] if ignore_labels is None else list(ignore_labels)
        stride = params.get("stride")
        if stride is not None:
            stride = _as_int("stride", stride)
        batched = isinstance(inputs, (list, tuple))
        texts = list(inputs) if batched else [inputs]
        for t in texts:
            if not isinstance(t, str):
                raise InvalidArgumentError(f"token-classification takes a str or a list of str, got {type(t).__name__}")
        check_utf8(texts)
        out = [self._native.recognize(t, aggregation, ignore_labels, stride, 0) for t in texts]
        return out if batched else out[0]


# ---- question-answering -----------------------------------------------------------------------------------------
class QuestionAnsweringPipeline(Pipeline):
    """qa(question=q, context=c) -> {"score", "start", "end", "answer"}, or a list of them, best first, when more
    than one answer is returned (top_k > 1), as transformers 4's pipeline (transformers 5 dropped it)."""

    task = "question-answering"
    _call_parameters = ("top_k", "doc_stride", "max_answer_len", "max_seq_len", "max_question_len",
                        "handle_impossible_answer", "align_to_words")

    def _load(self, directory, threads, compute):
        return _native.QuestionAnswerer.load(directory, threads, compute)

    def __call__(self, *args, **kwargs):
        question = kwargs.pop("question", _UNSET)
        context = kwargs.pop("context", _UNSET)
        params = self._params(kwargs)
        examples = self._examples(args, question, context)
        top_k = _as_int("top_k", params.get("top_k", 1), 1)
        max_answer_len = _as_int("max_answer_len", params.get("max_answer_len", 15), 1)
        doc_stride = params.get("doc_stride")
        doc_stride = None if doc_stride is None else _as_int("doc_stride", doc_stride)
        max_seq_len = params.get("max_seq_len")
        max_seq_len = None if max_seq_len is None else _as_int("max_seq_len", max_seq_len, 1)
        max_question_len = _as_int("max_question_len", params.get("max_question_len", 64), 1)
        impossible = bool(params.get("handle_impossible_answer", False))
        align = bool(params.get("align_to_words", True))
        results = []
        for q, c in examples:
            answers = self._native.answer(q, c, top_k, doc_stride, max_answer_len, max_seq_len, max_question_len,
                                          impossible, align)
            results.append(answers[0] if len(answers) == 1 else answers)
        return results[0] if len(results) == 1 else results

    @staticmethod
    def _examples(args, question, context):
        def pairs_of(q, c):
            if isinstance(q, str) and isinstance(c, str):
                return [(q, c)]
            if isinstance(q, (list, tuple)) and isinstance(c, (list, tuple)):
                if len(q) != len(c):
                    raise InvalidArgumentError(f"{len(q)} questions but {len(c)} contexts")
                return [(a, b) for a, b in zip(q, c)]
            if isinstance(q, str) and isinstance(c, (list, tuple)):
                return [(q, b) for b in c]
            raise InvalidArgumentError("question and context must be str or lists of str")

        if question is not _UNSET or context is not _UNSET:
            if question is _UNSET or context is _UNSET or args:
                raise InvalidArgumentError("pass both question= and context= (and no positional inputs)")
            examples = pairs_of(question, context)
        elif len(args) == 2:
            examples = pairs_of(args[0], args[1])
        elif len(args) == 1:
            items = args[0] if isinstance(args[0], (list, tuple)) else [args[0]]
            examples = []
            for item in items:
                if not isinstance(item, dict) or "question" not in item or "context" not in item:
                    raise InvalidArgumentError("question-answering takes dicts {'question': ..., 'context': ...}")
                examples.extend(pairs_of(item["question"], item["context"]))
        else:
            raise InvalidArgumentError("question-answering needs a question and a context")
        for q, c in examples:
            if not isinstance(q, str) or not isinstance(c, str):
                raise InvalidArgumentError("question and context must be str")
            check_utf8([q, c])
        return examples


# ---- fill-mask --------------------------------------------------------------------------------------------------
class FillMaskPipeline(Pipeline):
    """fill("Paris is the [MASK] of France.") -> [{"score", "token", "token_str", "sequence"}] (top_k of them);
    a text with several masks -> one such list per mask; a list of texts -> one result per text."""

    task = "fill-mask"
    _call_parameters = ("top_k", "targets")

    def _load(self, directory, threads, compute):
        return _native.FillMask.load(directory, threads, compute)

    @property
    def mask_token(self):
        return self._native.mask_token

    def __call__(self, inputs, **kwargs):
        params = self._params(kwargs)
        top_k = params.get("top_k")
        top_k = 5 if top_k is None else _as_int("top_k", top_k, 1)
        targets = params.get("targets")
        if targets is None:
            targets = []
        elif isinstance(targets, str):
            targets = [targets]
        else:
            targets = list(targets)
        batched = isinstance(inputs, (list, tuple))
        texts = list(inputs) if batched else [inputs]
        out = []
        for t in texts:
            if not isinstance(t, str):
                raise InvalidArgumentError(f"fill-mask takes a str or a list of str, got {type(t).__name__}")
            check_utf8([t] + targets)
            masks = self._native.fill(t, top_k, targets)
            out.append(masks[0] if len(masks) == 1 else masks)
        if batched and len(out) != 1:
            return out
        return out[0]  # transformers unwraps a list of one text too


_TASKS = {
    "text-classification": TextClassificationPipeline,
    "token-classification": TokenClassificationPipeline,
    "question-answering": QuestionAnsweringPipeline,
    "fill-mask": FillMaskPipeline,
}


def pipeline(task, model, threads=0, compute="fp32", **kwargs):
    """transformers.pipeline(task, model=dir, **kwargs) for "text-classification" ("sentiment-analysis"),
    "token-classification" ("ner"), "question-answering" and "fill-mask". ``model`` is a checkpoint directory;
    kwargs are the task's call arguments, used as defaults for every call (e.g. aggregation_strategy="simple").
    threads / compute: as BertModel.from_pretrained."""
    name = _TASK_ALIASES.get(task, task)
    if name not in _TASKS:
        raise InvalidArgumentError(f"unknown task {task!r}; bertcpp has {sorted(_TASKS)} "
                                   f"(and aliases {sorted(_TASK_ALIASES)})")
    if model is None:
        raise InvalidArgumentError("model must be a checkpoint directory (bertcpp downloads nothing)")
    return _TASKS[name](model, threads=threads, compute=compute, **kwargs)
