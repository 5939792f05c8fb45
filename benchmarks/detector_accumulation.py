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
from monitor_histogram import FRAME_NS, fmt_rate, make_toa, time_per_call

from ess.livedata.core.detector_commands import Rectangle, SetRoi
from ess.livedata.core.fake_shapes import BeamSpot, Ring
from ess.livedata.core.instrument import DetectorBank, GeometricView, ProjectionKind
from ess.livedata.fake.detectors import pixel_probabilities
from ess.livedata.instruments.dummy.geometry import flat_panel
from ess.livedata.processing.kernels import PixelCounts, accumulate_pixels
from ess.livedata.processing.projection import ProjectedImage
from ess.livedata.processing.roi import RoiSpectra

TOA_BINS = 100
PIXELS = (100_000, 1_000_000, 2_000_000, 10_000_000)
MESSAGES = (10_000, 1_000_000)
ROIS = 4


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
    print("## accumulate_pixels vs numpy.bincount (single thread)\n")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"numba {numba.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} logical CPUs, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(not set)')}"
        + (", --quick" if args.quick else "")
        + "\n"
    )
    ok = accumulation_table(timing, rng)
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
