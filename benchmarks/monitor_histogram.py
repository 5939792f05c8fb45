"""Throughput of the beam-monitor time-of-arrival histogram kernel.

Compares ``ess.livedata.processing.kernels.histogram_uniform`` with
``numpy.histogram(values, bins=n, range=r)`` on the same arrays, single
thread, and prints a markdown table (events/s per core, medians over repeats).
A second table times the kernel against the bare-increment loops in the same
run, interleaved: ``counts[k[i]] += 1`` over each event's precomputed bin (int32
counters, no checks: the scatter alone) and ``counts[(t[i] - lo) * bins //
width] += 1`` (the plain loop one would write, no range checks).

    .venv/bin/python benchmarks/monitor_histogram.py          # full run
    .venv/bin/python benchmarks/monitor_histogram.py --quick  # CI smoke

Events are int32 nanoseconds spread over one 71.4 ms ESS frame (14 Hz):
a few Gaussian peaks plus a flat background, in random order, 200 bins over
the frame (plus a time-sorted row, where consecutive events share a bin, and
a 5000-bin row). Each message is histogrammed repeatedly from the same array, so
for the small messages the data is cache-resident, as it is right after
deserialising a message.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

# Single thread: keep any BLAS/OpenMP pools from spinning up extra threads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402

from ess.livedata.processing.kernels import histogram_uniform  # noqa: E402

FRAME_NS = round(1e9 / 14)  # 71_428_571 ns
BINS = 200
# (centre ms, width ms, weight): prompt pulse, two Bragg-ish peaks, a tail.
PEAKS = ((3.0, 0.4, 0.25), (18.0, 2.5, 0.3), (41.0, 4.0, 0.2), (60.0, 6.0, 0.1))
BACKGROUND = 0.15


@numba.njit(nogil=True)
def _noop(values, out):
    return 0, 0


@numba.njit(cache=True, nogil=True, boundscheck=False)
def bare_increments(index: np.ndarray, counts: np.ndarray) -> None:
    """The bare-increment loop: ``counts[index[i]] += 1``, nothing else."""
    for i in range(index.shape[0]):
        counts[index[i]] += 1


@numba.njit(cache=True, nogil=True, boundscheck=False)
def bare_binning(values: np.ndarray, lo: int, width: int, counts: np.ndarray) -> None:
    """Plain binning without checks: ``counts[(v - lo) * bins // width] += 1``."""
    bins = counts.shape[0]
    for i in range(values.shape[0]):
        counts[(np.int64(values[i]) - lo) * bins // width] += 1


def make_toa(n: int, rng: np.random.Generator, outside: float = 0.0) -> np.ndarray:
    """``n`` int32 TOA values in ns; a fraction ``outside`` lies after the frame."""
    weights = np.array([w for *_, w in PEAKS] + [BACKGROUND])
    which = rng.choice(len(weights), size=n, p=weights / weights.sum())
    toa = rng.uniform(0.0, FRAME_NS, size=n)  # background
    for k, (centre, width, _) in enumerate(PEAKS):
        sel = which == k
        toa[sel] = rng.normal(centre * 1e6, width * 1e6, size=int(sel.sum()))
    toa = np.clip(toa, 0, FRAME_NS - 1)
    n_out = round(outside * n)
    if n_out:
        idx = rng.choice(n, size=n_out, replace=False)
        toa[idx] = rng.uniform(FRAME_NS, 1.5 * FRAME_NS, size=n_out)
    return toa.astype(np.int32)


def time_per_call(
    fn: Callable[[], object], min_total: float, min_block: float, min_repeats: int
) -> float:
    """Median seconds per call of ``fn``, over blocks of back-to-back calls.

    Calls are grouped into blocks of ``min_block`` seconds (so the
    perf_counter resolution and loop overhead are negligible); there are at
    least ``min_repeats`` blocks and at least ``min_total`` seconds in all.
    """
    for _ in range(3):  # warm-up (also JIT compile / cache load)
        fn()
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_block:
            break
        calls = max(2 * calls, round(1.2 * calls * min_block / max(dt, 1e-9)))
    repeats = max(min_repeats, int(np.ceil(min_total / dt)))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - t0) / calls)
    return statistics.median(samples)


def interleaved_medians(
    fns: dict[str, Callable[[int], object]], rounds: int, block: int
) -> dict[str, float]:
    """Median CPU seconds per call of each ``fn(i)``, in interleaved rounds.

    Each round calls every function ``block`` times on call numbers
    ``i, i + 1, ...`` (so a function can step through distinct messages), one
    function after the other: load from other processes hits all of them
    alike, and their ratio is steadier than their rates. Time is the
    thread's CPU time, so a block is not charged for the time other
    processes held the core (on a machine with more runnable processes than
    cores, wall-clock blocks of a few ms are mostly preempted ones).
    """
    for fn in fns.values():  # warm-up (also JIT compile / cache load)
        for i in range(3):
            fn(i)
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(rounds):
        for name, fn in fns.items():
            t0 = time.thread_time()
            for i in range(r * block, (r + 1) * block):
                fn(i)
            samples[name].append((time.thread_time() - t0) / block)
    return {name: statistics.median(s) for name, s in samples.items()}


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def fmt_rate(events_per_s: float) -> str:
    if events_per_s >= 1e9:
        return f"{events_per_s / 1e9:.2f} Gev/s"
    return f"{events_per_s / 1e6:.0f} Mev/s"


