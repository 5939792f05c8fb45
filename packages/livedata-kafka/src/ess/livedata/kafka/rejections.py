"""Counting and logging bad input without flooding the log."""

from __future__ import annotations

import logging
from collections import Counter

from .schemas.errors import DecodeError

logger = logging.getLogger(__name__)


class RejectionLog:
    """Counts rejections by reason and logs the first few of each, then 1 in N.

    A stream of garbage must not turn into a stream of log lines, but every
    rejected message is counted and the counts reach the status heartbeat.
    """

    def __init__(self, first: int = 5, every: int = 1000) -> None:
        self._first = first
        self._every = every
        self.counts: Counter[str] = Counter()

    def reject(self, error: DecodeError, where: str) -> None:
        self.counts[error.reason] += 1
        n = self.counts[error.reason]
        if n <= self._first or n % self._every == 0:
            logger.warning(
                "rejected message from %s (#%d of this kind): %s", where, n, error
            )

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_counters(self) -> dict[str, int]:
        counters = {f"rejected.{reason}": n for reason, n in self.counts.items()}
        counters["messages_rejected"] = self.total
        return counters
