"""Load of a running dashboard with many browser sessions open at once.

Opens ``--sessions`` headless Chromium pages on a dashboard that is already
running (e.g. ``python -m ess.livedata.dashboard.monitors --instrument dummy``
next to ``monitor_data`` and ``fake_monitors``), keeps them open for
``--duration`` seconds and reports, as a markdown table, for the dashboard
process (found by the port it listens on, or ``--pid``):

- resident memory and CPU before the sessions and while they are open,
- the Kafka consumers of that process on the broker (consumer groups with
  a member whose client id ends in one of its pids). The design is one
  consumer per dashboard process whatever the number of sessions, so this
  must not grow with ``--sessions``;
- with ``--state-dir`` (the dashboard's ``LIVEDATA_DASHBOARD_STATE_DIR``),
  first a ``--cells``-cell version of grid ``--grid`` is stored there: the
  template's cells, then variants of its figure cells (last 10 s, rate, log
  y) until there are enough. Every open session follows the stored grid;
- the data age seen in the browsers: each cell's caption carries the end
  of the shown data window (``data-end-time``, epoch seconds), and every
  page is sampled for ``Date.now()`` minus that, per cell, over the last
  part of ``--duration``. Browser, dashboard and the fakes' data clock are
  the same host's clock. "at change" ages are the samples where a cell
  first shows a new window: the latency from window end to screen.
- the same age of each result as it arrives at a plain consumer of the
  results topic (before the sessions open): the services' and the broker's
  share of the data age, without the dashboard's.

    python benchmarks/dashboard_load.py --url http://127.0.0.1:5007/ \\
        --bootstrap localhost:9092 --sessions 10 --duration 30 \\
        --state-dir "$LIVEDATA_DASHBOARD_STATE_DIR" --cells 12

Chromium is Debian's ``/usr/bin/chromium``
(``scripts/apt_install.sh /usr/bin/chromium chromium chromium-driver`` installs it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import psutil
from confluent_kafka.admin import AdminClient
from playwright.sync_api import Page, sync_playwright

from ess.livedata.core.plugins import load_instrument
from ess.livedata.dashboard.grid_model import (
    Cell,
    Grid,
    Plotter,
    Scale,
    Window,
    templates,
)
from ess.livedata.dashboard.grid_store import GridStore
from ess.livedata.dashboard.plots import end_time_s
from ess.livedata.testing.readers import LivedataReader

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]


@dataclass(frozen=True)
class Usage:
    rss_mib: float
    cpu_percent: float


def dashboard_process(port: int) -> psutil.Process:
    """The process listening on ``port`` (needs permission to see its sockets)."""
    for connection in psutil.net_connections(kind="tcp"):
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr.port == port
            and connection.pid
        ):
            return psutil.Process(connection.pid)
    raise SystemExit(f"error: no process listens on port {port}; pass --pid")


def _tree(process: psutil.Process) -> list[psutil.Process]:
    """The process and its children: a gunicorn master and its worker."""
    return [process, *process.children(recursive=True)]


def sample(process: psutil.Process, seconds: float) -> Usage:
    """Mean RSS and CPU of ``process`` and its children over ``seconds``."""
    tree = _tree(process)
    for member in tree:
        member.cpu_percent(None)
    rss, cpu = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(1.0)
        rss.append(sum(p.memory_info().rss for p in tree) / 2**20)
        cpu.append(sum(p.cpu_percent(None) for p in tree))
    return Usage(statistics.mean(rss), statistics.mean(cpu))


def dashboard_consumers(bootstrap: str, pids: set[int]) -> tuple[int, int]:
    """Consumer groups with members from the dashboard's processes, and members.

    The dashboard names its consumer ``livedata-dashboard-<host>-<pid>``.
    """
    admin = AdminClient({"bootstrap.servers": bootstrap})
    listing = admin.list_consumer_groups(request_timeout=10).result()
    groups = [g.group_id for g in listing.valid]
    if not groups:
        return 0, 0
    described = admin.describe_consumer_groups(groups, request_timeout=10)
    suffixes = tuple(f"-{pid}" for pid in pids)
    ours = [
        [m for m in future.result().members if m.client_id.endswith(suffixes)]
        for future in described.values()
    ]
    return sum(1 for members in ours if members), sum(len(m) for m in ours)


VARIANTS = (
    ("last 10 s", {"window": Window.LAST, "window_s": 10.0}),
    ("rate", {"rate": True}),
    ("log y", {"y_scale": Scale.LOG}),
)
"""Option changes that make more cells of a template's figure cells."""


