"""Guards every adapter applies to untrusted bytes before and while decoding."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from flatbuffers import encode, packer
from flatbuffers.table import Table

from .errors import DecodeError

_Generated = TypeVar("_Generated")


def schema_id(payload: bytes) -> str:
    """The 4-character FlatBuffers file identifier stored at bytes 4 to 8.

    Non-ASCII bytes are escaped rather than rejected, so any payload of at
    least 8 bytes has an identifier, which then simply matches no schema.
    """
    if len(payload) < 8:
        raise DecodeError("payload too short", f"{len(payload)} bytes")
    return bytes(payload[4:8]).decode("ascii", errors="backslashreplace")


def expect_schema(payload: bytes, expected: str) -> None:
    """Reject a payload of another schema: FlatBuffers itself would not notice."""
    found = schema_id(payload)
    if found != expected:
        raise DecodeError(f"unexpected schema id {found!r}", f"expected {expected!r}")


@contextmanager
def reraise_as_decode_error(schema: str) -> Iterator[None]:
    """Turn whatever the FlatBuffers reader raises on bad bytes into DecodeError.

    Truncated or corrupted buffers surface as struct.error, IndexError,
    ValueError, UnicodeDecodeError, KeyError, TypeError or scipp errors; callers
    should only ever have to handle one type.
    """
    try:
        yield
    except DecodeError:
        raise
    except Exception as err:
        raise DecodeError(
            f"malformed {schema} payload", f"{type(err).__name__}: {err}"
        ) from err


class _BoundedTable(Table):
    """A table whose strings must lie within the buffer.

    The FlatBuffers runtime slices strings without a bounds check, so a
    truncated payload would silently yield a shortened source name.
    """

    __slots__ = ()

    def String(self, off: int) -> bytes:  # noqa: N802 (FlatBuffers API name)
        length_at = self.Indirect(off)
        start = length_at + packer.uoffset.size
        end = start + encode.Get(packer.uoffset, self.Bytes, length_at)
        if end > len(self.Bytes):
            raise IndexError("string runs past the end of the payload")
        return bytes(self.Bytes[start:end])


def bounded(table: _Generated) -> _Generated:
    """Make the string accessors of a generated table object bounds-checked."""
    tab = table._tab  # type: ignore[attr-defined]
    table._tab = _BoundedTable(tab.Bytes, tab.Pos)  # type: ignore[attr-defined]
    return table
