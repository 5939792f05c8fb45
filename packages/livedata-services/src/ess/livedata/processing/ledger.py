"""Counts ledger: every event received is accounted for exactly once."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class EventLedger:
    """Where the events of one source went.

    ``received == counted + out_of_range + rejected + ignored`` always holds;
    tests and the status heartbeat check it. ``counted`` are events in the
    published result; ``ignored`` arrived while the source was stopped.
    """

    received: int = 0
    counted: int = 0
    out_of_range: int = 0
    rejected: int = 0
    ignored: int = 0

    @property
    def balanced(self) -> bool:
        accounted = self.counted + self.out_of_range + self.rejected + self.ignored
        return self.received == accounted

    def as_dict(self) -> dict[str, int | bool]:
        return {**asdict(self), "balanced": self.balanced}
