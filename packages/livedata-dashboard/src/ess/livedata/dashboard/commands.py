"""Sending commands through the process's one producer, and reporting their fate.

A command's outcome is whatever reaches the store first: the broker refusing
delivery, the service's response, or silence. Silence is reported too, since
a service that is down answers nothing.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka import Message as KafkaMessage
from pydantic import BaseModel

from ess.livedata.core.commands import Command, ResponseStatus

from .store import CommandRecord, LiveStore

logger = logging.getLogger(__name__)

RESPONSE_TIMEOUT_S = 10.0
"""After this long without a response a command is reported as unanswered."""


class CommandSender:
    """Sends command bodies to services and records them in the store.

    Parameters
    ----------
    producer:
        Shared by all sessions; confluent-kafka producers are thread-safe.
        Its delivery callbacks run wherever ``producer.poll`` is called (the
        feed thread).
    topic:
        The instrument's ``{instrument}_livedata_commands`` topic.
    """

    def __init__(self, producer: Producer, topic: str, store: LiveStore) -> None:
        self._producer = producer
        self._topic = topic
        self._store = store

    def send(self, service: str, body: BaseModel | dict[str, Any]) -> str:
        """Send ``body`` to ``service``; returns the command id to follow it."""
        if isinstance(body, BaseModel):
            body = body.model_dump(mode="json", exclude_none=True)
        command = Command(service=service, body=body)
        self._store.record_command(command)
        command_id = command.command_id

        def delivered(error: KafkaError | None, _record: KafkaMessage) -> None:
            if error is not None:
                self._store.record_delivery_error(command_id, error.str())

        try:
            self._producer.produce(
                self._topic,
                command.model_dump_json().encode(),
                key=service.encode(),
                on_delivery=delivered,
            )
        except (BufferError, KafkaException) as error:
            self._store.record_delivery_error(command_id, str(error))
        logger.info("sent %s to %s: %s", command_id, service, body)
        return command_id


class Outcome(enum.StrEnum):
    """How a command ended, or that it has not yet."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNDELIVERED = "undelivered"
    UNANSWERED = "unanswered"


@dataclass(frozen=True)
class CommandOutcome:
    outcome: Outcome
    text: str


def describe(record: CommandRecord, now_s: float) -> CommandOutcome:
    """What to tell the user about a command at time ``now_s``."""
    action = record.command.body.get("action", "command")
    service = record.command.service
    response = record.response
    if response is not None:
        if response.status is ResponseStatus.ACCEPTED:
            return CommandOutcome(Outcome.ACCEPTED, f"{action}: accepted by {service}")
        return CommandOutcome(
            Outcome.REJECTED, f"{action}: rejected by {service}: {response.reason}"
        )
    if record.delivery_error:
        return CommandOutcome(
            Outcome.UNDELIVERED,
            f"{action}: not delivered to the broker: {record.delivery_error}",
        )
    waited = now_s - record.sent_s
    if waited > RESPONSE_TIMEOUT_S:
        return CommandOutcome(
            Outcome.UNANSWERED,
            f"{action}: no response from {service} after {waited:.0f} s; "
            "is the service running?",
        )
    return CommandOutcome(Outcome.PENDING, f"{action}: sent, waiting for {service}")
