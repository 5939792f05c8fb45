"""In-place accumulation kernels: the per-event hot loops.

Compiled with numba so one pass over the events does binning, range checks
and counting without temporary arrays. ``cache=True`` keeps start-up fast
after the first run.
"""

from __future__ import annotations

from typing import no_type_check

import numba
import numpy as np

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
@no_type_check  # numba's typing of numpy scalars, not mypy's
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


# Per-pixel accumulation: an index pass and two scatter passes per chunk.
#
# The index pass (vectorised: no stores to counters) checks pixel ids and
# times of arrival and sends rejected events to spare slots, so the scatter
# passes have no branches on the input. Pixel counters are uint8: 10M pixels
# take 10 MB and stay in L3 (int32: 40 MB, one DRAM round trip per event),
# 1M pixels fit L2. A counter that wraps adds one to ``spill`` (units of
# 256), so counts stay exact. While the uint8 counters fit in L2, pixel and
# TOA increments share one loop (the TOA increments, L1 hits, fill the time
# the pixel increments wait on L2); beyond L2 they go in separate loops, as
# fused the pixel stores that miss L2 hold up the TOA stores behind them in
# the store queue.
PIXEL_COUNTER = np.uint8
"""Current-window per-pixel counter type; wraps spill into a wide array."""
_PIXEL_CHUNK = 2048  # events per index pass; 16 KiB of indices stays in L1
_TOA_COPIES_MAX_BINS = 4096  # more bins: one TOA copy (collisions are rare)
_FUSED_MAX_PIXELS = 1 << 20  # uint8 counters within a 1 MiB L2: one scatter loop
_INT32 = np.dtype(np.int32)
_DENSE_SPAN = 2  # count by detector number if span <= this times the pixels
# Kernel constants: the binning plan (5 values), then these.
_OFFSET, _IN_RANGE_WIDTH, _WRAP, _PARAMS = 5, 6, 7, 8


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _bit(bits: np.ndarray, v: np.uint32) -> bool:
    """Bit ``v`` of a little-endian bit array in uint32 words (gathers vectorise)."""
    return (bits[v >> np.uint32(5)] >> (v & np.uint32(31))) & np.uint32(1) != 0


@numba.njit(cache=True, nogil=True, boundscheck=False)
@no_type_check  # numba's typing of numpy scalars, not mypy's
def _classify_rejected(
    ids: np.ndarray,
    times: np.ndarray,
    offset: int,
    lookup: np.ndarray | None,
    known_bits: np.ndarray | None,
    n_pixels: int,
    lo: int,
    width: int,
) -> tuple[int, int, int]:
    """Unknown ids, negative and outside TOA; run only on chunks with rejects."""
    unknown = 0
    negative = 0
    outside = 0
    for j in range(ids.shape[0]):
        v = np.uint32(np.int64(ids[j]) - offset)
        if known_bits is not None:
            known = v < np.uint32(n_pixels) and _bit(known_bits, v)
        elif lookup is None:
            known = v < np.uint32(n_pixels)
        else:
            known = v < np.uint32(lookup.shape[0]) and lookup[v] >= 0
        t = np.int64(times[j])
        unknown += np.int64(not known)
        negative += np.int64(known and t < 0)
        outside += np.int64(known and t >= 0 and np.uint32(t - lo) >= width)
    return unknown, negative, outside


