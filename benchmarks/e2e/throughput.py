"""End-to-end throughput and latency of monitor_data and detector_data over Kafka.

    .venv/bin/python benchmarks/e2e/throughput.py            # full run, < 10 min
    .venv/bin/python benchmarks/e2e/throughput.py --quick    # CI smoke, < 60 s
    .venv/bin/python benchmarks/e2e/throughput.py --instrument dream --production \
        --services detector_data --workers 2 --partitions 2 --rates 1e7 3e7

Starts the real broker (or uses ``--bootstrap``), then for each service:
starts ``python -m ess.livedata.services.<service> --instrument dummy --dev``
and steps a load generator (``loadgen.py``: the fake producers, pulses at
14 Hz on the wall clock, pre-encoded payloads re-stamped per pulse) through
the event rates of ``--rates`` (events/s summed over the service's two
sources). Each step warms up, then measures whole 1 s data-time windows for
``--measure`` seconds:

- offered events/s: growth of the input topic's high watermark times
  events per message;
- consumed events/s: growth of ``received`` summed over the ledger of the
  service's heartbeat (``details.ledger``), per heartbeat time;
- published events/s: counts in the "current" outputs received per second;
- latency per pulse (p50, p99, max; definition in ``harness.py``): arrival
  of the first output whose window holds the pulse minus its reference time;
- consumer lag: produced minus consumed messages at each heartbeat (high
  watermarks vs the heartbeat's ``kafka_messages``), and ``data_lag_s``;
- CPU (cores) of service, load generator, broker and of everything else on
  the machine, and peak RSS of the service (psutil, every 0.5 s); the
  service's CPU per consumed event (ns/event), which unlike the rate does not
  depend on how much CPU the other processes leave it;
- the ledger: ``received`` over all workers against the events the generator
  produced, after the step has drained; windows the service skipped to catch
  up (``windows_skipped``).

``--instrument``/``--production`` pick the plugin and topology
(``target.py``); ``--workers N --partitions P`` run N processes of the
service in one consumer group on input topics of P partitions each, and a
window's latency is then that of the last worker's part (when a reader's
combination is complete). ``--variant two='{"workers": 2}'`` compares worker
counts in one run. ``--service-cpu-quota C`` caps each worker at C cores
(``harness.CpuQuota``), so the rate where it falls behind is its capacity
per C cores rather than what the shared machine left it. A rate is *sustained* when every window of the
measurement was published, p99 latency is at most 1.5 s, no window was
skipped and the ledgers received every event produced. After the rates (one ev44 message per pulse per
source, as the fake producers send), ``--split`` steps through smaller
messages at ``--split-rate`` (each pulse's events split into N messages, like
an event formation unit flushing its buffer). Before the service steps the
load generator is measured alone (no service consuming), with and without
the payload pool; after them, ``--capacity`` runs the generator unpaced
against the service to see how many events/s it consumes when the broker
and the generator let it (all three share the machine's cores).

Outputs (``--out``, default ``benchmarks/e2e/results``): ``<label>.md``
(tables), ``<label>.json`` (all numbers), ``<label>.png`` (plot), ``logs/``.
``--variant name='{"kafka_upstream": {"consumer": {...}}}'`` compares
configuration overlays or code variants (see ``service_main.py``) in one
run, ``--repeat N`` alternating their order; the tables then add medians per
variant and ratios to the first one. ``--profile`` runs the services under
cProfile.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import math
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import (
    LATENCY_LIMIT_S,
    PULSE_HZ,
    WINDOW_NS,
    CpuQuota,
    OutputReader,
    Sampler,
    broker_for,
    create_topics,
    fmt_rate,
    machine_line,
    mono_to_wall_ns,
    percentile,
    pulse_latencies,
    setup_logging,
    start_loadgen,
    start_service,
    wait_for_first_message,
)
from target import SERVICE_NAMES, Target, prepare_target

from ess.livedata.testing.processes import LoggedProcess

logger = logging.getLogger("e2e")

FULL_RATES = (1e5, 1e6, 3e6, 1e7)


@dataclass
class Context:
    bootstrap: str
    reader: OutputReader
    sampler: Sampler
    log_dir: Path
    args: argparse.Namespace
    hw_samples: list[tuple[float, int]]
    target: Target


def wall_to_mono(wall_ns: int) -> float:
    return time.monotonic() + (wall_ns - time.time_ns()) / 1e9


def sample_hw(ctx: Context) -> None:
    ctx.hw_samples.append((time.monotonic(), ctx.reader.high_watermarks()))


def hw_at(ctx: Context, mono: float) -> float:
    times = [t for t, _ in ctx.hw_samples]
    values = [v for _, v in ctx.hw_samples]
    if not times:
        return math.nan
    import numpy as np

    return float(np.interp(mono, times, values))


def consumed_rate(heartbeats: Sequence[Any], w0: int, w1: int) -> float:
    """Events/s received by the service between two wall times (ns).

    ``received`` of the heartbeats' ledgers, interpolated linearly in the
    heartbeats' creation times; NaN unless heartbeats bracket the interval.
    """
    import numpy as np

    times = [h.create_ms * 1e6 for h in heartbeats]
    if len(times) < 2 or times[0] > w0 or times[-1] < w1:
        return math.nan
    received = [h.received_events for h in heartbeats]
    r0, r1 = np.interp([w0, w1], times, received)
    return float(r1 - r0) / ((w1 - w0) / 1e9)


def sleep_sampling(ctx: Context, until_mono: float, step: float = 0.25) -> None:
    while True:
        sample_hw(ctx)
        remaining = until_mono - time.monotonic()
        if remaining <= 0:
            return
        time.sleep(min(step, remaining))


class ServiceRun:
    """The worker processes of one service (one consumer group): ``--workers``,
    or the ``"workers"`` key of the variant's overrides; its
    ``"loadgen_producer"`` key is producer configuration for the generator."""

    def __init__(
        self,
        ctx: Context,
        service: str,
        variant: str,
        overrides: Any,
        repeat: int = 0,
    ):
        self.ctx = ctx
        self.repeat = repeat
        self.service = service
        self.variant = variant
        overrides = dict(overrides or {})
        self.workers = int(overrides.pop("workers", ctx.args.workers))
        self.loadgen_producer = overrides.pop("loadgen_producer", None)
        self.overrides = overrides or None
        self.children: list[LoggedProcess] = []
        self.quotas: list[CpuQuota] = []
        self.restarts = 0

    @property
    def pids(self) -> list[int]:
        return [child.pid for child in self.children]

    def start(self) -> None:
        args, target = self.ctx.args, self.ctx.target
        spec = target.service(self.service)
        # Each worker holds its share of the input partitions (the range
        # assignor splits every topic) plus the control topics it reads whole;
        # the one-partition inputs not fed here go to one worker each.
        assigned = (
            len(spec.topics) * args.partitions // self.workers + spec.control_topics
        )
        most = assigned + len(spec.other_inputs)
        for k in range(self.workers):
            name = f"{self.service}-{self.variant}-r{self.repeat}-{self.restarts}"
            name += f"-w{k}" if self.workers > 1 else ""
            profile = self.ctx.log_dir / f"{name}.prof" if args.profile else None
            child = start_service(
                self.service,
                self.ctx.bootstrap,
                self.ctx.log_dir,
                target=target,
                name=name,
                overrides=self.overrides,
                profile=profile,
            )
            self.children.append(child)
            self.ctx.sampler.watch(f"service#{k}", child.pid)
        for child in self.children:
            try:
                self.ctx.reader.wait_heartbeat(
                    self.service,
                    pid=child.pid,
                    timeout=120,
                    after_ns=0,
                    condition=lambda h: (
                        assigned
                        <= h.status.counters.get("assigned_partitions", 0)
                        <= most
                    ),
                )
            except TimeoutError:
                raise RuntimeError(
                    f"{self.service} pid {child.pid} not consuming its {assigned} "
                    f"partitions:\n{child.log_tail()}"
                ) from None
        if args.service_cpu_quota:
            self._warm_up_then_cap(args.service_cpu_quota)

    def _warm_up_then_cap(self, cores: float) -> None:
        """A short step uncapped first: a worker's first windows build its
        views and load its kernels (~10 CPU-s for DREAM), which under a
        small cap would take minutes and be measured as falling behind."""
        run_step(self.ctx, self, 1e6, measure_s=2, warmup_s=4, tail_s=4)
        for child in self.children:
            quota = CpuQuota(f"{self.service}-{child.pid}", cores)
            self.quotas.append(quota)
            quota.add(child.pid)

    def restart(self) -> None:
        self.stop()
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        for k, child in enumerate(self.children):
            self.ctx.sampler.forget(f"service#{k}")
            child.stop()
        self.children = []
        for quota in self.quotas:
            quota.close()
        self.quotas = []

    def heartbeats(self, timeout: float = 10) -> list[Any]:
        """The next heartbeat of every worker."""
        return [
            self.ctx.reader.wait_heartbeat(self.service, pid=pid, timeout=timeout)
            for pid in self.pids
        ]


def latest_per_worker(heartbeats: Sequence[Any], pids: Sequence[int]) -> list[Any]:
    """The newest heartbeat of each worker in ``heartbeats`` (arrival order)."""
    latest = {h.status.pid: h for h in heartbeats if h.status.pid in pids}
    return [latest[pid] for pid in pids if pid in latest]


def messages_consumed(heartbeats: Sequence[Any], pids: Sequence[int]) -> list[tuple]:
    """(heartbeat, messages all workers had consumed by then) per heartbeat,
    each worker counted at its newest heartbeat so far."""
    latest: dict[int, int] = {}
    out = []
    for heartbeat in heartbeats:
        if heartbeat.status.pid not in pids:
            continue
        latest[heartbeat.status.pid] = heartbeat.kafka_messages
        out.append((heartbeat, sum(latest.values())))
    return out


def ledger_totals(heartbeats: Sequence[Any]) -> dict[str, int]:
    """``received``, ``counted`` and ``skipped`` summed over sources and
    workers, and whether every worker's ledger balances."""
    totals = {"received": 0, "counted": 0, "skipped": 0, "balanced": True}
    for heartbeat in heartbeats:
        for entry in heartbeat.ledger.values():
            totals["received"] += entry.received
            totals["counted"] += entry.counted
            totals["skipped"] += entry.skipped
            totals["balanced"] = totals["balanced"] and entry.balanced
    return totals


