"""The single exception type schema adapters raise for unusable payloads."""

from __future__ import annotations


class DecodeError(ValueError):
    """A payload could not be turned into a livedata value.

    Callers count rejections by ``reason``, so it is short and stable (such as
    ``"malformed ev44 payload"``); ``detail`` says what exactly was wrong. When
    the failure came from the FlatBuffers library, the original exception is
    chained as ``__cause__``.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
