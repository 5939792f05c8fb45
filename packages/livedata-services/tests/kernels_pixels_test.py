"""accumulate_pixels / PixelCounts against plain numpy: spills, rejects, ROIs."""

import numpy as np
import pytest

from ess.livedata.processing.kernels import PixelCounts, accumulate_pixels
from ess.livedata.processing.pixel_index import PixelIndex

I32_MIN, I32_MAX = -(2**31), 2**31 - 1


def reference(pixel_id, toa, offset, n, lo, hi, bins, roi_group, groups):
    """Contiguous detector numbers ``offset .. offset + n - 1``, in int64."""
    index = pixel_id.astype(np.int64) - offset
    known = (index >= 0) & (index < n)
    t = toa.astype(np.int64)
    counted = known & (t >= lo) & (t < hi)
    b = (t[counted] - lo) * bins // (hi - lo)
    roi = np.zeros((groups, bins), dtype=np.int64)
    if roi_group is not None:
        np.add.at(roi, (roi_group[index[counted]], b), 1)
    rejected = (
        int((~known).sum()),
        int((known & (t < 0)).sum()),
        int((known & (t >= 0) & ~counted).sum()),
    )
    return (
        np.bincount(index[counted], minlength=n),
        np.bincount(b, minlength=bins),
        roi,
        rejected,
    )


def run(messages, offset, n, toa_range, bins, roi_group=None, groups=1):
    """Accumulate ``messages`` (pixel_id, toa pairs), then take the counts."""
    pixels = PixelCounts(n, bins)
    roi = np.zeros((groups, bins), dtype=np.int64)
    rejected = np.zeros(3, dtype=np.int64)
    for pixel_id, toa in messages:
        rejected += accumulate_pixels(
            pixel_id,
            toa,
            offset=offset,
            lookup=None,
            toa_range=toa_range,
            counts=pixels,
            roi_group=roi_group,
            roi_group_toa_counts=roi,
        )
    counts = np.zeros(n, dtype=np.int64)
    toa_counts = np.zeros(bins, dtype=np.int64)
    pixels.take(counts, toa_counts)
    return counts, toa_counts, roi, tuple(int(r) for r in rejected)


def assert_matches(messages, offset, n, toa_range, bins, roi_group=None, groups=1):
    got = run(messages, offset, n, toa_range, bins, roi_group, groups)
    pixel_id = np.concatenate([p for p, _ in messages])
    toa = np.concatenate([t for _, t in messages])
    expected = reference(pixel_id, toa, offset, n, *toa_range, bins, roi_group, groups)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("hits", [254, 255, 256, 257, 511, 512, 513, 70_000])
def test_counts_stay_exact_across_counter_wraps(hits):
    # Pixel 3 gets ``hits`` events, pixel 0 one fewer; uint8 counters wrap
    # every 256 and spill the rest.
    pixel_id = np.array([3] * hits + [0] * (hits - 1), dtype=np.int32)
    toa = np.full(pixel_id.size, 5, dtype=np.int32)
    counts, toa_counts, _, rejected = run([(pixel_id, toa)], 0, 4, (0, 10), 2)
    np.testing.assert_array_equal(counts, [hits - 1, 0, 0, hits])
    np.testing.assert_array_equal(toa_counts, [0, 2 * hits - 1])
    assert rejected == (0, 0, 0)


def test_a_wrap_between_messages_is_counted():
    one = (np.array([1], dtype=np.int32), np.array([0], dtype=np.int32))
    many = (np.full(255, 1, dtype=np.int32), np.zeros(255, dtype=np.int32))
    counts, *_ = run([many, one, many, one, one], 0, 2, (0, 10), 1)
    np.testing.assert_array_equal(counts, [0, 513])


def test_rejected_events_go_nowhere_even_when_spare_slots_wrap():
    rng = np.random.default_rng(1)
    n = 300
    pixel_id = rng.integers(-n, 2 * n, 20_000).astype(np.int32)
    toa = rng.integers(-50, 150, 20_000).astype(np.int32)
    assert_matches([(pixel_id, toa)] * 3, 0, n, (0, 100), 7)


def test_extreme_int32_ids_and_times():
    values = [I32_MIN, I32_MIN + 1, -1, 0, 1, 99, 100, 101, I32_MAX - 1, I32_MAX]
    pixel_id = np.repeat(np.array(values, dtype=np.int32), len(values))
    toa = np.tile(np.array(values, dtype=np.int32), len(values))
    for offset in (I32_MIN, -5, 0, 100, 2**31 - 300):
        for toa_range in ((0, 100), (1, 2**31), (0, 2**40), (2**31, 2**32)):
            assert_matches([(pixel_id, toa)], offset, 300, toa_range, 3)


@pytest.mark.parametrize("size", [1, 3, 2047, 2048, 2049, 4100])
@pytest.mark.parametrize("bins", [1, 5, 4096, 5000])
def test_message_and_bin_counts_not_multiples_of_chunks_or_copies(size, bins):
    rng = np.random.default_rng(size + bins)
    n = 1000
    pixel_id = rng.integers(-3, n + 3, size).astype(np.int32)
    toa = rng.integers(-3, 10**6 + 3, size).astype(np.int32)
    assert_matches([(pixel_id, toa), (pixel_id, toa)], 0, n, (0, 10**6), bins)