def run_step(
    ctx: Context,
    run: ServiceRun,
    rate: float,
    split: int = 1,
    *,
    measure_s: float,
    warmup_s: float,
    tail_s: float = 8.0,
    speedup: float = 1.0,
) -> dict[str, Any]:
    """One rate against a running service; see the module docstring."""
    args, target = ctx.args, ctx.target
    service = run.service
    spec = target.service(service)
    names = spec.outputs
    ppm = args.pulses_per_message
    epp = target.events_per_pulse(service, rate)
    events_per_message = epp * ppm / split
    messages_per_s = len(spec.sources) * PULSE_HZ * split / ppm
    pids = run.pids

    base = run.heartbeats()
    hw0 = ctx.reader.high_watermarks()
    km0 = sum(b.kafka_messages for b in base) - (
        max(b.high_watermarks for b in base) - hw0
    )
    ledger0 = ledger_totals(base)
    late0 = sum(b.status.counters.get("late_messages", 0) for b in base)
    skipped0 = sum(b.status.counters.get("windows_skipped", 0) for b in base)
    tag = f"{service}-{run.variant}-r{run.repeat}-{rate:.0e}-split{split}"
    report_path = ctx.log_dir / f"loadgen-{tag}.json"
    report_path.unlink(missing_ok=True)
    total_s = warmup_s + measure_s + tail_s + 10
    gen = start_loadgen(
        service,
        ctx.bootstrap,
        ctx.log_dir,
        rate=rate,
        target=target,
        pulses=int(total_s * PULSE_HZ * (speedup if math.isfinite(speedup) else 3)),
        speedup=speedup,
        pool=args.pool,
        pulses_per_message=ppm,
        messages_per_pulse=split,
        report=report_path,
        name=f"loadgen-{tag}",
        producer_config=run.loadgen_producer,
    )
    ctx.sampler.watch("loadgen", gen.pid)
    ctx.hw_samples.clear()
    try:
        first_mono = wait_for_first_message(ctx.reader, hw0)
    except TimeoutError:
        gen.stop()
        raise RuntimeError(f"load generator silent:\n{gen.log_tail()}") from None
    first_wall = mono_to_wall_ns(first_mono)
    m0 = -(-(first_wall + int(warmup_s * 1e9)) // WINDOW_NS) * WINDOW_NS
    m1 = m0 + int(measure_s * 1e9)
    sleep_sampling(ctx, wall_to_mono(m1))
    window_starts = range(m0, m1, WINDOW_NS)
    deadline = wall_to_mono(m1 + int(tail_s * 1e9))
    while time.monotonic() < deadline:
        outputs, _ = ctx.reader.snapshot()
        seen: dict[tuple[str, int], set[str]] = {}
        for o in outputs:
            seen.setdefault((o.name, o.start), set()).add(o.worker)
        if all(
            len(seen.get((n, s), ())) >= len(pids) for n in names for s in window_starts
        ):
            break
        sleep_sampling(ctx, time.monotonic() + 0.1, 0.1)
    cutoff = time.time_ns()
    gen.stop()
    ctx.sampler.forget("loadgen")
    report = json.loads(report_path.read_text()) if report_path.exists() else {}

    # Drain: wait until the workers have consumed everything produced and
    # their ledgers have received every event.
    drained = False
    hw_end = ctx.reader.high_watermarks()
    produced = report.get("events", math.nan)
    final = base
    drain_deadline = time.monotonic() + args.drain
    while time.monotonic() < drain_deadline:
        try:
            final = run.heartbeats(timeout=3)
        except TimeoutError:
            continue
        consumed_msgs = sum(h.kafka_messages for h in final) - km0
        received = ledger_totals(final)["received"] - ledger0["received"]
        if consumed_msgs >= hw_end - hw0 and received >= produced:
            drained = True
            break

    outputs, heartbeats = ctx.reader.snapshot()
    first_pulse = report.get("first_pulse_ns") or 0
    latencies, missing = pulse_latencies(
        outputs, names, first_pulse, ppm, (m0, m1), cutoff, workers=len(pids)
    )
    mono0, mono1 = wall_to_mono(m0), wall_to_mono(m1)
    offered = (hw_at(ctx, mono1) - hw_at(ctx, mono0)) * events_per_message / measure_s
    consumed = sum(
        consumed_rate([h for h in heartbeats if h.status.pid == pid], m0, m1)
        for pid in pids
    )
    published = (
        sum(o.total for o in outputs if o.name in names and m0 <= o.arrival_ns < m1)
        / measure_s
    )
    lag_msgs = [
        (h.high_watermarks - hw0) - (total - km0)
        for h, total in messages_consumed(heartbeats, pids)
        if m0 <= h.arrival_ns <= cutoff
    ]
    data_lag = [
        h.status.details.data_lag_s or 0.0
        for h in heartbeats
        if h.status.pid in pids and m0 <= h.arrival_ns <= cutoff
    ]
    final = latest_per_worker(heartbeats, pids) or final
    late = sum(h.status.counters.get("late_messages", 0) for h in final) - late0
    windows_skipped = (
        sum(h.status.counters.get("windows_skipped", 0) for h in final) - skipped0
    )
    ledger = ledger_totals(final)
    received = ledger["received"] - ledger0["received"]
    per_worker = [
        ledger_totals([h])["received"] - ledger_totals([b])["received"]
        for h, b in zip(final, base, strict=False)
    ]
    cores = ctx.sampler.cores(mono0, mono1)
    service_cores = cores.get("service", math.nan)
    p99 = percentile(latencies, 99)
    result = {
        "service": service,
        "variant": run.variant,
        "target": target.describe(),
        "workers": len(pids),
        "partitions": args.partitions,
        "target_rate": rate,
        "split": split,
        "speedup": speedup,
        "events_per_message": events_per_message,
        "messages_per_s": messages_per_s,
        "offered_rate": offered,
        "consumed_rate": consumed,
        "published_rate": published,
        "latency_p50_s": percentile(latencies, 50),
        "latency_p99_s": p99,
        "latency_max_s": max(latencies) if latencies else math.nan,
        "pulses_measured": len(latencies),
        "pulses_missing": missing,
        "max_lag_messages": max(lag_msgs) if lag_msgs else math.nan,
        "max_lag_s": (max(lag_msgs) / messages_per_s) if lag_msgs else math.nan,
        "max_data_lag_s": max(data_lag) if data_lag else math.nan,
        "late_messages": late,
        "windows_skipped": windows_skipped,
        "events_produced": produced,
        "events_received": received,
        "events_received_per_worker": per_worker,
        "events_skipped": ledger["skipped"] - ledger0["skipped"],
        "ledger_balanced": bool(ledger["balanced"]) and received == produced,
        "drained": drained,
        "cores": cores,
        "service_cpu_ns_per_event": service_cores / consumed * 1e9
        if consumed > 0
        else math.nan,
        "service_peak_rss_mb": max(
            ctx.sampler.usage[f"service#{k}"].peak_rss(mono0, time.monotonic())
            for k in range(len(pids))
        )
        / 1e6,
        "loadgen": report,
        "sustained": missing == 0
        and p99 <= LATENCY_LIMIT_S
        and windows_skipped == 0
        and received == produced,
    }
    logger.info(
        "%s %s %s ev/s (%s ev/msg): offered %s consumed %s p50 %.2f s p99 %.2f s "
        "missing %d lag %s msgs, skipped windows %d, ledger %s/%s, "
        "service %.2f cores (%.1f ns/event)",
        service,
        run.variant,
        fmt_rate(rate),
        fmt_rate(events_per_message),
        fmt_rate(offered),
        fmt_rate(consumed),
        result["latency_p50_s"],
        p99,
        missing,
        result["max_lag_messages"],
        windows_skipped,
        fmt_rate(received),
        fmt_rate(produced),
        service_cores,
        result["service_cpu_ns_per_event"],
    )
    if not drained:
        logger.info("service did not drain within %.0f s: restarting it", args.drain)
        run.restart()
    return result


def run_capacity(
    ctx: Context, run: ServiceRun, rate: float, split: int = 1
) -> dict[str, Any]:
    """The generator unpaced (messages of ``rate / split``'s size) against the
    service."""
    args, target = ctx.args, ctx.target
    service = run.service
    spec = target.service(service)
    epp = target.events_per_pulse(service, rate)
    pids = run.pids
    run.heartbeats()
    hw0 = ctx.reader.high_watermarks()
    tag = f"{service}-{run.variant}-r{run.repeat}-capacity-split{split}"
    report_path = ctx.log_dir / f"loadgen-{tag}.json"
    gen = start_loadgen(
        service,
        ctx.bootstrap,
        ctx.log_dir,
        rate=rate,
        target=target,
        pulses=100_000,
        speedup=math.inf,
        pool=args.pool,
        messages_per_pulse=split,
        report=report_path,
        name=f"loadgen-{tag}",
    )
    ctx.sampler.watch("loadgen", gen.pid)
    ctx.hw_samples.clear()
    first = wait_for_first_message(ctx.reader, hw0)
    t0, t1 = first + 2, first + 2 + args.capacity_s
    sleep_sampling(ctx, t1 + 2.5)
    gen.stop()
    ctx.sampler.forget("loadgen")
    _, heartbeats = ctx.reader.snapshot()
    w0, w1 = mono_to_wall_ns(t0), mono_to_wall_ns(t1)
    consumed = sum(
        consumed_rate([h for h in heartbeats if h.status.pid == pid], w0, w1)
        for pid in pids
    )
    produced = (hw_at(ctx, t1) - hw_at(ctx, t0)) * epp / split / (t1 - t0)
    cores = ctx.sampler.cores(t0, t1)
    result = {
        "service": service,
        "variant": run.variant,
        "target": target.describe(),
        "workers": len(pids),
        "events_per_message": epp // split,
        "produced_rate": produced,
        "consumed_rate": consumed,
        "cores": cores,
        "service_cpu_ns_per_event": cores.get("service", math.nan) / consumed * 1e9
        if consumed > 0
        else math.nan,
        "bytes_per_event": spec.bytes_per_event,
    }
    logger.info(
        "%s %s capacity: produced %s consumed %s ev/s",
        service,
        run.variant,
        fmt_rate(produced),
        fmt_rate(consumed),
    )
    run.restart()  # a backlog is left: start clean
    return result


def producer_alone(
    ctx: Context, service: str, rate: float, pool: int, pulses: int
) -> dict[str, Any]:
    """The load generator unpaced with nothing consuming: its ceiling."""
    tag = f"producer-{service}-pool{pool}"
    report_path = ctx.log_dir / f"loadgen-{tag}.json"
    report_path.unlink(missing_ok=True)
    gen = start_loadgen(
        service,
        ctx.bootstrap,
        ctx.log_dir,
        rate=rate,
        target=ctx.target,
        pulses=pulses,
        speedup=math.inf,
        pool=pool,
        report=report_path,
        name=f"loadgen-{tag}",
    )
    ctx.sampler.watch("loadgen", gen.pid)
    t_start = time.monotonic()
    code = gen.wait(300)
    t_end = time.monotonic()
    ctx.sampler.forget("loadgen")
    if code != 0 or not report_path.exists():
        raise RuntimeError(f"load generator failed ({code}):\n{gen.log_tail()}")
    report = json.loads(report_path.read_text())
    sending_s = (report["end_ns"] - report["first_produce_ns"]) / 1e9
    events = report["events"]
    t0 = t_end - sending_s
    usage = ctx.sampler.usage
    result = {
        "service": service,
        "pool": pool,
        "events_per_message": events / report["messages"],
        "messages": report["messages"],
        "seconds": sending_s,
        "startup_s": t0 - t_start,
        "events_per_s": events / sending_s,
        "mb_per_s": report["bytes"] / sending_s / 1e6,
        "loadgen_cores": usage["loadgen"].cores(t0, t_end),
        "broker_cores": usage["broker"].cores(t0, t_end)
        if "broker" in usage
        else math.nan,
    }
    logger.info(
        "producer alone %s pool=%d: %s ev/s, %.0f MB/s",
        service,
        pool,
        fmt_rate(result["events_per_s"]),
        result["mb_per_s"],
    )
    return result


def fmt(value: float, digits: int = 2) -> str:
    return "-" if not math.isfinite(value) else f"{value:.{digits}f}"


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Run: {results['started']}, {results['target']}, "
        f"{results['workers']} worker(s), {results['partitions']} partition(s) "
        f"per input topic. {results['machine']}",
        "",
    ]
    if results["producer"]:
        lines += [
            "Load generator alone (unpaced, nothing consuming; the broker ingests):",
            "",
            "| service | payload pool | events/message | events/s | MB/s "
            "| generator cores | broker cores |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results["producer"]:
            lines.append(
                f"| {r['service']} | "
                f"{r['pool'] or 'off (draw + encode)'} | "
                f"{r['events_per_message']:,.0f} | {fmt_rate(r['events_per_s'])} | "
                f"{r['mb_per_s']:.0f} | {fmt(r['loadgen_cores'])} | "
                f"{fmt(r['broker_cores'])} |"
            )
        lines.append("")
    lines += [
        "End to end, paced at 14 Hz (rates are events/s over all sources; "
        "latency per pulse, of the last worker's part; cores over the "
        "measurement, service = all workers; ns/event = service CPU per "
        "consumed event; ledger = events received by all workers / produced):",
        "",
        "| service | variant | target | events/msg | offered | consumed | published "
        "| p50 s | p99 s | max s | missing pulses | max lag msgs (s) "
        "| skipped windows | ledger | service cores | ns/event | peak RSS MB "
        "| generator cores | broker cores | other cores | sustained |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:"
        "|---:|---:|---:|---:|---:|---|",
    ]
    for r in results["steps"]:
        c = r["cores"]
        lines.append(
            f"| {r['service']} | {r['variant']} | {fmt_rate(r['target_rate'])} | "
            f"{fmt_rate(r['events_per_message'])} | {fmt_rate(r['offered_rate'])} | {fmt_rate(r['consumed_rate'])} | "
            f"{fmt_rate(r['published_rate'])} | {fmt(r['latency_p50_s'])} | "
            f"{fmt(r['latency_p99_s'])} | {fmt(r['latency_max_s'])} | "
            f"{r['pulses_missing']}/{r['pulses_measured']} | "
            f"{fmt(r['max_lag_messages'], 0)} ({fmt(r['max_lag_s'], 1)}) | "
            f"{r['windows_skipped']} | {fmt_rate(r['events_received'])}/"
            f"{fmt_rate(r['events_produced'])} "
            f"{'ok' if r['ledger_balanced'] else 'NOT balanced'} | "
            f"{fmt(c.get('service', math.nan))} | "
            f"{fmt(r['service_cpu_ns_per_event'], 1)} | "
            f"{r['service_peak_rss_mb']:.0f} | "
            f"{fmt(c.get('loadgen', math.nan))} | {fmt(c.get('broker', math.nan))} | "
            f"{fmt(c.get('other', math.nan))} | {'yes' if r['sustained'] else 'NO'} |"
        )
    lines.append("")
    if results["capacity"]:
        lines += [
            "Service capacity (generator unpaced, service consuming; "
            "all three share the 2 cores):",
            "",
            "| service | variant | events/message | produced ev/s | consumed ev/s "
            "| service cores | ns/event | generator cores | broker cores "
            "| other cores |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results["capacity"]:
            c = r["cores"]
            lines.append(
                f"| {r['service']} | {r['variant']} | {r['events_per_message']:,} | "
                f"{fmt_rate(r['produced_rate'])} | {fmt_rate(r['consumed_rate'])} | "
                f"{fmt(c.get('service', math.nan))} | "
                f"{fmt(r['service_cpu_ns_per_event'], 1)} | "
                f"{fmt(c.get('loadgen', math.nan))} | "
                f"{fmt(c.get('broker', math.nan))} | {fmt(c.get('other', math.nan))} |"
            )
        lines.append("")
    variants = list(dict.fromkeys(r["variant"] for r in results["steps"]))
    if len(variants) > 1 or len({r["repeat"] for r in results["steps"]}) > 1:
        lines += ab_table(results["steps"], variants)
    for service, best in results["highest_sustained"].items():
        lines.append(
            f"Highest sustained rate ({service}): "
            + ", ".join(f"{v}: {fmt_rate(x) if x else 'none'}" for v, x in best.items())
        )
    return "\n".join(lines) + "\n"


def ab_table(steps: list[dict[str, Any]], variants: list[str]) -> list[str]:
    """Medians over repeats per variant, and ratios to the first variant."""
    import statistics

    base = variants[0]
    lines = [
        f"Variants against {base!r} (medians over repeats; ratio = variant / {base}):",
        "",
        "| service | target | events/msg | variant | runs | p50 s | p99 s "
        "| consumed | service cores | ns/event | p99 ratio | service-cores ratio "
        "| ns/event ratio | sustained runs |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    keys = list(
        dict.fromkeys((r["service"], r["target_rate"], r["split"]) for r in steps)
    )

    def med(rows: list[dict[str, Any]], get: Any) -> float:
        values = [get(r) for r in rows]
        values = [v for v in values if v is not None and math.isfinite(v)]
        return statistics.median(values) if values else math.nan

    for service, rate, split in keys:
        rows = {
            v: [
                r
                for r in steps
                if (r["service"], r["target_rate"], r["split"], r["variant"])
                == (service, rate, split, v)
            ]
            for v in variants
        }
        p99_base = med(rows[base], lambda r: r["latency_p99_s"])
        cores_base = med(rows[base], lambda r: r["cores"].get("service"))
        ns_base = med(rows[base], lambda r: r["service_cpu_ns_per_event"])
        for variant, found in rows.items():
            if not found:
                continue
            p99 = med(found, lambda r: r["latency_p99_s"])
            cores = med(found, lambda r: r["cores"].get("service"))
            ns = med(found, lambda r: r["service_cpu_ns_per_event"])
            lines.append(
                f"| {service} | {fmt_rate(rate)} | "
                f"{fmt_rate(found[0]['events_per_message'])} | {variant} | "
                f"{len(found)} | {fmt(med(found, lambda r: r['latency_p50_s']))} | "
                f"{fmt(p99)} | {fmt_rate(med(found, lambda r: r['consumed_rate']))} | "
                f"{fmt(cores)} | {fmt(ns, 1)} | {fmt(p99 / p99_base)} | "
                f"{fmt(cores / cores_base)} | {fmt(ns / ns_base)} | "
                f"{sum(r['sustained'] for r in found)}/{len(found)} |"
            )
    return [*lines, ""]


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    (lat, cons), (cpu, split_ax) = axes
    rates: dict[tuple[str, str], list[dict[str, Any]]] = {}
    splits: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results["steps"]:
        key = (r["service"], r["variant"])
        (rates if r["split"] == 1 else splits).setdefault(key, []).append(r)
    for (service, variant), rows in rates.items():
        rows = sorted(rows, key=lambda r: r["target_rate"])
        x = [r["offered_rate"] for r in rows]
        label = service if variant == "base" else f"{service} ({variant})"
        (line,) = lat.plot(x, [r["latency_p99_s"] for r in rows], "o-", label=label)
        lat.plot(x, [r["latency_p50_s"] for r in rows], "s--", color=line.get_color())
        cons.plot(x, [r["consumed_rate"] for r in rows], "o-", label=label)
        cpu.plot(
            x, [r["cores"].get("service", math.nan) for r in rows], "o-", label=label
        )
    for (service, variant), rows in splits.items():
        ones = [r for r in rates.get((service, variant), []) if r["target_rate"] == 1e7]
        rows = sorted(ones + rows, key=lambda r: -r["events_per_message"])
        x = [r["events_per_message"] for r in rows]
        label = service if variant == "base" else f"{service} ({variant})"
        (line,) = split_ax.plot(
            x, [r["latency_p99_s"] for r in rows], "o-", label=f"{label} p99"
        )
        for r in rows:
            if not r["sustained"]:
                split_ax.plot(r["events_per_message"], r["latency_p99_s"], "kx")
    lat.axhline(LATENCY_LIMIT_S, color="grey", ls=":", label="1.5 s")
    lat.set_ylabel("latency per pulse (s): p99 solid, p50 dashed")
    cons.set_ylabel("consumed events/s")
    steps = [r for r in results["steps"] if r["split"] == 1]
    lo = min((r["offered_rate"] for r in steps), default=1e5)
    hi = max((r["offered_rate"] for r in steps), default=1e7)
    cons.plot([lo, hi], [lo, hi], color="grey", ls=":", label="consumed = offered")
    cons.set_yscale("log")
    cpu.set_ylabel("service CPU (cores)")
    for ax in (lat, cons, cpu):
        ax.set_xscale("log")
        ax.set_xlabel("offered events/s (1 message per pulse per source)")
    split_ax.axhline(LATENCY_LIMIT_S, color="grey", ls=":", label="1.5 s")
    split_ax.set_xscale("log")
    split_ax.set_yscale("log")
    split_ax.set_xlabel("events per message at 1e7 events/s (x: not sustained)")
    split_ax.set_ylabel("p99 latency per pulse (s)")
    for ax in axes.flat:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"livedata end to end, {results['target']} ({results['started']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke run, < 60 s")
    parser.add_argument("--bootstrap", help="use this broker instead of starting one")
    parser.add_argument(
        "--instrument", default="dummy", help="instrument plugin (default: dummy)"
    )
    parser.add_argument(
        "--production",
        action="store_true",
        help="production topology: services without --dev, generator with "
        "--production-topics (default: the dev topics)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes per service, one consumer group (default: 1)",
    )
    parser.add_argument(
        "--service-cpu-quota",
        type=float,
        default=None,
        metavar="CORES",
        help="cap each worker at this many cores (cgroup v1 cpu controller, root)",
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=1,
        help="partitions of each of the services' input topics (default: 1)",
    )
    parser.add_argument(
        "--services", nargs="+", default=list(SERVICE_NAMES), choices=SERVICE_NAMES
    )
    parser.add_argument("--rates", nargs="+", type=float, default=None)
    parser.add_argument("--measure", type=float, default=15.0, help="s per step")
    parser.add_argument("--warmup", type=float, default=4.0, help="s per step")
    parser.add_argument("--drain", type=float, default=15.0)
    parser.add_argument("--pool", type=int, default=4, help="payload pool size")
    parser.add_argument("--pulses-per-message", type=int, default=1)
    parser.add_argument(
        "--split",
        nargs="*",
        type=int,
        default=None,
        help="after the rates: messages per pulse per source to step through at "
        "--split-rate, i.e. smaller messages (default: 10 100 357)",
    )
    parser.add_argument("--split-rate", type=float, default=1e7)
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the services (logs/*.prof)"
    )
    parser.add_argument(
        "--capacity",
        type=float,
        default=1e7,
        help="message size (as a rate) of the unpaced capacity step; 0: skip",
    )
    parser.add_argument("--capacity-s", type=float, default=8.0)
    parser.add_argument(
        "--capacity-split",
        nargs="+",
        type=int,
        default=[1],
        help="messages per pulse per source of the capacity steps",
    )
    parser.add_argument("--no-producer", action="store_true")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="a configuration overlay to compare (repeatable); 'base' is always run",
    )
    parser.add_argument("--no-base", action="store_true")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run all variants this many times, alternating their order",
    )
    parser.add_argument("--stop-after-failures", type=int, default=2)
    parser.add_argument("--label", default=None)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rates = args.rates or [1e6]
        args.measure, args.warmup, args.drain = 3.0, 2.0, 6.0
        args.capacity = 0
        args.split = [] if args.split is None else args.split
        args.label = args.label or "quick"
    args.rates = args.rates or list(FULL_RATES)
    args.split = [10, 100, 357] if args.split is None else args.split
    args.label = args.label or time.strftime("e2e-%Y%m%d-%H%M%S")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    faulthandler.register(signal.SIGUSR1)
    setup_logging()
    args.out.mkdir(parents=True, exist_ok=True)
    log_dir = args.out / "logs" / args.label
    log_dir.mkdir(parents=True, exist_ok=True)
    variants: dict[str, Any] = {} if args.no_base else {"base": None}
    for spec in args.variant:
        name, _, text = spec.partition("=")
        variants[name] = json.loads(text)
    started = time.monotonic()
    broker, bootstrap = broker_for(args.bootstrap)
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M"),
        "target": Target(args.instrument, args.production).describe(),
        "workers": args.workers,
        "partitions": args.partitions,
        "machine": machine_line(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "producer": [],
        "steps": [],
        "capacity": [],
        "highest_sustained": {},
    }
    sampler = Sampler()
    reader = None
    runs: list[ServiceRun] = []
    try:
        target = prepare_target(args.instrument, args.production, log_dir)
        create_topics(bootstrap, target.topics(args.partitions))
        specs = [target.service(s) for s in args.services]
        wanted = [name for spec in specs for name in spec.outputs]
        inputs = sorted({topic for spec in specs for topic in spec.topics})
        reader = OutputReader(bootstrap, inputs, wanted, target)
        reader.start()
        if broker is not None and broker._process is not None:
            sampler.watch("broker", broker._process.pid)
        sampler.start()
        ctx = Context(bootstrap, reader, sampler, log_dir, args, [], target)
        if not args.no_producer:
            top = max(args.rates)
            pulses = 28 if args.quick else 140
            for service in args.services:
                for pool in (0, args.pool) if not args.quick else (args.pool,):
                    results["producer"].append(
                        producer_alone(ctx, service, top, pool, pulses)
                    )
        order = list(variants.items())
        for repeat in range(args.repeat):
            # ABBA...: alternate the order so drift in the machine's load
            # does not favour one variant.
            cycle = order if repeat % 2 == 0 else order[::-1]
            for service, (variant, overrides) in (
                (s, v) for s in args.services for v in cycle
            ):
                run = ServiceRun(ctx, service, variant, overrides, repeat)
                runs.append(run)
                run.start()
                plan = [[(rate, 1) for rate in sorted(args.rates)]]
                plan.append([(args.split_rate, k) for k in sorted(args.split)])
                for sequence in plan:
                    failures = 0
                    for rate, split in sequence:
                        if failures >= args.stop_after_failures:
                            break
                        step = run_step(
                            ctx,
                            run,
                            rate,
                            split,
                            measure_s=args.measure,
                            warmup_s=args.warmup,
                        )
                        step["repeat"] = repeat
                        results["steps"].append(step)
                        failures = 0 if step["sustained"] else failures + 1
                for split in args.capacity_split if args.capacity else ():
                    results["capacity"].append(
                        run_capacity(ctx, run, args.capacity, split)
                    )
                run.stop()
        for service in args.services:
            best: dict[str, float] = {}
            for variant in variants:
                ok = [
                    r["target_rate"]
                    for r in results["steps"]
                    if r["service"] == service
                    and r["variant"] == variant
                    and r["split"] == 1
                    and r["sustained"]
                ]
                best[variant] = max(ok) if ok else 0.0
            results["highest_sustained"][service] = best
    finally:
        for run in runs:
            run.stop()
        if reader is not None:
            reader.close()
        sampler.close()
        if broker is not None:
            broker.close()
    results["wall_s"] = time.monotonic() - started
    text = markdown(results)
    (args.out / f"{args.label}.md").write_text(text)
    (args.out / f"{args.label}.json").write_text(json.dumps(results, indent=1))
    plot(results, args.out / f"{args.label}.png")
    print(text)
    print(f"wall time {results['wall_s']:.0f} s; plot {args.out / args.label}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
