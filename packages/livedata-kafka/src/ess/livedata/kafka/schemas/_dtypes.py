"""Element types on the wire versus element types scipp can hold."""

from __future__ import annotations

import numpy as np
import scipp as sc

from .errors import DecodeError

#: scipp dtypes that da00 and ad00 carry as plain numbers.
NUMERIC_DTYPES = (sc.DType.int32, sc.DType.int64, sc.DType.float32, sc.DType.float64)

_WIDER = {
    np.dtype(np.int8): np.int32,
    np.dtype(np.uint8): np.int32,
    np.dtype(np.int16): np.int32,
    np.dtype(np.uint16): np.int32,
    np.dtype(np.uint32): np.int64,
}
_INT64_MAX = np.iinfo(np.int64).max


def scipp_compatible(values: np.ndarray) -> np.ndarray:
    """Widen integer types scipp lacks (8/16-bit and unsigned) without losing values.

    uint64 becomes int64, which only fails for values above 2**63 - 1.
    """
    if values.dtype == np.uint64:
        if values.size and values.max() > _INT64_MAX:
            raise DecodeError("uint64 value beyond int64 range")
        return values.astype(np.int64)
    wider = _WIDER.get(values.dtype)
    return values if wider is None else values.astype(wider)
