"""Choosing the decoder for a payload by its FlatBuffers schema id."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet

import scipp as sc

from ess.livedata.core.payloads import EventBatch, LogSample
from ess.livedata.protocol import Heartbeat

from ._boundary import schema_id
from .ad00 import decode_ad00
from .da00 import decode_da00
from .errors import DecodeError
from .ev44 import decode_ev44
from .f144 import decode_f144
from .x5f2 import decode_x5f2

__all__ = ["DECODERS", "Decoded", "decode", "schema_id"]

Decoded = (
    tuple[str, EventBatch]
    | tuple[str, LogSample]
    | tuple[str, int, sc.DataArray]
    | Heartbeat
)

DECODERS: dict[str, Callable[[bytes], Decoded]] = {
    "ev44": decode_ev44,
    "f144": decode_f144,
    "da00": decode_da00,
    "x5f2": decode_x5f2,
    "ad00": decode_ad00,
}


def decode(payload: bytes, expected: str | AbstractSet[str]) -> Decoded:
    """Decode a payload whose schema must be one the stream expects.

    Raises
    ------
    DecodeError
        If the schema id is not among ``expected``, no decoder exists for it,
        or the payload is malformed.
    """
    found = schema_id(payload)
    allowed = {expected} if isinstance(expected, str) else expected
    if found not in allowed:
        expected_ids = ", ".join(sorted(allowed))
        raise DecodeError(f"unexpected schema id {found!r}", f"expected {expected_ids}")
    decoder = DECODERS.get(found)
    if decoder is None:
        raise DecodeError(f"unsupported schema id {found!r}")
    return decoder(payload)
