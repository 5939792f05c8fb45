"""Throughput of per-pixel detector accumulation, and the cost of a projection.

Times ``ess.livedata.processing.kernels.accumulate_pixels`` (what
``detector_data`` runs per ev44 message: pixel-id check, TOA range check,
per-pixel count and TOA spectrum) against ``numpy.bincount(pixel_id,
minlength=n)`` on the same message, single thread, and prints markdown
tables (events/s per core, medians of repeats). For scale, it also times a
bare numba ``counts[p] += 1`` loop (no checks, no TOA) with int32 and uint8
counters: what random increments alone cost on this machine. It then times
the per-publish costs: taking 10M pixel counts out of the kernel's
counters, and projecting 1M pixels onto a 512 x 512 screen.

    .venv/bin/python benchmarks/detector_accumulation.py          # full run
    .venv/bin/python benchmarks/detector_accumulation.py --quick  # CI smoke

Pixel ids are uniformly random over the bank (the cache-unfriendly worst
case), contiguous detector numbers, no ROIs unless noted, times of arrival as
in ``monitor_histogram.py``, 100 TOA bins. A second table draws pixel ids as
``fake_detectors`` does (beam spot and a ring on a 20% flat background) on a
square panel.

The first table is on the instruments' real bank sizes (DREAM, LOKI, BIFROST;
fake detector-number ranges) and times the kernel against the bare-increment
loop in the same run, interleaved, on distinct messages, with per-instrument
accumulation capacity after it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from functools import partial

# Shared with the monitor benchmark (run as a script, its folder is on the path).
import numba
import numpy as np
from monitor_histogram import (
    FRAME_NS,
    fmt_rate,
    interleaved_medians,
    load_average,
    make_toa,
    time_per_call,
)

from ess.livedata.core.detector_commands import Rectangle, SetRoi
from ess.livedata.core.fake_shapes import BeamSpot, Ring
from ess.livedata.core.instrument import DetectorBank, GeometricView, ProjectionKind
from ess.livedata.fake.detectors import pixel_probabilities
from ess.livedata.instruments.dummy.geometry import flat_panel
from ess.livedata.processing.kernels import PixelCounts, accumulate_pixels
from ess.livedata.processing.pixel_index import PixelIndex
from ess.livedata.processing.projection import ProjectedImage
from ess.livedata.processing.roi import RoiSpectra

TOA_BINS = 100
PIXELS = (100_000, 1_000_000, 2_000_000, 10_000_000)
MESSAGES = (10_000, 1_000_000)
ROIS = 4
# (instrument, bank, first detector number, numbers in the fake range, pixels)
# from ../shared/facts/instruments/{dream,loki,bifrost}.yaml. Fake ranges stand
# in where the real numbers come from the geometry file; a bank's numbers are
# contiguous from the first. DREAM's endcap_backward range is 63 numbers longer
# than the bank, so those events are unknown pixel ids.
BANKS = (
    ("DREAM", "mantle", 229377, 491520, 491520),
    ("DREAM", "endcap_backward", 71618, 157759, 157696),
    ("DREAM", "endcap_forward", 1, 71680, 71680),
    ("DREAM", "high_resolution", 1122337, 401344, 401344),
    ("DREAM", "sans", 720929, 401344, 401344),
    ("LOKI", "loki_detector_0", 1, 802816, 802816),
    ("LOKI", "loki_detector_1", 802817, 229376, 229376),
    ("LOKI", "loki_detector_2", 1032193, 172032, 172032),
    ("LOKI", "loki_detector_3", 1204225, 229376, 229376),
    ("LOKI", "loki_detector_4", 1433601, 172032, 172032),
    ("LOKI", "loki_detector_5", 1605633, 401408, 401408),
    ("LOKI", "loki_detector_6", 2007041, 458752, 458752),
    ("LOKI", "loki_detector_7", 2465793, 286720, 286720),
    ("LOKI", "loki_detector_8", 2752513, 458752, 458752),
    ("BIFROST", "unified_detector", 1, 13500, 13500),
)
BANK_MESSAGES = (1_000, 10_000, 1_000_000)


NO_ROIS = RoiSpectra(pixel_count=1, bins=TOA_BINS)


def accumulate(
    pixel_id: np.ndarray,
    toa: np.ndarray,
    counts: PixelCounts,
    rois: RoiSpectra = NO_ROIS,
) -> None:
    accumulate_pixels(
        pixel_id,
        toa,
        offset=0,
        lookup=None,
        toa_range=(0, FRAME_NS),
        counts=counts,
        roi_group=rois.group,
        roi_group_toa_counts=rois.group_toa_counts,
    )


@numba.njit(cache=True, nogil=True, boundscheck=False)
def bare_increments(pixel_id: np.ndarray, counts: np.ndarray) -> None:
    """The hardware's share: random increments, nothing else."""
    for i in range(pixel_id.shape[0]):
        counts[pixel_id[i]] += 1


