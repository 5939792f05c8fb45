"""A compact once-a-second summary of what every service reports."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ess.livedata.kafka.livedata_topics import ServiceReport


def _events(status: ServiceReport) -> int:
    """Events received so far, from the service's counts ledger."""
    ledger = getattr(status.details, "ledger", {})
    return sum(entry.received for entry in ledger.values())


@dataclass
class _Seen:
    status: ServiceReport
    at: float
    previous: ServiceReport | None = None
    previous_at: float = 0.0


@dataclass
class StatusSummary:
    """Turns heartbeats into one line per service: state, rates, lag."""

    stale_after_s: float = 6.0
    _services: dict[str, _Seen] = field(default_factory=dict)

    def update(self, status: ServiceReport, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        key = status.service_id
        seen = self._services.get(key)
        if seen is None:
            self._services[key] = _Seen(status, now)
        else:
            self._services[key] = _Seen(status, now, seen.status, seen.at)

    def lines(self, now: float | None = None) -> list[str]:
        now = time.monotonic() if now is None else now
        return [self._line(seen, now) for _, seen in sorted(self._services.items())]

    def _line(self, seen: _Seen, now: float) -> str:
        status = seen.status
        age = now - seen.at
        state = "STALE" if age > self.stale_after_s else status.state.value
        rate = ""
        if seen.previous is not None and seen.at > seen.previous_at:
            dt = seen.at - seen.previous_at
            received = status.counters.get(
                "kafka_messages", 0
            ) - seen.previous.counters.get("kafka_messages", 0)
            events = _events(status) - _events(seen.previous)
            rate = f"{received / dt:7.1f} msg/s {events / dt:9.3g} ev/s"
        lag = status.details.data_lag_s
        lag_text = f"lag {lag:5.2f} s" if isinstance(lag, int | float) else "lag   n/a"
        rejected = status.counters.get("messages_rejected", 0)
        return (
            f"{status.service:<16} {state:<8} {rate:>27}  {lag_text}  "
            f"rejected {rejected}  heartbeat {age:4.1f} s ago"
        )