def grid_of(template: Grid, cells: int) -> Grid:
    """``template`` with its cells, then variants of its figure cells, cut at
    ``cells``: more cells of the same outputs, as a user grows a grid."""
    figures = [  # a correlation's variants would be the same histogram
        c
        for c in template.cells
        if c.plotter not in (Plotter.TABLE, Plotter.CORRELATION)
    ]
    grown: list[Cell] = list(template.cells)
    for suffix, change in VARIANTS:
        for cell in figures:
            options = cell.options.model_copy(update=change)
            grown.append(
                cell.model_copy(
                    update={"title": f"{cell.title} {suffix}", "options": options}
                )
            )
    if len(grown) < cells:
        raise SystemExit(f"error: grid {template.name!r} grows to {len(grown)} cells")
    return template.model_copy(update={"cells": tuple(grown[:cells])})


def store_grid(state_dir: Path, instrument: str, name: str, cells: int) -> Grid:
    """Save a ``cells``-cell grid ``name`` where the dashboard keeps its grids."""
    shipped = templates(load_instrument(instrument))
    template = next((g for g in shipped if g.name == name), None)
    if template is None:
        raise SystemExit(f"error: instrument {instrument} has no grid {name!r}")
    grid = grid_of(template, cells)
    GridStore(state_dir, instrument, shipped).save(grid)
    return grid


# Bokeh renders panes in shadow roots, which querySelectorAll does not enter.
END_TIMES_JS = """() => {
  const found = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.matches('.ld-caption[data-end-time]') && el.dataset.endTime)
        found.push([el.dataset.output, parseFloat(el.dataset.endTime)]);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return [Date.now() / 1000, found];
}"""


@dataclass
class Ages:
    """Data ages sampled in the browsers, in seconds."""

    all: list[float]
    at_change: list[float]
    outputs: int
    by_cell: dict[str, list[float]]
    """All samples of each cell output (``position:output``), over sessions."""

    def row(self, values: list[float]) -> str:
        if not values:
            return "none | | |"
        a = np.asarray(values)
        return (
            f"{len(a)} | {np.median(a):.2f} | {np.percentile(a, 99):.2f} "
            f"| {a.max():.2f}"
        )


def sample_ages(pages: list[Page], seconds: float, every_s: float = 0.1) -> Ages:
    """Browser now minus each shown data window's end, on every page."""
    ages, changes = [], []
    by_cell: dict[str, list[float]] = {}
    last: dict[tuple[int, str], float] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for index, page in enumerate(pages):
            now, shown = page.evaluate(END_TIMES_JS)
            for position, (output, end) in enumerate(shown):
                key = (index, f"{position}:{output}")
                ages.append(now - end)
                by_cell.setdefault(key[1], []).append(now - end)
                if key in last and last[key] != end:
                    changes.append(now - end)
                last[key] = end
        time.sleep(every_s)
    return Ages(ages, changes, len(by_cell), by_cell)


def arrival_ages(bootstrap: str, instrument: str, seconds: float) -> list[float]:
    """Wall time minus each result's window end as a plain consumer receives
    it: what the services and the broker add, without the dashboard."""
    reader = LivedataReader(bootstrap, instrument)
    ages: list[float] = []
    counted: dict[str, int] = {}
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            reader.poll(0.05)
            now = time.time()
            for name, parts in reader.data.items():
                for data in parts[counted.get(name, 0) :]:
                    end = end_time_s(data)
                    if end is not None:
                        ages.append(now - end)
                counted[name] = len(parts)
    finally:
        reader.close()
    return ages


