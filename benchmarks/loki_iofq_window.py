"""Cost per 1 s window of LOKI's live esssans I(Q) at the nominal rate.

A job on the full rear bank (802,816 pixels; ``rear_bank_file`` written with
512 pixels a straw, as the facility's file) gets, each window, ``--rate``
detector events (default 1e7: LOKI's nominal rate, all of it on this one
job, the worst case) in 14 ev44 batches (one per pulse), pixel ids uniform
over the bank and times of arrival uniform over the frame, plus
``--monitor-rate`` events for each of the two monitors. Per window it times
``accumulate`` and ``finalize`` of the job's workflow (CPU of the process,
all threads, and wall clock), after ``--warmup`` windows; figures are
medians over ``--windows``. (The job itself runs under ``WindowBudget``,
which would skip the windows it has no time for.)
Job creation is timed once with the lookup table already cached on disk.

    nox -s livedata-instrument-loki -R -- --co -q   # builds the venv
    .nox/livedata-instrument-loki/bin/python benchmarks/loki_iofq_window.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ess.livedata.core.geometry_files import OVERRIDE_VARIABLE
from ess.livedata.core.job_commands import parse_params
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import load_instrument
from ess.livedata.instruments.loki.rear_bank_file import write_rear_bank_file
from ess.livedata.instruments.loki.workflows import (
    INCIDENT_MONITOR,
    TRANSMISSION_MONITOR,
)
from ess.livedata.reduction.lookup_table_cache import CACHE_DIR_VARIABLE

REAR = StreamId(StreamKind.DETECTOR_EVENTS, "loki_detector_0")
PIXELS = 4 * 56 * 7 * 512
PULSES = 14
PULSE_NS = round(1e9 / 14)


def batches(events: int, rng: np.random.Generator, ids: bool) -> list[EventBatch]:
    per_pulse = events // PULSES
    start = 1_700_000_000_000_000_000
    return [
        EventBatch(
            reference_time=np.array([start + i * PULSE_NS], dtype=np.int64),
            reference_time_index=np.array([0], dtype=np.int32),
            time_of_arrival=rng.integers(0, PULSE_NS, per_pulse, dtype=np.int32),
            pixel_id=(
                rng.integers(1, PIXELS + 1, per_pulse, dtype=np.int32)
                if ids
                else np.empty(0, dtype=np.int32)
            ),
        )
        for i in range(PULSES)
    ]


def timed(call) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1e7)
    parser.add_argument("--monitor-rate", type=float, default=1e5)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--tables", type=Path, help="lookup table cache directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = write_rear_bank_file(Path(directory) / "loki.nxs")
        os.environ[OVERRIDE_VARIABLE] = str(path)
        os.environ[CACHE_DIR_VARIABLE] = str(args.tables or Path(directory))
        loki = load_instrument("loki")
        spec = loki.workflow_specs["i_of_q/v2"]
        factory = loki.workflow_factories()["i_of_q/v2"]
        build = lambda: factory(parse_params(spec, {}), (REAR,))  # noqa: E731
        build()  # computes or loads the lookup table
        build_wall, build_cpu = timed(build)
        budgeted = build()
        job = budgeted.workflow  # timed alone: the budget would skip windows
        rng = np.random.default_rng(0)
        rows = []
        for window in range(args.warmup + args.windows):
            data = {
                REAR: batches(int(args.rate), rng, ids=True),
                INCIDENT_MONITOR: batches(int(args.monitor_rate), rng, ids=False),
                TRANSMISSION_MONITOR: batches(int(args.monitor_rate), rng, ids=False),
            }
            accumulate = timed(lambda data=data: job.accumulate(data))
            finalize = timed(job.finalize)
            if window >= args.warmup:
                rows.append((*accumulate, *finalize))
    med = [statistics.median(column) for column in zip(*rows, strict=True)]
    print(
        f"job creation (table on disk): wall {build_wall:.2f} s, cpu {build_cpu:.2f} s"
    )
    print(f"{args.rate:.0e} detector ev/window, {args.monitor_rate:.0e} per monitor")
    print(f"accumulate: wall {med[0]:.3f} s, cpu {med[1]:.3f} s")
    print(f"finalize:   wall {med[2]:.3f} s, cpu {med[3]:.3f} s")
    total = med[0] + med[2]
    print(f"per window: wall {total:.3f} s of a 1 s budget ({total:.0%})")


if __name__ == "__main__":
    main()
