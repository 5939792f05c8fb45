"""A 14 Hz pulse clock on wall time, and rate reporting."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

PULSE_HZ = 14.0
PULSE_NS = round(1e9 / PULSE_HZ)

logger = logging.getLogger(__name__)


def pulses(stop: threading.Event, count: int | None = None) -> Iterator[int]:
    """Yield pulse times (ns since epoch) at 14 Hz, sleeping between them.

    If the producer falls behind, pulses are still emitted for every slot
    (catching up) so the data time never skips; ``count`` bounds the total.
    """
    next_pulse = (time.time_ns() // PULSE_NS + 1) * PULSE_NS
    emitted = 0
    while not stop.is_set() and (count is None or emitted < count):
        delay = (next_pulse - time.time_ns()) / 1e9
        if delay > 0 and stop.wait(delay):
            return
        yield next_pulse
        emitted += 1
        next_pulse += PULSE_NS


@dataclass
class RateLog:
    """Logs messages and events per second about once a second."""

    what: str
    interval_s: float = 1.0
    messages: int = 0
    events: int = 0
    _last: float = field(default_factory=time.monotonic)
    _last_messages: int = 0
    _last_events: int = 0

    def add(self, messages: int, events: int) -> None:
        self.messages += messages
        self.events += events
        now = time.monotonic()
        elapsed = now - self._last
        if elapsed >= self.interval_s:
            logger.info(
                "%s: %.0f msg/s, %.3g events/s (total %d messages, %d events)",
                self.what,
                (self.messages - self._last_messages) / elapsed,
                (self.events - self._last_events) / elapsed,
                self.messages,
                self.events,
            )
            self._last, self._last_messages, self._last_events = (
                now,
                self.messages,
                self.events,
            )
