"""Throughput of per-pixel detector accumulation, and the cost of a projection.

Times ``ess.livedata.processing.kernels.accumulate_pixels`` (what
``detector_data`` runs per ev44 message: pixel-id check, TOA range check,
per-pixel count and TOA spectrum in one pass) with int32 counters (as the
service uses for the current window) and int64 counters, against
``numpy.bincount(pixel_id, minlength=n)`` on the same message, single
thread, and prints markdown tables (events/s per core, medians of repeats).
It then times projecting 1M pixels onto a 512 x 512 screen, as done once per
publish for each geometric view.

    .venv/bin/python benchmarks/detector_accumulation.py          # full run
    .venv/bin/python benchmarks/detector_accumulation.py --quick  # CI smoke

Pixel ids are uniformly random over the bank (the cache-unfriendly case; real
patterns have hot spots and do better), contiguous detector numbers, no ROIs
unless noted, times of arrival as in ``monitor_histogram.py``, 100 TOA bins.
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
from ess.livedata.core.instrument import DetectorBank, GeometricView, ProjectionKind
from ess.livedata.instruments.dummy.geometry import flat_panel
from ess.livedata.processing.kernels import accumulate_pixels
from ess.livedata.processing.projection import ProjectedImage
from ess.livedata.processing.roi import RoiSpectra

TOA_BINS = 100
PIXELS = (100_000, 1_000_000, 2_000_000, 10_000_000)
MESSAGES = (10_000, 1_000_000)
ROIS = 4


TOA_COUNTS = np.zeros(TOA_BINS, dtype=np.int64)
NO_ROIS = RoiSpectra(pixel_count=1, bins=TOA_BINS)


def accumulate(
    pixel_id: np.ndarray,
    toa: np.ndarray,
    counts: np.ndarray,
    rois: RoiSpectra = NO_ROIS,
) -> None:
    accumulate_pixels(
        pixel_id,
        toa,
        offset=0,
        lookup=None,
        toa_range=(0, FRAME_NS),
        counts=counts,
        toa_counts=TOA_COUNTS,
        roi_group=rois.group,
        roi_group_toa_counts=rois.group_toa_counts,
    )


def check(pixel_id: np.ndarray, toa: np.ndarray, n: int) -> bool:
    counts = np.zeros(n, dtype=np.int32)
    accumulate(pixel_id, toa, counts)
    return bool(np.array_equal(counts, np.bincount(pixel_id, minlength=n)))


def accumulation_table(timing: dict, rng: np.random.Generator) -> bool:
    print(
        "| pixels | events/message | kernel, int32 counts | kernel, int64 counts "
        "| numpy.bincount | int32 kernel / bincount |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    ok = True
    for n in PIXELS:
        counts32 = np.zeros(n, dtype=np.int32)
        counts64 = np.zeros(n, dtype=np.int64)
        for size in MESSAGES:
            pixel_id = rng.integers(0, n, size, dtype=np.int32)
            toa = make_toa(size, rng)
            ok &= check(pixel_id, toa, n)
            t32 = time_per_call(
                lambda p=pixel_id, t=toa, c=counts32: accumulate(p, t, c), **timing
            )
            t64 = time_per_call(
                lambda p=pixel_id, t=toa, c=counts64: accumulate(p, t, c), **timing
            )
            tnp = time_per_call(
                lambda p=pixel_id, m=n: np.bincount(p, minlength=m), **timing
            )
            print(
                f"| {n:,} | {size:,} | {fmt_rate(size / t32)} | {fmt_rate(size / t64)} "
                f"| {fmt_rate(size / tnp)} | {tnp / t32:.1f}x |"
            )
            counts32[:] = 0  # repeated calls must not overflow int32
    return ok


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
    counts = np.zeros(n, dtype=np.int32)
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
    roi_row(timing, rng)
    projection_table(timing, rng)
    if not ok:
        print("\nERROR: kernel counts differ from numpy.bincount", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
