"""What the status strip says: per-service rows and the banners above them.

Pure functions of the store's content and the time, so every rule (stale,
rates, unreachable broker) is tested without a browser or a broker.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ess.livedata.kafka.livedata_topics import service_counters, service_details
from ess.livedata.protocol import Ledger, LogLedger, ServiceDetails, ServiceState

from .store import BrokerHealth, Heartbeat, ServiceHealth

STALE_AFTER_S = 30.0
"""A worker without a heartbeat for this long is stale (PROTOCOL.md section 7);
one that reported ``stopped`` never is."""

FORGET_AFTER_S = 600.0
"""Stale instances older than this are hidden when a newer one is alive."""

RATE_COUNTERS = {
    "messages/s": "messages_received",
    "rejected/s": "messages_rejected",
}


class Level(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Banner:
    level: Level
    text: str


@dataclass(frozen=True)
class Skipped:
    """Back-pressure as a heartbeat reports it (see the loop's ``max_lag_s``)."""

    active: bool
    """Skipping windows now: the service is behind by more than ``max_lag_s``."""
    events: int
    windows: int
    max_lag_s: float | None
    """Threshold in effect; None for a service that never skips."""


@dataclass(frozen=True)
class ServiceRow:
    """One service instance as the status strip shows it."""

    service: str
    instance: str
    state: str
    age_s: float
    stale: bool
    jobs: int
    """Jobs the worker holds, as its heartbeat counts them."""
    rates: dict[str, float | None]
    lag_s: float | None
    rejected: int
    ledger: dict[str, Ledger | LogLedger]
    message: str
    skipped: Skipped


def _age(beat: Heartbeat, now_s: float) -> float:
    return max(0.0, now_s - beat.sent_s)


def _is_stale(beat: Heartbeat, now_s: float) -> bool:
    if beat.status.state is ServiceState.STOPPED:
        return False
    return _age(beat, now_s) > STALE_AFTER_S


def _rate(health: ServiceHealth, counter: str) -> float | None:
    """Per-second increase of a monotonic counter between the last two beats."""
    previous = health.previous
    if previous is None:
        return None
    elapsed = health.latest.sent_s - previous.sent_s
    if elapsed <= 0:
        return None
    now = service_counters(health.latest.status)
    before = service_counters(previous.status)
    if counter not in now or counter not in before:
        return None
    return max(0.0, (now[counter] - before[counter]) / elapsed)


def _events_rate(health: ServiceHealth) -> float | None:
    """Events/s received over all sources, from the counts ledgers."""
    previous = health.previous
    if previous is None or health.latest.sent_s <= previous.sent_s:
        return None

    def received(beat: Heartbeat) -> int:
        ledger = _ledger(service_details(beat.status))
        return sum(counts.received for counts in ledger.values())

    elapsed = health.latest.sent_s - previous.sent_s
    return max(0.0, (received(health.latest) - received(previous)) / elapsed)


def _ledger(details: ServiceDetails) -> dict[str, Ledger | LogLedger]:
    """The counts ledger of a service that keeps one, per source."""
    return dict(getattr(details, "ledger", {}))


def _skipped(details: ServiceDetails, counters: Mapping[str, int]) -> Skipped:
    return Skipped(
        active=details.skipping,
        events=counters.get("events_skipped", 0),
        windows=counters.get("windows_skipped", 0),
        max_lag_s=details.max_lag_s,
    )


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def skipped_text(skipped: Skipped) -> str:
    """The status strip's "skipped" cell: never blank, "none" for zero, and
    the threshold, so that "none" is not mistaken for "cannot skip"."""
    if skipped.max_lag_s is None and not skipped.windows:
        return "never skips"
    parts = ["skipping now"] if skipped.active else []
    if skipped.windows:
        events = _plural(skipped.events, "event")
        parts.append(f"{events} in {_plural(skipped.windows, 'window')}")
    else:
        parts.append("none")
    if skipped.max_lag_s is not None:
        parts.append(f"max lag {skipped.max_lag_s:g} s")
    return " · ".join(parts)


def service_row(health: ServiceHealth, now_s: float) -> ServiceRow:
    status = health.latest.status
    details = service_details(status)
    counters = service_counters(status)
    rates = {label: _rate(health, c) for label, c in RATE_COUNTERS.items()}
    rates["events/s"] = _events_rate(health)
    return ServiceRow(
        service=status.service_name,
        instance=status.worker_id[:8],
        state=str(status.state),
        age_s=_age(health.latest, now_s),
        stale=_is_stale(health.latest, now_s),
        jobs=status.active_job_count,
        rates=rates,
        lag_s=details.data_lag_s,
        rejected=counters.get("messages_rejected", 0),
        ledger=_ledger(details),
        message=status.error or "",
        skipped=_skipped(details, counters),
    )


def _superseded(row: ServiceRow, alive: set[str]) -> bool:
    """An instance that was replaced: stopped, or long dead, while another runs."""
    if row.service not in alive:
        return False
    return row.state == ServiceState.STOPPED or (
        row.stale and row.age_s > FORGET_AFTER_S
    )


def service_rows(
    services: Mapping[str, ServiceHealth], now_s: float
) -> list[ServiceRow]:
    """Rows sorted by service, without instances of restarted services."""
    rows = [service_row(health, now_s) for health in services.values()]
    alive = {
        row.service
        for row in rows
        if not row.stale and row.state != ServiceState.STOPPED
    }
    return sorted(
        (row for row in rows if not _superseded(row, alive)),
        key=lambda row: (row.service, row.instance),
    )


def banners(
    broker: BrokerHealth, rows: Iterable[ServiceRow], expected: Iterable[str]
) -> list[Banner]:
    """Problems worth a line across the page, worst first."""
    found: list[Banner] = []
    if broker.checked_s == 0:
        found.append(Banner(Level.INFO, "Connecting to the Kafka broker..."))
    elif not broker.reachable:
        detail = f" ({broker.error})" if broker.error else ""
        found.append(
            Banner(
                Level.ERROR,
                f"Kafka broker unreachable{detail}: showing the last data received.",
            )
        )
    rows = list(rows)
    seen = {row.service for row in rows}
    for service in expected:
        if service not in seen:
            found.append(
                Banner(
                    Level.WARNING,
                    f"No heartbeat from {service} yet: is the service running?",
                )
            )
    for row in rows:
        if row.state == ServiceState.STOPPED:
            found.append(
                Banner(Level.WARNING, f"{row.service} ({row.instance}) stopped.")
            )
        elif row.stale:
            found.append(
                Banner(
                    Level.ERROR,
                    f"{row.service} ({row.instance}) heartbeat stale: "
                    f"last seen {row.age_s:.0f} s ago.",
                )
            )
        elif row.state == ServiceState.ERROR:
            found.append(
                Banner(Level.ERROR, f"{row.service} reports an error: {row.message}")
            )
        elif row.skipped.active:
            found.append(
                Banner(
                    Level.WARNING,
                    f"{row.service} is falling behind and skips data to catch"
                    f" up: {row.skipped.events:,} events skipped so far.",
                )
            )
    order = {Level.ERROR: 0, Level.WARNING: 1, Level.INFO: 2}
    return sorted(found, key=lambda b: order[b.level])
