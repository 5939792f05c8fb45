"""histogram_uniform against numpy.histogram and exact integer arithmetic.

The kernel bins ``v`` into ``floor((v - lo) * bins / (hi - lo))`` exactly.
numpy.histogram agrees everywhere except, for some wide ranges, on values
lying exactly on an integer bin edge, where numpy's float edges can be one
ulp off; there the exact rule decides and numpy is checked on the rest.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ess.livedata.processing import kernels
from ess.livedata.processing.kernels import histogram_uniform

I32_MIN = int(np.iinfo(np.int32).min)
I32_MAX = int(np.iinfo(np.int32).max)
FRAME = 71_428_571


def exact_bins(inside: np.ndarray, lo: int, hi: int, nbins: int) -> np.ndarray:
    w = hi - lo
    if (I32_MAX - lo) * nbins < 2**62:
        return (inside.astype(np.int64) - lo) * nbins // w
    return np.array([(int(v) - lo) * nbins // w for v in inside], dtype=np.int64)


def check(values, lo: int, hi: int, nbins: int) -> None:
    """Kernel result == numpy on in-range values + explicit invalid counts."""
    values = np.asarray(values)
    v = values.astype(np.int64)
    negative = int((v < 0).sum())
    in_range = (v >= 0) & (v >= lo) & (v < hi)
    inside = v[in_range]
    outside = values.size - negative - inside.size

    start = np.arange(nbins, dtype=np.float64)  # kernel must add, not assign
    out = start.copy()
    assert histogram_uniform(values, lo, hi, out) == (outside, negative)
    counts = out - start

    exact = np.bincount(exact_bins(inside, lo, hi, nbins), minlength=nbins)
    np.testing.assert_array_equal(counts, exact)

    numpy_counts, _ = np.histogram(inside, bins=nbins, range=(lo, hi))
    if not np.array_equal(numpy_counts, exact):
        on_edge = np.array([(int(x) - lo) * nbins % (hi - lo) == 0 for x in inside])
        assert on_edge.any(), "numpy differs off bin edges"
        off = inside[~on_edge]
        np.testing.assert_array_equal(
            np.histogram(off, bins=nbins, range=(lo, hi))[0],
            np.bincount(exact_bins(off, lo, hi, nbins), minlength=nbins),
        )


def edge_values(lo: int, hi: int, nbins: int) -> np.ndarray:
    w = hi - lo
    k = np.linspace(0, nbins, num=min(nbins + 1, 50), dtype=np.int64)
    step = nbins // math.gcd(nbins, w)  # edges k * w / nbins that are integers
    k = np.unique(np.concatenate([k, np.arange(0, nbins + 1, step)[:50]]))
    edges = [lo + (int(i) * w + nbins - 1) // nbins for i in k]  # first v in bin i
    special = [lo, lo + 1, hi - 1, hi, hi + 1, lo - 1, -1, 0, 1, I32_MIN, I32_MAX]
    candidates = [e + d for e in edges for d in (-1, 0, 1)] + special
    return np.array([c for c in candidates if I32_MIN <= c <= I32_MAX], np.int32)


RANGES = [
    (0, FRAME, 200),  # default monitor binning
    (0, 100_000_000, 100),  # 1 ms bins: every edge is an integer
    (0, 9_000_000, 10),  # int(v * (bins / width)) puts 3 edge values 1 bin low
    (0, 1_666_091_924, 2),
    (0, 100_000_000, 100_000),
    (0, 10, 1),
    (5, 6, 1),
    (7, 8, 3),  # bins narrower than 1 ns
    (-100, 100, 200),  # negative lo: negative values are still "negative"
    (-1000, -10, 4),  # entirely negative range: nothing can be binned
    (1_000, 2_000_000_000, 7),
    (13_615_840, 2_020_472_566, 200),  # numpy's float edge is off at one edge
    (I32_MIN, I32_MAX, 7),
    (I32_MIN, I32_MAX, 100_000),
    (I32_MAX - 3, I32_MAX + 5, 4),  # hi beyond int32
    (10, 2**40, 3),
    (0, 10**9 + 7, 100_000),  # float path
    (0, 100_000_040, 100_000),  # float path, edges that plain n / w misplaces
    (-(2**40), 2**40, 9),
]


@pytest.mark.parametrize(("lo", "hi", "nbins"), RANGES)
def test_edge_values(lo, hi, nbins):
    check(edge_values(lo, hi, nbins), lo, hi, nbins)


@pytest.mark.parametrize(("lo", "hi", "nbins"), RANGES)
def test_random_values(lo, hi, nbins):
    rng = np.random.default_rng(abs(lo) + hi + nbins)
    span = np.clip([lo - (hi - lo) // 10, hi + (hi - lo) // 10], I32_MIN, I32_MAX)
    values = rng.integers(span[0], span[1], size=20_000, endpoint=True)
    check(values.astype(np.int32), lo, hi, nbins)


@pytest.mark.parametrize("nbins", [1, 200, 100_000])
def test_empty(nbins):
    out = np.ones(nbins)
    assert histogram_uniform(np.empty(0, np.int32), 0, FRAME, out) == (0, 0)
    np.testing.assert_array_equal(out, np.ones(nbins))


@pytest.mark.parametrize("n", [1, 1_000, 4_096, 4_097, 30_000, 1_000_000])
def test_message_sizes_with_hot_bins(n):
    # Crosses the chunk size and the thresholds for direct adds (fewer events
    # than bins) and for interleaved copies; sorted input makes long runs on
    # one bin, the case copies are for.
    rng = np.random.default_rng(n)
    values = rng.normal(3e6, 2e5, size=n).astype(np.int32)
    values[::10] = rng.integers(-FRAME, 2 * FRAME, size=values[::10].size)
    check(values, 0, FRAME, 200)
    check(np.sort(values), 0, FRAME, 200)
    check(values, 0, FRAME, 100_000)


def test_other_integer_dtypes_and_strides():
    rng = np.random.default_rng(1)
    big = rng.integers(-(2**40), 2**42, size=10_000)
    check(big, 2**30, 2**41, 1000)  # int64 beyond the int32 range
    check(rng.integers(0, 2**16, size=5_000).astype(np.uint16), 100, 60_000, 13)
    strided = rng.integers(-10, FRAME + 10, size=20_000).astype(np.int32)[::3]
    check(strided, 0, FRAME, 200)


def test_both_arithmetic_paths_are_covered():
    modes = {int(kernels._histogram_plan(lo, hi, n)[2]) for lo, hi, n in RANGES}
    assert modes == {kernels._FIXED, kernels._FLOAT}
    assert kernels._histogram_plan(0, FRAME, 200)[2] == kernels._FIXED


def test_invalid_arguments():
    values = np.arange(10, dtype=np.int32)
    with pytest.raises(ValueError, match="increasing"):
        histogram_uniform(values, 10, 10, np.zeros(3))
    with pytest.raises(ValueError, match="bin"):
        histogram_uniform(values, 0, 10, np.zeros(0))
    with pytest.raises(ValueError, match="within"):
        histogram_uniform(values, 0, 2**53, np.zeros(3))
    with pytest.raises(TypeError):
        histogram_uniform(values.astype(float), 0, 10, np.zeros(3))
    with pytest.raises(TypeError):
        histogram_uniform(values, 0.5, 10, np.zeros(3))


@st.composite
def histogram_cases(draw):
    nbins = draw(st.one_of(st.integers(1, 300), st.sampled_from([1000, 100_000])))
    lo = draw(
        st.one_of(
            st.integers(-1000, 1000),
            st.integers(I32_MIN, I32_MAX),
            st.sampled_from([0, I32_MIN, I32_MAX - 1]),
        )
    )
    width = draw(
        st.one_of(
            st.integers(1, 1000),
            st.integers(1, 2**33),
            st.integers(1, 10**6).map(lambda k: k * nbins),  # integer edges
            st.just(FRAME),
        )
    )
    hi = lo + width
    specials = edge_values(lo, hi, nbins).tolist()
    element = st.one_of(
        st.integers(I32_MIN, I32_MAX),
        st.integers(max(lo - 5, I32_MIN), min(hi + 5, I32_MAX)),
        st.sampled_from(specials),
    )
    values = draw(st.lists(element, max_size=3000))
    return np.array(values, dtype=np.int32), lo, hi, nbins


@settings(max_examples=300, deadline=None)
@given(histogram_cases())
def test_matches_numpy(case):
    check(*case)
