"""Answers to the commands this dashboard sent, counted per message id.

A service answers each job it acts on (PROTOCOL.md section 5), so a start of
three sources is complete after three ACKs. Answers are feedback only, never
state; a command still short of answers after :data:`EXPIRE_AFTER_S` is
reported as unanswered and later answers no longer change that.
"""

from __future__ import annotations

import enum
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ess.livedata.protocol import Response, ResponseKind

EXPIRE_AFTER_S = 30.0
"""A command not fully answered by then is reported as unanswered."""

MAX_COMMANDS = 1_000
"""Commands (with their answers) remembered for display."""


class Outcome(enum.StrEnum):
    """How a command ended, or that it has not yet."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNDELIVERED = "undelivered"
    UNANSWERED = "unanswered"


@dataclass(frozen=True, slots=True)
class SentCommand:
    """A command (or batch sharing one message id) and its answers so far."""

    message_id: str
    action: str
    """What the user did, e.g. ``start monitor_histogram``."""
    expected: int
    """ACKs that complete it: one per job it addresses."""
    sent_s: float
    delivery_error: str = ""
    answers: tuple[Response, ...] = field(default=())

    @property
    def acks(self) -> int:
        return sum(a.response is ResponseKind.ACK for a in self.answers)

    @property
    def errors(self) -> list[Response]:
        return [a for a in self.answers if a.response is ResponseKind.ERR]

    def outcome(self, now_s: float) -> Outcome:
        if self.errors:
            return Outcome.REJECTED
        if self.delivery_error:
            return Outcome.UNDELIVERED
        if self.acks >= self.expected:
            return Outcome.ACCEPTED
        if now_s - self.sent_s > EXPIRE_AFTER_S:
            return Outcome.UNANSWERED
        return Outcome.PENDING

    def describe(self, now_s: float) -> str:
        """What to tell the user about the command at ``now_s``."""
        outcome = self.outcome(now_s)
        count = f"{self.acks}/{self.expected}"
        if outcome is Outcome.REJECTED:
            reasons = "; ".join(
                f"{e.device}: {e.message or 'no reason given'}" for e in self.errors
            )
            return f"{self.action}: rejected ({reasons})"
        if outcome is Outcome.UNDELIVERED:
            return f"{self.action}: not delivered to the broker: {self.delivery_error}"
        if outcome is Outcome.ACCEPTED:
            return f"{self.action}: accepted ({count} acknowledged)"
        if outcome is Outcome.UNANSWERED:
            return (
                f"{self.action}: {count} acknowledged after "
                f"{EXPIRE_AFTER_S:.0f} s; is the service running?"
            )
        return f"{self.action}: sent, {count} acknowledged"


class ResponseLedger:
    """The commands sent from this process and their answers. Thread-safe."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: OrderedDict[str, SentCommand] = OrderedDict()

    def sent(self, message_id: str, action: str, expected: int) -> None:
        with self._lock:
            self._sent[message_id] = SentCommand(
                message_id, action, expected, self._clock()
            )
            while len(self._sent) > MAX_COMMANDS:
                self._sent.popitem(last=False)

    def undelivered(self, message_id: str, error: str) -> None:
        with self._lock:
            record = self._sent.get(message_id)
            if record is not None:
                self._sent[message_id] = replace(record, delivery_error=error)

    def answer(self, response: Response) -> None:
        """Count an answer to a command from here; others' answers are ignored,
        and so are answers after the command expired."""
        with self._lock:
            record = self._sent.get(response.message_id)
            if record is None or record.outcome(self._clock()) is Outcome.UNANSWERED:
                return
            answers = (*record.answers, response)
            self._sent[response.message_id] = replace(record, answers=answers)

    def get(self, message_id: str) -> SentCommand | None:
        with self._lock:
            return self._sent.get(message_id)
