"""One log line per cause per interval, and the next one counts what was left out."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from ess.livedata.core.log_rate import RateLimitFilter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def log(clock: Clock) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through a rate-limited handler into a string."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RateLimitFilter(interval_s=10, monotonic=clock))
    logger = logging.getLogger(f"log_rate_test.{id(out)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)


def test_repeats_within_the_interval_are_counted_in_the_next_line(clock, log):
    logger, out = log
    for second in range(25):
        clock.now = float(second)
        for attempt in range(3):
            logger.error("connect to h:%d failed (after %dms)", 9092, attempt)
    lines = out.getvalue().splitlines()
    assert lines == [
        "connect to h:9092 failed (after 0ms)",
        "connect to h:9092 failed (after 0ms) (29 similar suppressed in the last 10 s)",
        "connect to h:9092 failed (after 0ms) (29 similar suppressed in the last 10 s)",
    ]


def test_each_cause_has_its_own_budget(clock, log):
    logger, out = log
    for _ in range(5):
        logger.warning("broker down")
        logger.warning("disk full")
        logger.error("broker down")  # another level is another cause
    assert out.getvalue().splitlines() == ["broker down", "disk full", "broker down"]


def test_nothing_suppressed_means_no_count(clock, log):
    logger, out = log
    logger.warning("rare fault")
    clock.now = 30.0
    logger.warning("rare fault")
    assert out.getvalue().splitlines() == ["rare fault", "rare fault"]


def test_information_below_warning_is_not_limited(clock, log):
    logger, out = log
    for _ in range(4):
        logger.info("heartbeat")
    assert out.getvalue().splitlines() == ["heartbeat"] * 4
