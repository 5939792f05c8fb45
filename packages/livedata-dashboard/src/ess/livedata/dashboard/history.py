"""Recent results of the outputs a cell sums over ``last N s``, bounded.

Only outputs some cell asked for within ``INTEREST_S`` are recorded, each
for at most ``MAX_AGE_S``, and all together in at most ``MAX_BYTES``
(the oldest entries go first), so memory stays bounded whatever the cells
ask for. Workers of a scaled-out service publish parts of one window under
one timestamp: the newest combination per timestamp is kept, so a window is
counted once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import scipp as sc

from ess.livedata.protocol import ResultKey

MAX_AGE_S = 3600.0
MAX_BYTES = 64 * 1024 * 1024
INTEREST_S = 30.0
"""A cell that stopped asking (its session closed) stops the recording."""


class ResultHistory:
    """Per result key, the results received in the last ``MAX_AGE_S``."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._wanted: dict[tuple[str, str], float] = {}
        # (key, timestamp_ns) -> (received_s, data), oldest first
        self._entries: OrderedDict[tuple[ResultKey, int], tuple[float, sc.DataArray]]
        self._entries = OrderedDict()
        self._bytes = 0

    def add(self, key: ResultKey, timestamp_ns: int, data: sc.DataArray) -> None:
        now = self._clock()
        wanted = (str(key.workflow_id), key.output_name)
        with self._lock:
            if now - self._wanted.get(wanted, float("-inf")) > INTEREST_S:
                return
            entry = (key, timestamp_ns)
            old = self._entries.pop(entry, None)
            if old is not None:
                self._bytes -= old[1].values.nbytes
            self._entries[entry] = (now, data)
            self._bytes += data.values.nbytes
            self._evict(now)

    def since(self, key: ResultKey, since_s: float) -> list[sc.DataArray]:
        """Results of ``key`` received after ``since_s``, oldest first; also
        asks for ``key``'s output to be recorded from now on."""
        with self._lock:
            self._wanted[(str(key.workflow_id), key.output_name)] = self._clock()
            return [
                data
                for (k, _), (received, data) in self._entries.items()
                if k == key and received >= since_s
            ]

    def _evict(self, now: float) -> None:
        while self._entries:
            entry, (received, data) = next(iter(self._entries.items()))
            if self._bytes <= MAX_BYTES and now - received <= MAX_AGE_S:
                return
            del self._entries[entry]
            self._bytes -= data.values.nbytes
