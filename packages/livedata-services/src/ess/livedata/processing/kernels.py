"""In-place accumulation kernels: the per-event hot loops.

Compiled with numba so one pass over the events does binning, range checks
and counting without temporary arrays. ``cache=True`` keeps start-up fast
after the first run.
"""

from __future__ import annotations

import numba
import numpy as np

from .prefetch import prefetch

# Uniform histogramming: an index pass and a scatter pass per chunk of events.
#
# The index pass has no stores to the histogram, so LLVM vectorises it (range
# check, bin arithmetic, invalid-event counts). The scatter pass increments
# integer counters: ``float64 += 1`` costs add latency plus store forwarding
# (~8 cycles) when consecutive events hit the same bin; an integer increment
# costs less (on Zen 4 nothing: its forwarding makes back-to-back increments
# ~1 cycle) and interleaved copies split what remains of such chains on other
# CPUs. Counters go into ``out`` at the end.
_CHUNK = 4096  # events per index pass; 16 KiB of uint32 indices stays in L1
_SPARE = 8  # spare counter slots per copy, where unbinned events are sent
_COPIES = 4  # interleaved copies for large messages (store-to-load chains)
_BLOCK = 1 << 31  # events per counter flush, so uint32 counters cannot wrap
_FIXED, _FLOAT = 0, 1
_PLANS: dict[tuple[int, int, int], np.ndarray] = {}


