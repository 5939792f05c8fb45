"""Counts ledger: every event received is accounted for exactly once."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ess.livedata.protocol import Ledger


@dataclass
class EventLedger:
    """Where the events of one source went.

    ``received == counted + out_of_range + rejected + ignored + skipped``
    always holds; tests and the status heartbeat check it. ``counted`` are
    events in the published result; ``ignored`` arrived while the source was
    stopped; ``skipped`` arrived in a window the service skipped to catch up
    with live data (back-pressure, see ``max_lag_s``).
    """

    received: int = 0
    counted: int = 0
    out_of_range: int = 0
    rejected: int = 0
    ignored: int = 0
    skipped: int = 0

    def skip(self, n: int) -> None:
        """``n`` events received in a window that was skipped, not processed."""
        self.received += n
        self.skipped += n

    @property
    def balanced(self) -> bool:
        accounted = (
            self.counted + self.out_of_range + self.rejected + self.ignored
        ) + self.skipped
        return self.received == accounted

    def as_status(self) -> Ledger:
        return Ledger(**asdict(self), balanced=self.balanced)
