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
  must not grow with ``--sessions``.

    python benchmarks/dashboard_load.py --url http://127.0.0.1:5007/ \\
        --bootstrap localhost:9092 --sessions 10 --duration 30

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
from urllib.parse import urlparse

import psutil
from confluent_kafka.admin import AdminClient
from playwright.sync_api import Page, sync_playwright

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


def open_sessions(pages: list[Page], url: str) -> None:
    for page in pages:
        page.goto(url)
    for page in pages:  # every session's document has arrived and rendered
        page.wait_for_selector(".bk-Canvas", timeout=60_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5007/")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--pid", type=int, help="dashboard process (default: by port)")
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
            loaded = sample(process, args.duration)
            groups_loaded = dashboard_consumers(args.bootstrap, pids)
        finally:
            browser.close()

    print(f"dashboard {args.url} (pid {process.pid}), {args.sessions} sessions")
    print(f"all sessions rendered after {opened_s:.1f} s\n")
    print("| | idle | with sessions |")
    print("|---|---:|---:|")
    print(f"| memory (RSS, MiB) | {idle.rss_mib:.0f} | {loaded.rss_mib:.0f} |")
    print(f"| CPU (%) | {idle.cpu_percent:.0f} | {loaded.cpu_percent:.0f} |")
    print(
        f"| Kafka consumer groups / members | {groups_idle[0]} / "
        f"{groups_idle[1]} | {groups_loaded[0]} / {groups_loaded[1]} |"
    )
    if groups_loaded != groups_idle:
        print("\nwarning: Kafka consumers changed with the sessions", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