@numba.njit(cache=True, nogil=True, boundscheck=False)
@no_type_check  # numba's typing of numpy scalars, not mypy's
def _accumulate_pixels(
    pixel_id: np.ndarray,
    toa: np.ndarray,
    params: np.ndarray,
    lookup: np.ndarray | None,
    known_bits: np.ndarray | None,
    counts: np.ndarray,
    spill: np.ndarray,
    toa_copies: np.ndarray,
    roi_group: np.ndarray | None,
    roi_group_toa_counts: np.ndarray,
    pixel_index: np.ndarray,
    toa_index: np.ndarray,
) -> tuple[int, int, int, int]:
    # ``lookup is None``, ``known_bits is None`` and ``roi_group is None`` are
    # decided when numba compiles (one specialisation each). With
    # ``known_bits``, counters are indexed by detector number (see
    # :meth:`PixelCounts.count_by_number`) and ``lookup`` is only read for
    # ROIs. Chunks are taken as slices: indexing
    # ``values[start + j]`` keeps LLVM from vectorising the index pass. Index
    # arithmetic is 32-bit (16 lanes), exact for int32 inputs given the
    # bounds :func:`accumulate_pixels` checks; one reject count per event, the
    # reasons are sorted out only in chunks that have rejects.
    n_events = pixel_id.shape[0]
    n_pixels = counts.shape[0] - _SPARE
    u_pixels = np.uint32(n_pixels)
    lo = params[0]
    width = params[1] - lo
    fixed = params[2] == _FIXED
    mul = np.uint64(params[3])
    shift = np.uint64(params[4])
    offset = params[_OFFSET]
    u_width = np.uint32(params[_IN_RANGE_WIDTH])
    wrap = params[_WRAP]
    n_bins = roi_group_toa_counts.shape[1]
    u_bins = np.uint32(n_bins)
    inverse_width = 1.0 / width
    stride = n_bins + _SPARE
    copy = stride if toa_copies.shape[0] > stride else 0
    fused = n_pixels <= _FUSED_MAX_PIXELS
    unknown = 0
    negative = 0
    outside = 0
    spills = 0
    for start in range(0, n_events, _PIXEL_CHUNK):
        m = min(_PIXEL_CHUNK, n_events - start)
        ids = pixel_id[start : start + m]
        times = toa[start : start + m]
        rejected = 0
        for j in range(m):
            v = np.uint32(np.int64(ids[j]) - offset)
            if known_bits is not None:
                in_span = v < u_pixels
                known = in_span & _bit(known_bits, v if in_span else np.uint32(0))
                p = v
            elif lookup is None:
                known = v < u_pixels
                p = v
            else:
                in_table = v < np.uint32(lookup.shape[0])
                q = lookup[v if in_table else np.uint32(0)]
                known = in_table & (q >= 0)
                p = np.uint32(q)
            u = np.uint32(np.int64(times[j]) - lo)  # t < 0 is outside, too
            ok = known & (u < u_width)
            u = u if ok else np.uint32(0)
            if fixed:
                b = np.uint32((np.uint64(u) * mul) >> shift)
            else:
                # The float quotient is exact or, on a bin edge, one too low
                # (width * bins < 2**52, checked by accumulate_pixels).
                scaled = np.int64(u) * n_bins
                bf = np.int64(np.float64(scaled) * inverse_width)
                bf += np.int64((bf + 1) * width <= scaled)
                b = np.uint32(bf)
            spare = np.uint32(j & (_SPARE - 1))
            pixel_index[j] = p if ok else u_pixels + spare
            toa_index[j] = b if ok else u_bins + spare
            rejected += np.int32(not ok)
        if rejected:
            reasons = _classify_rejected(
                ids, times, offset, lookup, known_bits, n_pixels, lo, u_width
            )
            unknown += reasons[0]
            negative += reasons[1]
            outside += reasons[2]
        if fused:
            for j in range(m):
                p = pixel_index[j]
                c = counts[p] + 1
                counts[p] = c
                toa_copies[toa_index[j]] += 1
                if c == wrap:
                    spill[p] += 1
                    spills += 1
        else:
            for j in range(m):
                p = pixel_index[j]
                c = counts[p] + 1
                counts[p] = c
                if c == wrap:
                    spill[p] += 1
                    spills += 1
            # Four TOA copies at fixed offsets (j & 3 costs as much as the rest).
            m4 = m & ~3
            for j in range(0, m4, 4):
                toa_copies[toa_index[j]] += 1
                toa_copies[copy + toa_index[j + 1]] += 1
                toa_copies[2 * copy + toa_index[j + 2]] += 1
                toa_copies[3 * copy + toa_index[j + 3]] += 1
            for j in range(m4, m):
                toa_copies[toa_index[j]] += 1
        if roi_group is not None:
            for j in range(m):
                k = toa_index[j]
                if k < u_bins:  # then the pixel is valid, too
                    pixel = np.int64(pixel_index[j])
                    if known_bits is not None:
                        pixel = np.int64(lookup[pixel])
                    roi_group_toa_counts[roi_group[pixel], k] += 1
    return unknown, negative, outside, spills


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _take_pixels(
    counts: np.ndarray,
    spill: np.ndarray,
    wrap: int,
    spilled: bool,
    positions: np.ndarray | None,
    out: np.ndarray,
) -> None:
    # One pass, no temporaries (10M pixels: 80 MB each in numpy). Pixel i's
    # counter is at ``positions[i]`` when counting by detector number.
    if spilled:
        for i in range(out.shape[0]):
            k = i if positions is None else positions[i]
            out[i] = counts[k] + np.int64(spill[k]) * wrap
            spill[k] = 0
    else:
        for i in range(out.shape[0]):
            k = i if positions is None else positions[i]
            out[i] = counts[k]
    counts[:] = 0
    spill[spill.shape[0] - _SPARE :] = 0