def bare_table(quick: bool, rng: np.random.Generator) -> None:
    """Kernel against the bare loops, interleaved, on distinct messages."""
    lo, hi = 0, FRAME_NS
    pool = make_toa(1_000_000 if quick else 4_000_000, rng)
    index = (pool.astype(np.int64) * BINS // (hi - lo)).astype(np.int32)
    out = np.zeros(BINS)
    counts = np.zeros(BINS, dtype=np.int32)  # wraps in long runs: timing only
    print(
        f"\nAgainst the bare-increment loops, same run, interleaved, thread CPU time "
        f"(load average {load_average()}); ratios are bare time / kernel time:\n"
    )
    print(
        "| events/message | kernel | bare increments | plain binning "
        "| kernel / bare increments | kernel / plain binning |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size in (1_000, 10_000, 1_000_000):
        messages = max(1, pool.size // size)

        def part(a: np.ndarray, i: int, size: int = size, n: int = messages):
            k = i % n
            return a[k * size : (k + 1) * size]

        t = interleaved_medians(
            {
                "kernel": lambda i: histogram_uniform(part(pool, i), lo, hi, out),
                "bare": lambda i: bare_increments(part(index, i), counts),
                "plain": lambda i: bare_binning(part(pool, i), lo, hi - lo, counts),
            },
            rounds=5 if quick else 21,
            block=max(1, 200_000 // size),
        )
        print(
            f"| {size:,} | {fmt_rate(size / t['kernel'])} "
            f"| {fmt_rate(size / t['bare'])} | {fmt_rate(size / t['plain'])} "
            f"| {t['bare'] / t['kernel']:.2f} | {t['plain'] / t['kernel']:.2f} |"
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
    lo, hi = 0, FRAME_NS
    cases = [  # (label, values, bins)
        ("1k", make_toa(1_000, rng), BINS),
        ("10k", make_toa(10_000, rng), BINS),
        ("1M", make_toa(1_000_000, rng), BINS),
        ("1M, 10% out of range", make_toa(1_000_000, rng, outside=0.1), BINS),
        ("1M, time-sorted", np.sort(make_toa(1_000_000, rng)), BINS),
        ("1M, 5000 bins", make_toa(1_000_000, rng), 5000),
    ]

    print("## histogram_uniform vs numpy.histogram (single thread)\n")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"numba {numba.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} logical CPUs, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(not set)')}"
        + (", --quick" if args.quick else "")
        + "\n"
    )
    print(
        f"{BINS} bins (unless noted) over [{lo}, {hi}) ns; events/s from the "
        f"median per-call time; load average before the run: {load_average()}.\n"
    )
    print("| message | kernel | numpy.histogram | kernel / numpy | kernel per call |")
    print("|---|---:|---:|---:|---:|")
    ok = True
    for label, values, bins in cases:
        out = np.zeros(bins)
        t_kernel = time_per_call(
            lambda v=values, o=out: histogram_uniform(v, lo, hi, o), **timing
        )
        t_numpy = time_per_call(
            lambda v=values, b=bins: np.histogram(v, bins=b, range=(lo, hi)), **timing
        )
        # Sanity: same counts as numpy (numpy's range is inclusive of hi).
        check = np.zeros(bins)
        histogram_uniform(values, lo, hi, check)
        inside = values[(values >= lo) & (values < hi)]
        expected = np.histogram(inside, bins=bins, range=(lo, hi))[0]
        ok &= bool(np.array_equal(check, expected))
        n = values.size
        print(
            f"| {label} | {fmt_rate(n / t_kernel)} | {fmt_rate(n / t_numpy)} "
            f"| {t_numpy / t_kernel:.1f}x | {t_kernel * 1e6:,.1f} us |"
        )

    # Fixed per-call cost: the Python wrapper plus numba's dispatcher (argument
    # type resolution and unboxing), measured on empty and one-event input.
    out = np.zeros(BINS)
    empty = np.empty(0, dtype=np.int32)
    one = np.array([1000], dtype=np.int32)
    t_empty = time_per_call(lambda: histogram_uniform(empty, lo, hi, out), **timing)
    t_one = time_per_call(lambda: histogram_uniform(one, lo, hi, out), **timing)
    t_noop = time_per_call(lambda: _noop(empty, out), **timing)
    t_np = time_per_call(
        lambda: np.histogram(empty, bins=BINS, range=(lo, hi)), **timing
    )
    print()
    print(
        f"Per-call overhead of histogram_uniform: {t_empty * 1e6:.2f} us "
        f"(empty array), {t_one * 1e6:.2f} us (1 event); "
        f"numba dispatch alone (no-op jitted function of the two arrays): "
        f"{t_noop * 1e6:.2f} us. numpy.histogram on an empty array: "
        f"{t_np * 1e6:.2f} us."
    )
    bare_table(args.quick, rng)
    if not ok:
        print("\nERROR: kernel counts differ from numpy.histogram", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