def open_sessions(pages: list[Page], url: str) -> None:
    for page in pages:
        page.goto(url, timeout=120_000)  # a busy dashboard serves slowly
    for page in pages:  # every session's document has arrived and rendered
        page.wait_for_selector(".bk-Canvas", timeout=180_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5007/")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--pid", type=int, help="dashboard process (default: by port)")
    parser.add_argument(
        "--state-dir", type=Path, help="the dashboard's state dir: store a grid there"
    )
    parser.add_argument("--instrument", default="dummy")
    parser.add_argument("--grid", default="Monitors", help="grid to store and open")
    parser.add_argument("--cells", type=int, default=12)
    parser.add_argument(
        "--settle", type=float, default=10.0, help="seconds before sampling ages"
    )
    parser.add_argument(
        "--bootstrap",
        default=os.environ.get("KAFKA2_BOOTSTRAP_SERVERS", "localhost:9092"),
        help="broker to list consumer groups on (default: $KAFKA2_BOOTSTRAP_SERVERS)",
    )
    args = parser.parse_args()

    port = urlparse(args.url).port or 80
    process = psutil.Process(args.pid) if args.pid else dashboard_process(port)
    pids = {p.pid for p in _tree(process)}
    idle = sample(process, min(10.0, args.duration))
    groups_idle = dashboard_consumers(args.bootstrap, pids)
    arrived = arrival_ages(args.bootstrap, args.instrument, min(10.0, args.duration))
    grid = None
    if args.state_dir is not None:
        grid = store_grid(args.state_dir, args.instrument, args.grid, args.cells)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            contexts = [browser.new_context() for _ in range(args.sessions)]
            pages = [context.new_page() for context in contexts]
            started = time.monotonic()
            open_sessions(pages, args.url)
            opened_s = time.monotonic() - started
            time.sleep(args.settle)  # steady state: every cell has data
            started = time.monotonic()
            ages = sample_ages(pages, args.duration)
            sampled_s = time.monotonic() - started
            loaded = sample(process, args.duration)
            groups_loaded = dashboard_consumers(args.bootstrap, pids)
        finally:
            browser.close()

    print(f"dashboard {args.url} (pid {process.pid}), {args.sessions} sessions")
    if grid is not None:
        print(f"grid {grid.name!r} with {len(grid.cells)} cells")
    print(f"all sessions rendered after {opened_s:.1f} s\n")
    print("| | idle | with sessions |")
    print("|---|---:|---:|")
    print(f"| memory (RSS, MiB) | {idle.rss_mib:.0f} | {loaded.rss_mib:.0f} |")
    print(f"| CPU (%) | {idle.cpu_percent:.0f} | {loaded.cpu_percent:.0f} |")
    print(
        f"| Kafka consumer groups / members | {groups_idle[0]} / "
        f"{groups_idle[1]} | {groups_loaded[0]} / {groups_loaded[1]} |"
    )
    print(
        f"\ndata age in the browsers over {sampled_s:.0f} s, "
        f"{ages.outputs} cell outputs per session:\n"
    )
    print("| ages (s) | samples | median | p99 | max |")
    print("|---|---:|---:|---:|---:|")
    print(f"| any time | {ages.row(ages.all)} |")
    print(f"| at change | {ages.row(ages.at_change)} |")
    print(f"| on arrival at a plain consumer (no sessions) | {ages.row(arrived)} |")
    for cell, values in sorted(ages.by_cell.items()):
        print(f"| {cell} | {ages.row(values)} |")
    if groups_loaded != groups_idle:
        print("\nwarning: Kafka consumers changed with the sessions", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