class PixelCounts:
    """One window's per-pixel counts and TOA spectrum, exact and cache-sized.

    Filled by :func:`accumulate_pixels`, read (and restarted) by
    :meth:`take`. Counters are :data:`PIXEL_COUNTER` plus a spill array for
    wraps; each counter array has spare slots at the end for rejected events.
    """

    def __init__(self, pixel_count: int, bins: int) -> None:
        self.pixel_count = pixel_count
        self._allocate(pixel_count)
        self.lookup: np.ndarray | None = None
        self.known_bits: np.ndarray | None = None
        self.permutation = False  # counting by number, and the span has no holes
        self._positions: np.ndarray | None = None
        self.wrap = 1 << (8 * self.counts.itemsize)
        self.spills = 0
        self.pixel_index = np.empty(_PIXEL_CHUNK, dtype=np.uint32)
        self.toa_index = np.empty(_PIXEL_CHUNK, dtype=np.uint32)
        self._params: dict[tuple[int, int, int, int], np.ndarray] = {}
        self.set_bins(bins)

    def _allocate(self, counters: int) -> None:
        self.counts = np.zeros(counters + _SPARE, dtype=PIXEL_COUNTER)
        self.spill = np.zeros(counters + _SPARE, dtype=np.uint32)

    def count_by_number(self, lookup: np.ndarray | None) -> None:
        """Use the bank's lookup table (see :func:`accumulate_pixels`); once.

        When detector numbers are dense (span at most twice the pixels),
        counters are indexed by number, not pixel, and a bit per number marks
        the bank's: events then read a bit array of span / 8 bytes (in L1/L2)
        instead of a 4-byte table entry per number (beyond L2 for large banks),
        and :meth:`take` maps numbers to pixels once per window.
        """
        if self.lookup is not None or lookup is None:
            raise ValueError("a bank's lookup table cannot change")
        if self.counts.any():
            raise ValueError("count_by_number must come before the first event")
        self.lookup = lookup
        span = lookup.shape[0]
        if span > _DENSE_SPAN * self.pixel_count:
            return
        valid = lookup >= 0
        bits = np.packbits(valid, bitorder="little")
        words = np.zeros(-(-bits.size // 4) * 4, dtype=np.uint8)
        words[: bits.size] = bits
        self.known_bits = words.view("<u4")
        self.permutation = span == self.pixel_count
        self._positions = np.empty(self.pixel_count, dtype=np.int64)
        self._positions[lookup[valid]] = np.flatnonzero(valid)
        self._allocate(span)

    def set_bins(self, bins: int) -> None:
        """New TOA bins; the TOA spectrum restarts, pixel counts are kept."""
        self.bins = bins
        self._params.clear()
        copies = _COPIES if bins <= _TOA_COPIES_MAX_BINS else 1
        self.toa_copies = np.zeros(copies * (bins + _SPARE), dtype=np.int64)

    def take(self, counts: np.ndarray, toa_counts: np.ndarray) -> None:
        """Write the window's counts into ``counts`` and ``toa_counts``; restart.

        Both outputs are int64, ``pixel_count`` and ``bins`` long.
        """
        if counts.dtype != np.int64 or counts.shape != (self.pixel_count,):
            raise ValueError("counts must be int64, one per pixel")
        # Most windows wrap no counter: then the spill array is not read.
        _take_pixels(
            self.counts,
            self.spill,
            self.wrap,
            self.spills > 0,
            self._positions,
            counts,
        )
        self.spills = 0
        copies = self.toa_copies.reshape(-1, self.bins + _SPARE)
        np.sum(copies[:, : self.bins], axis=0, out=toa_counts)
        self.toa_copies[:] = 0

    def params(self, offset: int, span: int, toa_range: tuple[int, int]) -> np.ndarray:
        """The kernel's constants for this bank and binning, checked once.

        ``span`` is the number of detector numbers from ``offset`` on that
        may be in the bank. Cached: a bank calls with the same values for
        every message, and each check or argument costs per call.
        """
        key = (offset, span, *toa_range)
        try:
            return self._params[key]
        except KeyError:
            pass
        lo, hi = toa_range
        if not -(2**31) <= offset <= 2**31 - span:
            raise ValueError("detector numbers must lie in the int32 range")
        if lo < 0:
            raise ValueError("TOA range must not start below 0")
        if (hi - lo) * self.bins >= 2**52:
            raise ValueError("TOA range times bins too large for exact binning")
        try:
            plan = _PLANS[lo, hi, self.bins]
        except KeyError:
            plan = _histogram_plan(lo, hi, self.bins)
        params = np.empty(_PARAMS, dtype=np.int64)
        params[: plan.size] = plan
        params[_OFFSET] = offset
        params[_IN_RANGE_WIDTH] = max(0, min(hi, 2**31) - lo)  # int32 times < 2**31
        params[_WRAP] = self.wrap
        params.flags.writeable = False
        if len(self._params) >= 16:
            self._params.clear()
        self._params[key] = params
        return params


def accumulate_pixels(
    pixel_id: np.ndarray,
    toa: np.ndarray,
    *,
    offset: int,
    lookup: np.ndarray | None,
    toa_range: tuple[int, int],
    counts: PixelCounts,
    roi_group: np.ndarray | None,
    roi_group_toa_counts: np.ndarray,
) -> tuple[int, int, int]:
    """Add detector events to per-pixel counts and TOA spectra.

    A pixel id maps to index ``pixel_id - offset`` when ``lookup`` is None
    (contiguous detector numbers), else to ``lookup[pixel_id - offset]``,
    where ``-1`` marks ids that are not in the bank. Events with a valid pixel
    and ``toa`` in ``toa_range`` (ns, half-open) are added to ``counts`` (its
    pixel and its TOA bin ``floor((toa - lo) * bins / (hi - lo))``, computed
    exactly as in :func:`histogram_uniform`). Unless ``roi_group`` is None
    they are also added to row ``roi_group[pixel]`` of
    ``roi_group_toa_counts`` (``bins`` columns): pixels are grouped by the set
    of ROIs they belong to, so one increment serves a pixel in several ROIs.

    ``pixel_id`` and ``toa`` are int32 (as in ev44), detector numbers lie
    in the int32 range: then 32-bit index arithmetic is exact. ``counts``
    serves one bank: every call passes it the same ``lookup``.

    Returns
    -------
    :
        Events with an unknown pixel id, with a negative (invalid) time of
        arrival, and outside ``toa_range``; each event is in at most one.
    """
    if pixel_id.dtype != _INT32 or toa.dtype != _INT32:
        raise TypeError("pixel ids and times of arrival must be int32")
    if roi_group_toa_counts.shape[1] != counts.bins:
        raise ValueError("ROI spectra and TOA spectrum differ in bins")
    if lookup is not counts.lookup:
        counts.count_by_number(lookup)
    span = counts.pixel_count if lookup is None else lookup.shape[0]
    params = counts.params(offset, span, toa_range)
    known_bits = counts.known_bits
    if counts.permutation and roi_group is None:
        # Counting by number with every number in the span the bank's: the
        # contiguous case (ROIs still need the lookup table to find groups).
        lookup = known_bits = None
    unknown, negative, outside, spills = _accumulate_pixels(
        pixel_id,
        toa,
        params,
        lookup,
        known_bits,
        counts.counts,
        counts.spill,
        counts.toa_copies,
        roi_group,
        roi_group_toa_counts,
        counts.pixel_index,
        counts.toa_index,
    )
    counts.spills += spills
    return unknown, negative, outside


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
