"""At most one log line per cause every few seconds, with a count of the rest.

A persistent fault (a broker that went away, a step that fails every time)
would otherwise write a line per retry: librdkafka alone reports a lost
broker several times a second per client. :func:`~.cli.configure_logging`
puts one :class:`RateLimitFilter` on the handler every program logs through,
so each fault shows up once per interval, and the next line it is allowed
says how many were left out.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

RATE_LIMIT_INTERVAL_S = 10.0
"""Shortest time between two log lines of the same cause."""

MAX_CAUSES = 1000
"""Causes remembered at once; quiet ones are forgotten beyond this."""

_NUMBERS = re.compile(r"\d+")


@dataclass
class _Cause:
    shown_at: float
    suppressed: int = 0


def cause_of(record: logging.LogRecord) -> tuple[str, int, str, str]:
    """What makes two records "similar": logger, level, exception type, and
    the message with its numbers masked (counters, timings, ports of retries)."""
    try:
        text = record.getMessage()
    except Exception:  # a bad format string still has a cause
        text = str(record.msg)
    exc_class = record.exc_info[0] if record.exc_info else None
    exc_type = exc_class.__name__ if exc_class is not None else ""
    return record.name, record.levelno, exc_type, _NUMBERS.sub("#", text)


class RateLimitFilter(logging.Filter):
    """Lets through one record per cause every ``interval_s``; counts the rest.

    Records below ``level`` pass unchanged: only faults are limited, not the
    information a program reports in normal operation.
    """

    def __init__(
        self,
        interval_s: float = RATE_LIMIT_INTERVAL_S,
        level: int = logging.WARNING,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._interval_s = interval_s
        self._level = level
        self._monotonic = monotonic
        self._causes: dict[tuple[str, int, str, str], _Cause] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self._level:
            return True
        key = cause_of(record)
        now = self._monotonic()
        with self._lock:
            cause = self._causes.get(key)
            if cause is not None and now - cause.shown_at < self._interval_s:
                cause.suppressed += 1
                return False
            if cause is None and len(self._causes) >= MAX_CAUSES:
                self._forget_quiet(now)
            self._causes[key] = _Cause(shown_at=now)
        if cause is not None and cause.suppressed:
            record.msg = (
                f"{record.getMessage()} ({cause.suppressed} similar suppressed"
                f" in the last {now - cause.shown_at:.0f} s)"
            )
            record.args = None
        return True

    def _forget_quiet(self, now: float) -> None:
        self._causes = {
            key: cause
            for key, cause in self._causes.items()
            if now - cause.shown_at < self._interval_s
        }
