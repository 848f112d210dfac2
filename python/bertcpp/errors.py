"""The exceptions of bertcpp, one per C++ class of include/bertcpp/error.hpp.

Every failure the C++ library detects arrives as one of these, with the C++ message (which names the file,
tensor or field and what was expected versus found). Each also derives from the built-in exception a Python
caller would catch for it: a missing or unreadable file is an ``OSError``, everything else a ``ValueError``.

    Error                         (Exception)          any bertcpp failure
    +- IoError                    (OSError)            a file or directory could not be opened or read
    +- FormatError                (ValueError)         a malformed file: bad header, truncated data, wrong shape
    +- ConfigError                (ValueError)         config.json / a tokenizer config lacks a field or is invalid
    +- UnsupportedError           (ValueError)         well-formed but not supported (model_type, dtype, ...)
    +- InvalidArgumentError       (ValueError)         a bad argument: empty input, id out of range, too long, ...
    +- Utf8Error                  (ValueError)         text that is not valid UTF-8; .byte_offset
"""


class Error(Exception):
    """Any bertcpp failure. ``code`` is the C++ ErrorCode name ("io", "format", ...)."""

    code = "error"


class IoError(Error, OSError):
    code = "io"


class FormatError(Error, ValueError):
    code = "format"


class ConfigError(Error, ValueError):
    code = "config"


class UnsupportedError(Error, ValueError):
    code = "unsupported"


class InvalidArgumentError(Error, ValueError):
    code = "invalid_argument"


class Utf8Error(Error, ValueError):
    """``byte_offset``: the offset of the first invalid byte in the UTF-8 input."""

    code = "invalid_utf8"
    byte_offset = None


def check_utf8(texts):
    """Raises Utf8Error for the first str that has no UTF-8 form (a lone surrogate such as "\\ud800", which
    Python strings may hold); the C++ library takes UTF-8 only."""
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            continue
        try:
            t.encode("utf-8")
        except UnicodeEncodeError as e:
            error = Utf8Error(f"text {i} is not valid UTF-8: {e.reason} U+{ord(t[e.start]):04X} at character {e.start}")
            error.byte_offset = len(t[: e.start].encode("utf-8"))
            raise error from None


__all__ = ["Error", "IoError", "FormatError", "ConfigError", "UnsupportedError", "InvalidArgumentError", "Utf8Error"]
