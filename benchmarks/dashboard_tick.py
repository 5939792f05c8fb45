"""CPU of one session's redraw when new results arrive, per figure cell.

Builds one monitors page in process (no browser, no broker) on the dummy
instrument's Monitors grid, attaches it to a Bokeh document as a session
would, then repeatedly stores a new window of every monitor output and runs
the session's results-only tick. Each figure cell then re-renders through
its HoloViews ``DynamicMap``; the median tick divided by the figure cells is
what each cell of each open session costs per new window.

    python benchmarks/dashboard_tick.py --ticks 30
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import scipp as sc
from bokeh.document import Document

from ess.livedata.core.plugins import load_instrument
from ess.livedata.dashboard import monitors
from ess.livedata.dashboard.backend import Backend
from ess.livedata.dashboard.commands import CommandSender
from ess.livedata.dashboard.control import JobControl
from ess.livedata.dashboard.grid_model import Plotter, templates
from ess.livedata.dashboard.grid_store import GridStore
from ess.livedata.dashboard.store import LiveStore
from ess.livedata.protocol import MonitorOutputs
from ess.livedata.testing.messages import job_beat, job_id, key

BINS = 100


def window(total: float, end_s: float, rng: np.random.Generator) -> sc.DataArray:
    """A monitor spectrum of one 1 s window ending at ``end_s``."""
    dim = "time_of_arrival"
    return sc.DataArray(
        sc.array(dims=[dim], values=rng.random(BINS) * total, unit="counts"),
        coords={
            dim: sc.linspace(dim, 0.0, 71.0, BINS + 1, unit="ms"),
            "start_time": sc.datetime(int((end_s - 1) * 1e9), unit="ns"),
            "end_time": sc.datetime(int(end_s * 1e9), unit="ns"),
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=30)
    args = parser.parse_args()

    now = [time.time()]
    store = LiveStore(clock=lambda: now[0])
    loaded = load_instrument("dummy")
    grids = GridStore(
        Path(tempfile.mkdtemp()) / "state", loaded.name, templates(loaded)
    )
    # Nothing is sent: the page is only redrawn, so no producer is needed.
    sender = CommandSender(None, loaded.name, store)  # type: ignore[arg-type]
    control = JobControl(store.jobs, sender, grids.remember_job)
    backend = Backend(loaded, store, sender, control, None, None, "-", grids)  # type: ignore[arg-type]
    monitor_names = [m.name for m in loaded.instrument.monitors]
    for monitor in monitor_names:
        store.put_job(job_beat(job_id(monitor)), now[0])
    rng = np.random.default_rng(0)

    def new_window() -> None:
        now[0] += 1.0
        for monitor in monitor_names:
            for output in (MonitorOutputs.CURRENT, MonitorOutputs.CUMULATIVE):
                data = window(1e4, now[0], rng)
                store.put_result(key(job_id(monitor), output.name), 0, data)
            total = sc.DataArray(
                sc.scalar(1e4, unit="counts"),
                coords={"end_time": sc.datetime(int(now[0] * 1e9), unit="ns")},
            )
            store.put_result(key(job_id(monitor), "counts_total"), 0, total)

    new_window()
    page = monitors.build_page(backend)
    page.view.get_root(Document())  # renders as a session's document would
    page.tick(now[0])
    for _ in range(3):  # first frames build the figures
        new_window()
        page.tick(now[0], results_only=True)
    seconds = []
    for _ in range(args.ticks):
        new_window()
        started = time.process_time()
        page.tick(now[0], results_only=True)
        seconds.append(time.process_time() - started)
    grid = grids.grid("Monitors")
    figures = sum(
        1
        for cell in grid.cells
        if cell.plotter not in (Plotter.TABLE, Plotter.CORRELATION)
    )
    tick = statistics.median(seconds)
    print(f"Monitors grid: {len(grid.cells)} cells, {figures} figure cells")
    print(
        f"results tick, every output new: median {tick * 1e3:.1f} ms CPU over"
        f" {args.ticks} ticks, {tick / figures * 1e3:.1f} ms per figure cell"
    )


if __name__ == "__main__":
    main()