def test_roi_groups_count_only_accepted_events():
    rng = np.random.default_rng(2)
    n, groups = 500, 4
    roi_group = rng.integers(0, groups, n).astype(np.uint8)
    pixel_id = np.concatenate(
        [rng.integers(-10, n + 10, 30_000), np.full(600, 7)]  # pixel 7 wraps
    ).astype(np.int32)
    toa = rng.integers(-10, 1010, pixel_id.size).astype(np.int32)
    assert_matches([(pixel_id, toa)], 0, n, (0, 1000), 9, roi_group, groups)


def test_take_restarts_and_new_bins_keep_pixel_counts():
    pixels = PixelCounts(4, 2)
    pixel_id = np.full(300, 2, dtype=np.int32)
    toa = np.zeros(300, dtype=np.int32)
    args = {"offset": 0, "lookup": None, "toa_range": (0, 10), "roi_group": None}
    roi = np.zeros((1, 2), dtype=np.int64)
    accumulate_pixels(pixel_id, toa, **args, counts=pixels, roi_group_toa_counts=roi)
    pixels.set_bins(3)
    roi = np.zeros((1, 3), dtype=np.int64)
    accumulate_pixels(pixel_id, toa, **args, counts=pixels, roi_group_toa_counts=roi)
    counts, toa_counts = np.zeros(4, np.int64), np.zeros(3, np.int64)
    pixels.take(counts, toa_counts)
    np.testing.assert_array_equal(counts, [0, 0, 600, 0])
    np.testing.assert_array_equal(toa_counts, [300, 0, 0])
    pixels.take(counts, toa_counts)
    assert counts.sum() == 0
    assert toa_counts.sum() == 0


def test_inputs_must_be_int32_and_numbers_within_int32():
    pixels = PixelCounts(10, 2)
    roi = np.zeros((1, 2), dtype=np.int64)
    ok = np.zeros(3, dtype=np.int32)

    def call(pixel_id, toa, offset=0):
        accumulate_pixels(
            pixel_id,
            toa,
            offset=offset,
            lookup=None,
            toa_range=(0, 10),
            counts=pixels,
            roi_group=None,
            roi_group_toa_counts=roi,
        )

    with pytest.raises(TypeError):
        call(ok.astype(np.int64), ok)
    with pytest.raises(TypeError):
        call(ok, ok.astype(np.uint32))
    with pytest.raises(ValueError, match="int32"):
        call(ok, ok, offset=2**31 - 5)
    with pytest.raises(ValueError, match="int32"):
        call(ok, ok, offset=-(2**31) - 1)


@pytest.mark.parametrize("with_rois", [True, False])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_lookup_banks_count_exactly_across_wraps(stride, with_rois):
    # stride 1 and 2: counters by detector number (dense); 3: table lookups.
    rng = np.random.default_rng(stride)
    numbers = rng.permutation(np.arange(40, 40 + 50 * stride, stride))
    index = PixelIndex.from_detector_numbers(numbers)
    pixels = PixelCounts(numbers.size, 3)
    pixel_id = np.concatenate([np.full(700, numbers[7]), rng.integers(30, 200, 5000)])
    pixel_id = pixel_id.astype(np.int32)
    toa = rng.integers(-5, 35, pixel_id.size).astype(np.int32)
    roi_group = (np.arange(numbers.size) % 2).astype(np.uint8)
    roi = np.zeros((2, 3), dtype=np.int64)
    rejected = accumulate_pixels(
        pixel_id,
        toa,
        offset=index.offset,
        lookup=index.lookup,
        toa_range=(0, 30),
        counts=pixels,
        roi_group=roi_group if with_rois else None,
        roi_group_toa_counts=roi,
    )
    counts = np.zeros(numbers.size, dtype=np.int64)
    pixels.take(counts, np.zeros(3, dtype=np.int64))
    position = {int(n): i for i, n in enumerate(numbers)}
    pixel = np.array([position.get(int(p), -1) for p in pixel_id])
    counted = (pixel >= 0) & (toa >= 0) & (toa < 30)
    expected_roi = np.zeros((2, 3), dtype=np.int64)
    np.add.at(expected_roi, (roi_group[pixel[counted]], toa[counted] // 10), 1)
    np.testing.assert_array_equal(counts, np.bincount(pixel[counted], minlength=50))
    np.testing.assert_array_equal(
        roi, expected_roi if with_rois else np.zeros_like(roi)
    )
    assert rejected[0] == int((pixel < 0).sum())
    assert counts[7] > 256


def test_a_bank_keeps_its_lookup_table():
    index = PixelIndex.from_detector_numbers(np.array([5, 3, 4]))
    pixels = PixelCounts(3, 2)
    roi = np.zeros((1, 2), dtype=np.int64)
    one = np.array([4], dtype=np.int32)

    def call(lookup):
        accumulate_pixels(
            one,
            one,
            offset=index.offset,
            lookup=lookup,
            toa_range=(0, 10),
            counts=pixels,
            roi_group=None,
            roi_group_toa_counts=roi,
        )

    call(index.lookup)
    with pytest.raises(ValueError, match="lookup table"):
        call(index.lookup.copy())
    with pytest.raises(ValueError, match="lookup table"):
        call(None)
