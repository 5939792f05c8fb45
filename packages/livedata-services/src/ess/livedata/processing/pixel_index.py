"""From detector numbers in events to positions in a bank's pixel arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
MAX_LOOKUP_ENTRIES = 1 << 28
"""Largest detector-number span a lookup table may cover (1 GiB of int32)."""


@dataclass(frozen=True)
class PixelIndex:
    """How :func:`~.kernels.accumulate_pixels` finds a pixel's index.

    Pixel arrays follow the bank geometry's flattened (C) order. When the
    detector numbers in that order are consecutive, the index is just
    ``pixel_id - offset`` and ``lookup`` is None; otherwise ``lookup`` maps
    ``pixel_id - offset`` to the index, ``-1`` for numbers not in the bank.
    """

    offset: int
    lookup: np.ndarray | None
    pixel_count: int

    @classmethod
    def from_detector_numbers(cls, numbers: np.ndarray) -> PixelIndex:
        """Build once per bank; raises ValueError on duplicate numbers."""
        flat = np.asarray(numbers, dtype=np.int64).ravel()
        n = flat.size
        if n == 0:
            raise ValueError("bank has no pixels")
        if flat.min() < INT32_MIN or flat.max() > INT32_MAX:
            # ev44 pixel ids are int32: such a bank could never be hit.
            raise ValueError("detector numbers beyond the int32 range of ev44")
        first = int(flat[0])
        if np.array_equal(flat, np.arange(first, first + n)):
            return cls(first, None, n)
        lo, hi = int(flat.min()), int(flat.max())
        span = hi - lo + 1
        if span > MAX_LOOKUP_ENTRIES:
            raise ValueError(
                f"detector numbers span {span} values, more than a lookup "
                f"table may cover ({MAX_LOOKUP_ENTRIES})"
            )
        lookup = np.full(span, -1, dtype=np.int32)
        lookup[flat - lo] = np.arange(n, dtype=np.int32)
        if np.count_nonzero(lookup >= 0) != n:
            raise ValueError("duplicate detector numbers in bank")
        return cls(lo, lookup, n)

    @property
    def contiguous(self) -> bool:
        return self.lookup is None
