"""bertcpp: BERT-family inference in C++ (oneDNN) with transformers-identical outputs.

    import bertcpp
    st = bertcpp.SentenceTransformer("models/cache/all-MiniLM-L6-v2")
    emb = st.encode(["A man is eating food.", "A man is eating bread."])          # numpy [2, 384]

    ner = bertcpp.pipeline("token-classification", model="my-ner", aggregation_strategy="simple")
    ner("Angela Merkel visited Paris.")            # [{"entity_group": "PER", "score": ..., "word": ..., ...}]

    qa = bertcpp.pipeline("question-answering", model="my-qa")
    qa(question="Where does Ana live?", context="...")      # {"score", "start", "end", "answer"}

Everything is loaded from a Hugging Face checkpoint directory on disk; nothing is downloaded. See docs/python.md.
"""

from .errors import (ConfigError, Error, FormatError, InvalidArgumentError, IoError, UnsupportedError,  # noqa: F401
                     Utf8Error)
from . import _native  # noqa: F401  (imports bertcpp.errors first: the extension maps C++ errors onto them)
from .model import BertModel, ModelOutput
from .pipelines import (FillMaskPipeline, Pipeline, QuestionAnsweringPipeline, TextClassificationPipeline,
                        TokenClassificationPipeline, pipeline)
from .sentence_transformer import SentenceTransformer
from .tokenizer import BatchEncoding, Tokenizer

__version__ = "0.1.0"

__all__ = [
    "BatchEncoding", "BertModel", "ConfigError", "Error", "FillMaskPipeline", "FormatError",
    "InvalidArgumentError", "IoError", "ModelOutput", "Pipeline", "QuestionAnsweringPipeline",
    "SentenceTransformer", "TextClassificationPipeline", "TokenClassificationPipeline", "Tokenizer",
    "UnsupportedError", "Utf8Error", "pipeline",
]
