"""In-place accumulation kernels: the per-event hot loops.

Compiled with numba so one pass over the events does binning, range checks
and counting without temporary arrays. ``cache=True`` keeps start-up fast
after the first run.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _histogram_uniform(
    values: np.ndarray, lo: int, hi: int, scale: float, out: np.ndarray
) -> tuple[int, int]:
    nbins = out.shape[0]
    outside = 0
    negative = 0
    for i in range(values.shape[0]):
        v = values[i]
        if v < 0:
            negative += 1
        elif v < lo or v >= hi:
            outside += 1
        else:
            b = int((v - lo) * scale)
            out[min(b, nbins - 1)] += 1
    return outside, negative


def histogram_uniform(
    values: np.ndarray, lo: int, hi: int, out: np.ndarray
) -> tuple[int, int]:
    """Add ``values`` into ``out``, uniform bins over [lo, hi).

    Returns
    -------
    :
        Counts of values outside [lo, hi) and of negative values (which are
        invalid times of arrival and neither binned nor "outside").
    """
    if hi <= lo:
        raise ValueError("histogram range must be increasing")
    scale = out.shape[0] / (hi - lo)
    return _histogram_uniform(values, lo, hi, scale, out)
