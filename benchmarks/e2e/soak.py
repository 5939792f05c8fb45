"""Soak: services under constant load for a long time; memory and ledgers.

    .venv/bin/python benchmarks/e2e/soak.py                  # 10 min at 5e6 ev/s
    .venv/bin/python benchmarks/e2e/soak.py --duration 60    # a short check

Starts the broker, ``detector_data`` and ``monitor_data`` (``--services``),
and one load generator per service at ``--rate`` events/s (half the highest
rate ``throughput.py`` sustained), then every ``--interval`` seconds records
each service's RSS (psutil), its heartbeat (ledger, lag) and the latency of
the pulses of the windows published since (definition in ``harness.py``).
At the end the generators stop, the services drain, and the final
heartbeats must show, per source, a balanced ledger whose ``received``
equals the events produced and whose ``counted`` equals the sum of all
published "current" outputs.

Memory is *flat* when the RSS at the end is within ``--rss-tolerance-mb`` of
the RSS after the warm-up (first ``--warmup`` seconds) and, for runs of at
least 5 minutes after it, the least-squares slope is below 1 MB/min.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from harness import (
    PULSE_HZ,
    WINDOW_NS,
    OutputReader,
    Sampler,
    broker_for,
    create_topics,
    fmt_rate,
    machine_line,
    percentile,
    pulse_latencies,
    setup_logging,
    start_loadgen,
    start_service,
    wait_for_first_message,
)
from target import DUMMY, SERVICE_NAMES

logger = logging.getLogger("soak")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds")
    parser.add_argument("--rate", type=float, default=5e6, help="events/s per service")
    parser.add_argument(
        "--services", nargs="+", default=list(SERVICE_NAMES), choices=SERVICE_NAMES
    )
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--rss-tolerance-mb", type=float, default=20.0)
    parser.add_argument("--pool", type=int, default=4)
    parser.add_argument("--bootstrap", default=None)
    parser.add_argument("--label", default=None)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results"
    )
    args = parser.parse_args()
    args.label = args.label or time.strftime("soak-%Y%m%d-%H%M%S")
    return args


def main() -> int:
    args = parse_args()
    setup_logging()
    log_dir = args.out / "logs" / args.label
    log_dir.mkdir(parents=True, exist_ok=True)
    broker, bootstrap = broker_for(args.bootstrap)
    sampler = Sampler(interval_s=1.0)
    reader = None
    services: dict[str, Any] = {}
    generators: dict[str, Any] = {}
    samples: list[dict[str, Any]] = []
    result: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine_line(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    try:
        create_topics(bootstrap, DUMMY.topics())
        names = {s: DUMMY.service(s).outputs for s in args.services}
        inputs = sorted({t for s in args.services for t in DUMMY.service(s).topics})
        reader = OutputReader(bootstrap, inputs, [n for v in names.values() for n in v])
        reader.start()
        if broker is not None and broker._process is not None:
            sampler.watch("broker", broker._process.pid)
        sampler.start()
        for service in args.services:
            services[service] = start_service(service, bootstrap, log_dir)
            sampler.watch(service, services[service].pid)
        for service, child in services.items():
            reader.wait_heartbeat(
                service,
                pid=child.pid,
                after_ns=0,
                timeout=90,
                condition=lambda h: (
                    h.status.counters.get("assigned_partitions", 0) >= 2
                ),
            )
        hw0 = reader.high_watermarks()
        pulses = int(args.duration * PULSE_HZ)
        for service in args.services:
            generators[service] = start_loadgen(
                service,
                bootstrap,
                log_dir,
                rate=args.rate,
                pulses=pulses,
                pool=args.pool,
                report=log_dir / f"loadgen-{service}.json",
                name=f"loadgen-{service}",
            )
            sampler.watch(f"loadgen-{service}", generators[service].pid)
        started = wait_for_first_message(reader, hw0)
        start_wall = time.time_ns()
        logger.info(
            "soak: %s at %s ev/s each for %.0f s",
            ", ".join(args.services),
            fmt_rate(args.rate),
            args.duration,
        )
        last_window = start_wall // WINDOW_NS * WINDOW_NS + WINDOW_NS
        while True:
            time.sleep(args.interval)
            if not all(g.running() for g in generators.values()):
                break  # the last windows are partial: not an interval
            now = time.time_ns()
            outputs, _ = reader.snapshot()
            entry: dict[str, Any] = {"t_s": time.monotonic() - started}
            window_end = now // WINDOW_NS * WINDOW_NS - 2 * WINDOW_NS
            for service, child in services.items():
                usage = sampler.usage[service]
                heartbeat = reader.latest_heartbeat(service, pid=child.pid)
                latencies, missing = pulse_latencies(
                    outputs, names[service], 0, 1, (last_window, window_end), now
                )
                status = heartbeat.status if heartbeat else None
                entry[service] = {
                    "rss_mb": usage.rss[-1] / 1e6 if usage.rss else math.nan,
                    "cores": usage.cores(time.monotonic() - args.interval, 1e18),
                    "p50_s": percentile(latencies, 50),
                    "p99_s": percentile(latencies, 99),
                    "missing": missing,
                    "data_lag_s": (status.details.data_lag_s if status else None),
                    "received": heartbeat.received_events if heartbeat else 0,
                    "windows_skipped": (
                        status.counters.get("windows_skipped", 0) if status else 0
                    ),
                }
            last_window = window_end
            samples.append(entry)
            logger.info(
                "%4.0f s  %s",
                entry["t_s"],
                "  ".join(
                    f"{s}: RSS {v['rss_mb']:.0f} MB, {v['cores']:.2f} cores, "
                    f"p99 {v['p99_s']:.2f} s, received {fmt_rate(v['received'])}"
                    for s, v in entry.items()
                    if s != "t_s"
                ),
            )
        reports = {}
        for service, generator in generators.items():
            generator.wait(60)
            path = log_dir / f"loadgen-{service}.json"
            reports[service] = json.loads(path.read_text())
        # Drain: everything produced consumed and the last windows published.
        final: dict[str, Any] = {}
        deadline = time.monotonic() + 60
        for service, child in services.items():
            report = reports[service]
            produced = report["messages"] * report["events_per_pulse"]
            while time.monotonic() < deadline:
                heartbeat = reader.wait_heartbeat(service, pid=child.pid, timeout=10)
                ledger = {k: e.model_dump() for k, e in heartbeat.ledger.items()}
                received = sum(e["received"] for e in ledger.values())
                outputs, _ = reader.snapshot()
                published = sum(o.total for o in outputs if o.name in names[service])
                counted = sum(e["counted"] for e in ledger.values())
                if received >= produced and published >= counted:
                    break
            final[service] = {
                "produced_events": produced,
                "ledger": ledger,
                "received": received,
                "counted": counted,
                "published_in_current_outputs": published,
                "balanced": all(e["balanced"] for e in ledger.values()),
                "counters": heartbeat.status.counters,
                "rss_mb": sampler.usage[service].rss[-1] / 1e6,
            }
        result["final"] = final
    finally:
        for generator in generators.values():
            generator.stop()
        for child in services.values():
            child.stop()
        if reader is not None:
            reader.close()
        sampler.close()
        if broker is not None:
            broker.close()
    result["samples"] = samples
    summary = summarize(result, args)
    (args.out / f"{args.label}.json").write_text(json.dumps(result, indent=1))
    (args.out / f"{args.label}.md").write_text(summary)
    plot(result, args.out / f"{args.label}.png")
    print(summary)
    return 0 if result.get("ok") else 1


def summarize(result: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        f"Soak {result['started']}: {args.duration:.0f} s at "
        f"{fmt_rate(args.rate)} events/s per service. {result['machine']}",
        "",
        "| service | RSS after warm-up MB | RSS end MB | max MB | slope MB/min "
        "| p50 s (median of intervals) | p99 s (worst interval) | missing pulses "
        "| produced | received | counted | in outputs | ledger balanced | flat |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    ok = True
    samples = result["samples"]
    for service in args.services:
        rows = [(s["t_s"], s[service]) for s in samples if service in s]
        after = [(t, v["rss_mb"]) for t, v in rows if t >= args.warmup]
        if len(after) < 2:
            after = [(t, v["rss_mb"]) for t, v in rows]
        t = np.array([a[0] for a in after])
        rss = np.array([a[1] for a in after])
        slope = float(np.polyfit(t / 60, rss, 1)[0]) if len(after) >= 2 else math.nan
        final = result.get("final", {}).get(service, {})
        # The slope says little about a few minutes of samples.
        long_enough = len(after) >= 2 and t[-1] - t[0] >= 300
        flat = (
            len(after) >= 2
            and abs(rss[-1] - rss[0]) <= args.rss_tolerance_mb
            and (abs(slope) < 1.0 or not long_enough)
        )
        exact = (
            final.get("received") == final.get("produced_events")
            and final.get("published_in_current_outputs") == final.get("counted")
            and final.get("balanced", False)
        )
        ok = ok and flat and exact
        p50 = np.nanmedian([v["p50_s"] for _, v in rows]) if rows else math.nan
        p99 = np.nanmax([v["p99_s"] for _, v in rows]) if rows else math.nan
        missing = sum(v["missing"] for _, v in rows)
        lines.append(
            f"| {service} | {rss[0]:.0f} | {rss[-1]:.0f} | {rss.max():.0f} | "
            f"{slope:+.2f} | {p50:.2f} | {p99:.2f} | {missing} | "
            f"{final.get('produced_events', 0):,} | {final.get('received', 0):,} | "
            f"{final.get('counted', 0):,} | "
            f"{final.get('published_in_current_outputs', 0):,.0f} | "
            f"{final.get('balanced')} | {'yes' if flat else 'NO'} |"
        )
    result["ok"] = ok
    lines += ["", f"Result: {'PASS' if ok else 'FAIL'}"]
    for service in args.services:
        ledger = result.get("final", {}).get(service, {}).get("ledger", {})
        lines.append(f"- {service} final ledger: {json.dumps(ledger)}")
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = result["samples"]
    fig, (rss_ax, lat_ax) = plt.subplots(1, 2, figsize=(12, 4.5))
    services = [k for k in (samples[0] if samples else {}) if k != "t_s"]
    for service in services:
        t = [s["t_s"] / 60 for s in samples]
        rss_ax.plot(t, [s[service]["rss_mb"] for s in samples], label=service)
        lat_ax.plot(t, [s[service]["p99_s"] for s in samples], label=f"{service} p99")
        lat_ax.plot(
            t, [s[service]["p50_s"] for s in samples], "--", label=f"{service} p50"
        )
    rss_ax.set_xlabel("minutes")
    rss_ax.set_ylabel("service RSS (MB)")
    lat_ax.set_xlabel("minutes")
    lat_ax.set_ylabel("latency per pulse (s), per interval")
    for ax in (rss_ax, lat_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"soak {result['started']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
