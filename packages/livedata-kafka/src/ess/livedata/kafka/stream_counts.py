"""Messages per upstream (topic, source name): the heartbeat's ``stream_stats``.

The facility's services report, in their service heartbeat, how many
messages each (topic, source name) brought in a window, with the logical
stream it maps to (None for pairs the instrument does not map, which are
dropped). NICOS and the facility's dashboard read it to see which streams
are alive.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from ess.livedata.protocol import StreamStat, StreamStats


class StreamCounts:
    """Counts messages per (topic, source name, stream) until taken."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._counts: Counter[tuple[str, str, str | None]] = Counter()
        self._since = monotonic()

    def count(self, topic: str, source_name: str, stream: str | None) -> None:
        self._counts[topic, source_name, stream] += 1

    def take(self) -> StreamStats:
        """The counts since the last take (or creation), which restart."""
        now = self._monotonic()
        counts, self._counts = self._counts, Counter()
        window, self._since = now - self._since, now
        return StreamStats(
            window_seconds=window,
            streams=[
                StreamStat(topic=topic, source_name=source, stream=stream, count=n)
                for (topic, source, stream), n in sorted(
                    counts.items(), key=lambda item: item[0][:2]
                )
            ],
        )