def _histogram_plan(lo: int, hi: int, nbins: int) -> np.ndarray:
    """Per-binning constants: ``[lo, hi, mode, multiplier, shift]`` (int64).

    The bin of ``d = v - lo`` is exactly ``floor(d * nbins / (hi - lo))``.
    With ``g = gcd(nbins, w)``, ``n = nbins / g``, ``w' = w / g`` and
    ``2**shift > w * w'``, the multiplier ``m = ceil(n * 2**shift / w')``
    gives ``(d * m) >> shift == floor(d * n / w')`` for all ``0 <= d < w``
    (the error ``d * (m - n * 2**shift / w') / 2**shift < w / 2**shift`` is
    below the ``1 / w'`` gap from the fraction to the next integer), so one
    64-bit multiply suffices whenever ``(w - 1) * m < 2**64``: e.g. up to
    2048 bins over the 71.4 ms frame, or 100000 over 100 ms.

    Otherwise the float path truncates ``d * s`` with ``s`` one ulp above
    ``fl(nbins / w)``, so ``s >= nbins / w`` and rounding can never drop an
    event on a bin edge into the bin below; the overshoot (< 2 ulp of
    ``nbins``) stays below the ``1 / w'`` gap to the next edge while
    ``w' * nbins < 2**51``, e.g. 100000 bins over 2**32 ns. Beyond that
    (absurd) limit a value less than about ``w * 2**-51`` ns below an edge
    may land one bin too high.
    """
    if int(lo) != lo or int(hi) != hi:
        raise TypeError("histogram range must be integers (ns)")
    lo, hi = int(lo), int(hi)
    if hi <= lo:
        raise ValueError("histogram range must be increasing")
    if nbins < 1:
        raise ValueError("histogram needs at least one bin")
    if not -(2**53) < lo < hi < 2**53:
        raise ValueError("histogram range must lie within +-2**53 ns")
    w = hi - lo
    g = int(np.gcd(nbins, w))
    shift = (w * (w // g)).bit_length()
    mul = -(-((nbins // g) << shift) // (w // g))
    mode = _FIXED if shift < 64 and (w - 1) * mul < 2**64 else _FLOAT
    if mode == _FLOAT:
        shift = mul = 0
    plan = np.array([lo, hi, mode, mul - (mul >> 63 << 64), shift], dtype=np.int64)
    plan.flags.writeable = False
    if len(_PLANS) >= 1024:
        _PLANS.clear()
    _PLANS[(lo, hi, nbins)] = plan
    return plan


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _histogram_uniform(
    values: np.ndarray, plan: np.ndarray, out: np.ndarray
) -> tuple[int, int]:
    n_events = values.shape[0]
    nbins = out.shape[0]
    lo = plan[0]
    lo_in = max(lo, 0)  # negative values are never binned
    width = np.uint64(max(plan[1] - lo_in, 0))
    fixed = plan[2] == _FIXED
    mul = np.uint64(plan[3])
    shift = np.uint64(plan[4])
    lo_f = np.float64(lo)
    scale = np.nextafter(np.float64(nbins) / np.float64(plan[1] - lo), np.inf)
    last = np.int32(nbins - 1)
    stride = nbins + _SPARE
    # Few events into many bins: add to ``out`` directly, skipping the
    # counters (zeroing and flushing them costs O(bins) per call).
    direct = n_events < nbins
    copies = _COPIES if n_events >= 32 * _COPIES * stride else 1
    if copies * stride >= 1 << 32:
        direct = True
    copy_mask = copies - 1
    counts = np.zeros(0 if direct else copies * stride, np.uint32)
    idx = np.empty(min(_CHUNK, n_events), np.uint32)
    negative = 0
    unbinned = 0
    for block in range(0, n_events, _BLOCK):
        block_end = min(block + _BLOCK, n_events)
        for start in range(block, block_end, _CHUNK):
            m = min(_CHUNK, block_end - start)
            chunk = values[start : start + m]
            # Index pass. Unsigned ``v - lo_in < width`` is the whole range
            # check; unbinned events go to a spare slot (spread over several
            # so they do not form one hot counter).
            if fixed:
                for j in range(m):
                    v = np.int64(chunk[j])
                    inside = np.uint64(v - lo_in) < width
                    d = np.uint64(v - lo) if inside else np.uint64(0)
                    b = (d * mul) >> shift
                    slot = np.uint64(nbins + (j & (_SPARE - 1)))
                    base = np.uint64((j & copy_mask) * stride)
                    idx[j] = base + (b if inside else slot)
                    negative += np.int64(v < 0)
                    unbinned += np.int64(not inside)
            else:
                for j in range(m):
                    v = np.int64(chunk[j])
                    inside = np.uint64(v - lo_in) < width
                    # 32-bit conversions vectorise on AVX2 too (64-bit ones
                    # need AVX-512); ``b`` is only used when ``inside``.
                    b = min(np.int32((np.float64(chunk[j]) - lo_f) * scale), last)
                    slot = nbins + (j & (_SPARE - 1))
                    base = (j & copy_mask) * stride
                    idx[j] = base + (b if inside else slot)
                    negative += np.int64(v < 0)
                    unbinned += np.int64(not inside)
            # Scatter pass.
            if direct:
                for j in range(m):
                    k = idx[j]
                    if k < nbins:
                        out[k] += 1.0
            else:
                for j in range(m):
                    counts[idx[j]] += np.uint32(1)
        if not direct:
            for c in range(copies):
                for i in range(nbins):
                    out[i] += counts[c * stride + i]
            counts[:] = 0
    return unbinned - negative, negative


def histogram_uniform(
    values: np.ndarray, lo: int, hi: int, out: np.ndarray
) -> tuple[int, int]:
    """Add ``values`` into ``out``, uniform bins over [lo, hi).

    ``values`` are integers (ns); value ``v`` goes to bin
    ``floor((v - lo) * len(out) / (hi - lo))``, computed exactly (for any
    range below ``2**51 / len(out)`` ns), so a value on a bin edge always
    lands in the upper bin.

    Returns
    -------
    :
        Counts of values outside [lo, hi) and of negative values (which are
        invalid times of arrival and neither binned nor "outside").
    """
    if values.dtype.kind not in "iu":
        raise TypeError("histogram_uniform needs integer values")
    try:
        plan = _PLANS[lo, hi, len(out)]
    except KeyError:
        plan = _histogram_plan(lo, hi, len(out))
    return _histogram_uniform(values, plan, out)


PREFETCH_ABOVE_BYTES = 1 << 21
"""Counter arrays larger than this (beyond L2) get software prefetches."""
PREFETCH_DISTANCE = 32
"""Events per block; the next block's counters are prefetched meanwhile."""


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _accumulate_pixels(
    pixel_id: np.ndarray,
    toa: np.ndarray,
    offset: int,
    lookup: np.ndarray | None,
    plan: np.ndarray,
    use_prefetch: bool,
    counts: np.ndarray,
    toa_counts: np.ndarray,
    roi_group: np.ndarray | None,
    roi_group_toa_counts: np.ndarray,
) -> tuple[int, int, int]:
    # ``lookup is None`` and ``roi_group is None`` are decided when numba
    # compiles (one specialisation each), so the common case has no lookup
    # and no ROI code in its loop. Unsigned differences fold "below" and
    # "above" into one comparison.
    n_events = pixel_id.shape[0]
    n_pixels = np.uint64(counts.shape[0])
    lo = plan[0]
    width = plan[1] - lo
    u_width = np.uint64(width)
    fixed = plan[2] == _FIXED
    mul = np.uint64(plan[3])
    shift = np.uint64(plan[4])
    n_bins = np.int64(toa_counts.shape[0])
    inverse_width = 1.0 / width
    unknown = 0
    negative = 0
    outside = 0
    for start in range(0, n_events, PREFETCH_DISTANCE):
        stop = min(start + PREFETCH_DISTANCE, n_events)
        if use_prefetch:
            for j in range(stop, min(stop + PREFETCH_DISTANCE, n_events)):
                ahead = np.uint64(np.int64(pixel_id[j]) - offset)
                if lookup is None:
                    if ahead < n_pixels:
                        prefetch(counts, ahead)
                elif ahead < np.uint64(lookup.shape[0]):
                    prefetch(lookup, ahead)
        for i in range(start, stop):
            p = np.uint64(np.int64(pixel_id[i]) - offset)
            if lookup is None:
                if p >= n_pixels:
                    unknown += 1
                    continue
            else:
                if p >= np.uint64(lookup.shape[0]):
                    unknown += 1
                    continue
                q = lookup[p]
                if q < 0:
                    unknown += 1
                    continue
                p = np.uint64(q)
            t = np.int64(toa[i])
            u = np.uint64(t - lo)
            if t < 0:
                negative += 1
                continue
            if u >= u_width:
                outside += 1
                continue
            if fixed:
                b = np.int64((u * mul) >> shift)
            else:
                # The float quotient is exact or, on a bin edge, one too low
                # (width * bins < 2**52, checked by accumulate_pixels).
                scaled = np.int64(u) * n_bins
                b = np.int64(np.float64(scaled) * inverse_width)
                if (b + 1) * width <= scaled:
                    b += 1
            counts[p] += 1
            toa_counts[b] += 1
            if roi_group is not None:
                roi_group_toa_counts[roi_group[p], b] += 1
    return unknown, negative, outside


def accumulate_pixels(
    pixel_id: np.ndarray,
    toa: np.ndarray,
    *,
    offset: int,
    lookup: np.ndarray | None,
    toa_range: tuple[int, int],
    counts: np.ndarray,
    toa_counts: np.ndarray,
    roi_group: np.ndarray | None,
    roi_group_toa_counts: np.ndarray,
) -> tuple[int, int, int]:
    """Add detector events to per-pixel counts and TOA spectra, in one pass.

    A pixel id maps to index ``pixel_id - offset`` when ``lookup`` is None
    (contiguous detector numbers), else to ``lookup[pixel_id - offset]``,
    where ``-1`` marks ids that are not in the bank. Events with a valid pixel
    and ``toa`` in ``toa_range`` (ns, half-open) are added to ``counts`` and
    to ``toa_counts``, in bin ``floor((toa - lo) * bins / (hi - lo))``
    computed exactly as in :func:`histogram_uniform`. Unless ``roi_group`` is
    None they are also added to row ``roi_group[pixel]`` of
    ``roi_group_toa_counts``: pixels are grouped by the set of ROIs they
    belong to, so one increment serves a pixel in several ROIs.

    Returns
    -------
    :
        Events with an unknown pixel id, with a negative (invalid) time of
        arrival, and outside ``toa_range``; each event is in at most one.
    """
    lo, hi = toa_range
    bins = toa_counts.shape[0]
    if lo < 0:
        raise ValueError("TOA range must not start below 0")
    if (hi - lo) * bins >= 2**52:
        raise ValueError("TOA range times bins too large for exact binning")
    try:
        plan = _PLANS[lo, hi, bins]
    except KeyError:
        plan = _histogram_plan(lo, hi, bins)
    largest = max(counts.nbytes, 0 if lookup is None else lookup.nbytes)
    return _accumulate_pixels(
        pixel_id,
        toa,
        offset,
        lookup,
        plan,
        largest > PREFETCH_ABOVE_BYTES,
        counts,
        toa_counts,
        roi_group,
        roi_group_toa_counts,
    )


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _project_pixels(
    pixels: np.ndarray,
    bins: np.ndarray,
    shares: np.ndarray,
    counts: np.ndarray,
    out: np.ndarray,
) -> None:
    for k in range(pixels.shape[0]):
        out[bins[k]] += counts[pixels[k]] * shares[k]


def project_pixels(
    pixels: np.ndarray,
    bins: np.ndarray,
    shares: np.ndarray,
    counts: np.ndarray,
    out: np.ndarray,
) -> None:
    """Add per-pixel ``counts`` to screen bins through a sparse matrix.

    Entry ``k`` adds ``counts[pixels[k]] * shares[k]`` to ``out[bins[k]]``.
    Integer ``out`` keeps the sum exact and avoids the float-add latency
    chain when consecutive entries hit one bin; one flat loop over entries
    (not per pixel) has no inner-loop exits to mispredict.
    """
    _project_pixels(pixels, bins, shares, counts, out)
