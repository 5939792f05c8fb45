"""Cost per 1 s window of a live ESS-package reduction at a given rate.

``--instrument loki``: the ``i_of_q/v2`` job (esssans) on the full rear bank
(802,816 pixels, ``rear_bank_file`` with 512 pixels a straw, as the
facility's file), with the incident and transmission monitors.
``--instrument dream``: the ``powder_reduction/v1`` job (essdiffraction) on
the mantle (491,520 pixels at their stand-in positions, flat detector
numbers as the facility's file), with the cave monitor.
``--instrument estia``: the ``reflectometry_reduction/v1`` job
(essreflectometry) on the multiblade detector (98,304 pixels,
``geometry_file``, as the facility's), no monitor.
``--instrument bifrost``: the ``qmap/v1`` job (essspectroscopy) on the
unified detector (13,500 pixels, ``geometry_file`` with the 45 triplets and
their analysers); its normalisation monitor is the file's.

Each window brings ``--rate`` detector events (default: the instrument's
peak rate from its tables, all of it on this one job: the worst case) in 14
ev44 batches (one per pulse), pixel ids uniform over the bank and times of
arrival uniform over the frame, and ``--monitor-rate`` events per monitor.
Per window it times ``accumulate`` and ``finalize`` of the job's workflow
(CPU of the process, all threads, and wall clock; the job itself runs under
``WindowBudget``, which would skip windows it has no time for), after
``--warmup`` windows; figures are medians over ``--windows``. Job creation
is timed once with the lookup table already cached.

    nox -s livedata-instrument-loki -- --co -q   # builds the venv
    .nox/livedata-instrument-loki/bin/python benchmarks/reduction_window.py
    .nox/livedata-instrument-dream/bin/python benchmarks/reduction_window.py \\
        --instrument dream --rate 1e7
    .nox/livedata-instrument-estia/bin/python benchmarks/reduction_window.py \\
        --instrument estia
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ess.livedata.core.geometry_files import OVERRIDE_VARIABLE
from ess.livedata.core.job_commands import parse_params
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import load_instrument
from ess.livedata.reduction.lookup_table_cache import CACHE_DIR_VARIABLE
from ess.livedata.testing.nexus_files import Component, PixelBank, write_nexus_file

PULSES = 14
PULSE_NS = round(1e9 / 14)


@dataclass(frozen=True)
class Case:
    workflow: str
    bank: str
    monitors: tuple[str, ...]
    peak_rate: float

    def write(self, path: Path) -> tuple[int, int]:
        """Write the geometry file; returns the bank's first and last id."""
        if self.bank == "loki_detector_0":
            from ess.livedata.instruments.loki.rear_bank_file import (
                write_rear_bank_file,
            )

            write_rear_bank_file(path)
            return 1, 4 * 56 * 7 * 512
        if self.bank == "multiblade_detector":
            from ess.livedata.instruments.estia.geometry_file import (
                FIRST_ID,
                LAYOUT,
                write_estia_file,
            )

            write_estia_file(path)
            return FIRST_ID, FIRST_ID + int(np.prod(list(LAYOUT.values()))) - 1
        if self.bank == "unified_detector":
            from ess.livedata.instruments.bifrost.geometry_file import (
                write_bifrost_file,
            )

            write_bifrost_file(path)
            return 1, 13_500
        spec = load_instrument("dream").instrument.detector(self.bank).make_geometry
        numbers = np.arange(spec.table.first, spec.table.last + 1, dtype=np.int32)
        positions = spec.stand_in.positions(spec.table)
        write_nexus_file(
            path,
            [PixelBank(self.bank, numbers, positions)],
            monitors=[Component("monitor_cave", (0.0, 0.0, -2.0))],
            source=Component("source", (0.0, 0.0, -76.55)),
        )
        return int(numbers[0]), int(numbers[-1])


CASES = {
    "loki": Case(
        "i_of_q/v2", "loki_detector_0", ("beam_monitor_m1", "beam_monitor_m3"), 1e7
    ),
    "dream": Case("powder_reduction/v1", "mantle_detector", ("monitor_cave",), 7.5e7),
    "estia": Case("reflectometry_reduction/v1", "multiblade_detector", (), 1.4e5),
    "bifrost": Case("qmap/v1", "unified_detector", (), 1e6),
}


def batches(
    events: int, rng: np.random.Generator, ids: tuple[int, int] | None
) -> list[EventBatch]:
    per_pulse = events // PULSES
    start = 1_700_000_000_000_000_000
    return [
        EventBatch(
            reference_time=np.array([start + i * PULSE_NS], dtype=np.int64),
            reference_time_index=np.array([0], dtype=np.int32),
            time_of_arrival=rng.integers(0, PULSE_NS, per_pulse, dtype=np.int32),
            pixel_id=(
                rng.integers(ids[0], ids[1] + 1, per_pulse, dtype=np.int32)
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
    parser.add_argument("--instrument", choices=sorted(CASES), default="loki")
    parser.add_argument("--rate", type=float, help="default: the peak rate")
    parser.add_argument("--monitor-rate", type=float, default=1e5)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--tables", type=Path, help="lookup table cache directory")
    args = parser.parse_args()
    case = CASES[args.instrument]
    rate = int(args.rate or case.peak_rate)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"{args.instrument}.nxs"
        ids = case.write(path)
        os.environ[OVERRIDE_VARIABLE] = str(path)
        os.environ[CACHE_DIR_VARIABLE] = str(args.tables or Path(directory))
        loaded = load_instrument(args.instrument)
        spec = loaded.workflow_specs[case.workflow]
        factory = loaded.workflow_factories()[case.workflow]
        bank = StreamId(StreamKind.DETECTOR_EVENTS, case.bank)
        build = lambda: factory(parse_params(spec, {}), (bank,))  # noqa: E731
        first_wall, first_cpu = timed(lambda: build().wait())  # computes the table
        build_wall, build_cpu = timed(lambda: build().wait())
        job = build().wait().workflow  # timed alone: the budget would skip windows
        rng = np.random.default_rng(0)
        rows = []
        for window in range(args.warmup + args.windows):
            data = {bank: batches(rate, rng, ids)} | {
                StreamId(StreamKind.MONITOR_EVENTS, name): batches(
                    int(args.monitor_rate), rng, None
                )
                for name in case.monitors
            }
            accumulate = timed(lambda data=data: job.accumulate(data))
            finalize = timed(job.finalize)
            if window >= args.warmup:
                rows.append((*accumulate, *finalize))
    med = [statistics.median(column) for column in zip(*rows, strict=True)]
    print(f"{args.instrument} {case.workflow} on {case.bank}")
    print(
        f"first job creation (computes the table unless --tables holds it): "
        f"wall {first_wall:.2f} s, cpu {first_cpu:.2f} s"
    )
    print(
        f"job creation (table cached): wall {build_wall:.2f} s, cpu {build_cpu:.2f} s"
    )
    print(f"{rate:.1e} detector ev/window, {args.monitor_rate:.0e} per monitor")
    print(f"accumulate: wall {med[0]:.3f} s, cpu {med[1]:.3f} s")
    print(f"finalize:   wall {med[2]:.3f} s, cpu {med[3]:.3f} s")
    total = med[0] + med[2]
    print(f"per window: wall {total:.3f} s of a 1 s budget ({total:.0%})")


if __name__ == "__main__":
    main()