def bank_rates(
    index: PixelIndex, first: int, span: int, quick: bool, rng: np.random.Generator
) -> tuple[dict[int, dict[str, float]], bool]:
    """Seconds per message of kernel and bare loops, by message size; exact?

    Pixel ids are uniform over the fake range (as ``fake_detectors`` draws
    them), drawn once into a pool of 1M events that successive calls step
    through, so a small message does not find the counters of the previous
    call in cache; the pool (12 MB with the bare loop's copy) stays in L3, as
    a message just received would. The bare loop gets ids minus ``first``
    (counters for the whole range).
    """
    pool = 1_000_000
    pixel_id = rng.integers(first, first + span, pool, dtype=np.int32)
    toa = make_toa(pool, rng)
    zero_based = pixel_id - np.int32(first)
    pixels = PixelCounts(index.pixel_count, TOA_BINS)
    counts32 = np.zeros(span, dtype=np.int32)  # bare loops: may wrap, timing only
    counts8 = np.zeros(span, dtype=np.uint8)

    def kernel(a: np.ndarray, b: np.ndarray) -> None:
        accumulate_pixels(
            a,
            b,
            offset=index.offset,
            lookup=index.lookup,
            toa_range=(0, FRAME_NS),
            counts=pixels,
            roi_group=NO_ROIS.group,
            roi_group_toa_counts=NO_ROIS.group_toa_counts,
        )

    times = {}
    for size in BANK_MESSAGES:
        n = pool // size

        def part(a: np.ndarray, i: int, size: int = size, n: int = n) -> np.ndarray:
            k = i % n
            return a[k * size : (k + 1) * size]

        times[size] = interleaved_medians(
            {
                "kernel": lambda i: kernel(part(pixel_id, i), part(toa, i)),
                "int32": lambda i: bare_increments(part(zero_based, i), counts32),
                "uint8": lambda i: bare_increments(part(zero_based, i), counts8),
            },
            rounds=5 if quick else 21,
            block=max(1, 1_000_000 // size),
        )
    # Exact: one pass over the pool into fresh counters against bincount.
    pixels = PixelCounts(index.pixel_count, TOA_BINS)
    for start in range(0, pool, 10_000):
        kernel(pixel_id[start : start + 10_000], toa[start : start + 10_000])
    counts = np.zeros(index.pixel_count, dtype=np.int64)
    pixels.take(counts, np.zeros(TOA_BINS, dtype=np.int64))
    numbers = np.arange(first, first + index.pixel_count)
    if index.lookup is not None:
        numbers = numbers[np.argsort(index.lookup[numbers - index.offset])]
    expected = np.bincount(zero_based, minlength=span)[numbers - first]
    return times, bool(np.array_equal(counts, expected))


def bank_table(quick: bool, rng: np.random.Generator) -> bool:
    print(
        "### accumulate_pixels against the bare-increment loop, real bank sizes\n\n"
        "Same run, interleaved, medians of thread CPU time; ratio = bare time / kernel time "
        f"(load average before: {load_average()}).\n"
    )
    print(
        "| instrument | bank | pixels | events/message | accumulate_pixels "
        "| bare int32 | bare uint8 | kernel / bare int32 | kernel / bare uint8 |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    ok = True
    per_instrument: dict[str, dict[int, list[float]]] = {}
    mantle = [b for b in BANKS if b[1] == "mantle"]
    lookup_row = [("DREAM", "mantle (lookup table)", *mantle[0][2:])]
    for instrument, bank, first, span, pixels in (*BANKS, *lookup_row):
        numbers = np.arange(first, first + pixels)
        if "lookup" in bank:  # same numbers, shuffled: the lookup-table path
            numbers = rng.permutation(numbers)
        index = PixelIndex.from_detector_numbers(numbers)
        times, exact = bank_rates(index, first, span, quick, rng)
        ok &= exact
        for size, t in times.items():
            if "lookup" not in bank:
                per_instrument.setdefault(instrument, {}).setdefault(size, [])
                per_instrument[instrument][size].append(t["kernel"])
            print(
                f"| {instrument} | {bank} | {pixels:,} | {size:,} "
                f"| {fmt_rate(size / t['kernel'])} | {fmt_rate(size / t['int32'])} "
                f"| {fmt_rate(size / t['uint8'])} | {t['int32'] / t['kernel']:.2f} "
                f"| {t['uint8'] / t['kernel']:.2f} |"
            )
    print(
        "\nAccumulation capacity per core (accumulate_pixels only; every bank "
        "gets messages of the same size in turn, as the fake producers send):\n"
    )
    print(
        "| instrument | banks | "
        + " | ".join(f"{s:,} events/message" for s in BANK_MESSAGES)
        + " |"
    )
    print("|---|---:|" + "---:|" * len(BANK_MESSAGES))
    for instrument, by_size in per_instrument.items():
        rates = [
            fmt_rate(len(t) * size / sum(t)) for size, t in sorted(by_size.items())
        ]
        banks = len(by_size[BANK_MESSAGES[0]])
        print(f"| {instrument} | {banks} | " + " | ".join(rates) + " |")
    print(f"\nLoad average after: {load_average()}.\n")
    return ok


def check(pixel_id: np.ndarray, toa: np.ndarray, n: int) -> bool:
    """Exact after many calls (counters wrap into the spill array)."""
    pixels = PixelCounts(n, TOA_BINS)
    repeats = 300
    for _ in range(repeats):
        accumulate(pixel_id, toa, pixels)
    counts = np.zeros(n, dtype=np.int64)
    pixels.take(counts, np.zeros(TOA_BINS, dtype=np.int64))
    return bool(np.array_equal(counts, repeats * np.bincount(pixel_id, minlength=n)))


def rate_row(
    label: str, n: int, pixel_id: np.ndarray, toa: np.ndarray, timing: dict
) -> bool:
    """One table row: kernel, bincount, their ratio, bare increments."""
    size = pixel_id.size
    pixels = PixelCounts(n, TOA_BINS)
    counts32 = np.zeros(n, dtype=np.int32)
    counts8 = np.zeros(n, dtype=np.uint8)  # wraps: timing only
    t = time_per_call(lambda: accumulate(pixel_id, toa, pixels), **timing)
    tnp = time_per_call(lambda: np.bincount(pixel_id, minlength=n), **timing)
    t32 = time_per_call(lambda: bare_increments(pixel_id, counts32), **timing)
    t8 = time_per_call(lambda: bare_increments(pixel_id, counts8), **timing)
    print(
        f"| {label} | {n:,} | {size:,} | {fmt_rate(size / t)} | {fmt_rate(size / tnp)} "
        f"| {tnp / t:.1f}x | {fmt_rate(size / t32)} | {fmt_rate(size / t8)} |"
    )
    return check(pixel_id, toa, n)


TABLE_HEADER = (
    "| pixel ids | pixels | events/message | accumulate_pixels | numpy.bincount "
    "| kernel / bincount | bare increments, int32 | bare increments, uint8 |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|"
)


def accumulation_table(timing: dict, rng: np.random.Generator) -> bool:
    print(TABLE_HEADER)
    ok = True
    for n in PIXELS:
        for size in MESSAGES:
            pixel_id = rng.integers(0, n, size, dtype=np.int32)
            ok &= rate_row("uniform", n, pixel_id, make_toa(size, rng), timing)
    return ok


def beam_pattern(n: int) -> np.ndarray:
    """Pixel probabilities of a square panel 5 m from the sample, 1 m wide.

    Beam spot (0.02 rad) and a ring at 0.06 rad (0.005 rad wide) on a 20%
    flat background, drawn as ``fake_detectors`` does.
    """
    side = round(np.sqrt(n))
    x = (np.arange(n) % side) / side - 0.5
    y = (np.arange(n) // side) / side - 0.5
    two_theta = np.arctan2(np.hypot(x, y), 5.0)
    pattern = (BeamSpot(width_rad=0.02), Ring(0.06, 0.005, 0.7))
    return pixel_probabilities(two_theta, pattern, background=0.2)


def pattern_table(timing: dict, rng: np.random.Generator) -> bool:
    print("\n" + TABLE_HEADER)
    ok = True
    for n in PIXELS[1:]:
        cdf = np.cumsum(beam_pattern(n))
        cdf /= cdf[-1]
        size = MESSAGES[-1]
        pixel_id = np.searchsorted(cdf, rng.random(size), side="right")
        pixel_id = np.minimum(pixel_id, n - 1).astype(np.int32)
        ok &= rate_row("spot + ring", n, pixel_id, make_toa(size, rng), timing)
    return ok


def take_row(timing: dict, rng: np.random.Generator) -> None:
    n = PIXELS[-1]
    pixels = PixelCounts(n, TOA_BINS)
    counts = np.zeros(n, dtype=np.int64)
    toa_counts = np.zeros(TOA_BINS, dtype=np.int64)
    t = time_per_call(lambda: pixels.take(counts, toa_counts), **timing)
    hot = np.zeros(300, np.int32)  # pixel 0 wraps its counter

    def wrap_and_take() -> None:
        accumulate(hot, hot, pixels)
        pixels.take(counts, toa_counts)

    spilled = time_per_call(wrap_and_take, **timing)
    print(
        f"\nPublish: taking {n:,} pixel counts into int64: {t * 1e3:.1f} ms "
        f"({spilled * 1e3:.1f} ms when a counter wrapped in the window)."
    )


def roi_row(timing: dict, rng: np.random.Generator) -> None:
    n, size = 1_000_000, 1_000_000
    rois = RoiSpectra(pixel_count=n, bins=TOA_BINS)
    quarter = n // 4
    index = np.arange(n)
    for roi in range(ROIS):  # overlapping bands, 25% of pixels each
        shape = Rectangle(x_min=0, x_max=1, y_min=0, y_max=1)  # unused here
        definition = SetRoi(target="bench", view="xy", roi=roi, shape=shape)
        first = roi * quarter // 2
        rois.set(definition, (index >= first) & (index < first + quarter))
    counts = PixelCounts(n, TOA_BINS)
    pixel_id = rng.integers(0, n, size, dtype=np.int32)
    toa = make_toa(size, rng)
    plain = time_per_call(lambda: accumulate(pixel_id, toa, counts), **timing)
    with_rois = time_per_call(lambda: accumulate(pixel_id, toa, counts, rois), **timing)
    print(
        f"\nWith {ROIS} overlapping ROIs (25% of pixels each) on {n:,} pixels, "
        f"{size:,}-event messages: {fmt_rate(size / with_rois)} "
        f"(without ROIs in the same run: {fmt_rate(size / plain)})."
    )


def projection_table(timing: dict, rng: np.random.Generator) -> None:
    print(
        "\n| 1M pixels -> 512 x 512 | noise replicas | entries/pixel | set-up "
        "| publish (image of dense counts) |"
    )
    print("|---|---:|---:|---:|---:|")
    make_geometry = partial(
        flat_panel, first_id=0, nx=1000, ny=1000, pixel_size=0.001, distance=5.0
    )
    bank = DetectorBank("bench", "bench", make_geometry)
    counts = rng.poisson(5.0, bank.pixel_count).astype(np.int64)
    for noise in (0.0, 0.0005):
        view = GeometricView(
            "xy", ProjectionKind.XY_PLANE, resolution=(512, 512), pixel_noise=noise
        )
        started = time.perf_counter()
        image = ProjectedImage(bank, view, (0.0, 0.0, 0.0))
        setup = time.perf_counter() - started
        entries = image._bins.size / bank.pixel_count
        t = time_per_call(lambda i=image: i.image(counts), **timing)
        label = f"pixel_noise {noise * 1000:g} mm" if noise else "no noise"
        print(
            f"| {label} | {image._replicas} | {entries:.2f} | {setup:.2f} s "
            f"| {t * 1e3:.2f} ms |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="few repeats, for a CI smoke test"
    )
    args = parser.parse_args(argv)
    if args.quick:
        timing = {"min_total": 0.02, "min_block": 0.002, "min_repeats": 3}
    else:
        timing = {"min_total": 0.3, "min_block": 0.01, "min_repeats": 15}
    rng = np.random.default_rng(20261124)
    print("## Detector accumulation (single thread)\n")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"numba {numba.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} logical CPUs, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(not set)')}"
        + (", --quick" if args.quick else "")
        + "\n"
    )
    ok = bank_table(args.quick, rng)
    print("### accumulate_pixels vs numpy.bincount\n")
    ok &= accumulation_table(timing, rng)
    ok &= pattern_table(timing, rng)
    roi_row(timing, rng)
    take_row(timing, rng)
    projection_table(timing, rng)
    if not ok:
        print("\nERROR: kernel counts differ from numpy.bincount", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
