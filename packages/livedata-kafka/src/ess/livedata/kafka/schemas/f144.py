"""f144 log messages to and from :class:`LogSample`."""

from __future__ import annotations

from streaming_data_types.fbschemas.logdata_f144.f144_LogData import f144_LogData
from streaming_data_types.logdata_f144 import deserialise_f144, serialise_f144

from ess.livedata.core.payloads import LogSample

from ._boundary import bounded, expect_schema, reraise_as_decode_error


def decode_f144(payload: bytes) -> tuple[str, LogSample]:
    """Source name and sample of an f144 message.

    Scalars become Python ``int``/``float``; 1-D arrays are read-only numpy
    views into the payload. NaN passes through: what it means is the
    consumer's decision.

    Raises
    ------
    DecodeError
        If the payload is not f144 or is malformed.
    """
    expect_schema(payload, "f144")
    with reraise_as_decode_error("f144"):
        raw = deserialise_f144(payload)
        # Read the source name again: the library cuts a truncated one short.
        root = bounded(f144_LogData.GetRootAsf144_LogData(payload, 0))
        return root.SourceName().decode(), LogSample(raw.timestamp_unix_ns, raw.value)


def encode_f144(source_name: str, sample: LogSample) -> bytes:
    """Serialise a sample as f144, as the fake producers and tests need.

    Raises
    ------
    ValueError
        If the value is neither a scalar nor a 1-D array of a numeric type
        f144 supports (no bool, no strings).
    """
    try:
        return serialise_f144(source_name, sample.value, sample.time)
    except NotImplementedError as err:
        raise ValueError(f"f144 cannot carry {sample.value!r}: {err}") from err
