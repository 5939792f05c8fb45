"""Turning raw command messages into calls on a service, and responses."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from ess.livedata.core.commands import (
    Command,
    CommandResponse,
    InvalidCommand,
    ResponseStatus,
    parse_command,
)
from ess.livedata.core.message import Message, StreamId, StreamKind

logger = logging.getLogger(__name__)


class CommandRejected(Exception):
    """Raised by a service's command handler to reject with a reason."""


class CommandDispatcher:
    """Parses commands, applies those for ``service``, answers each of them.

    Commands that cannot be parsed are answered (rejected) when they name this
    service or name none; a command for another service is not ours to answer.
    """

    def __init__(
        self, service: str, bodies: TypeAdapter[Any], apply: Callable[[Command], None]
    ) -> None:
        self._service = service
        self._bodies = bodies
        self._apply = apply
        self.accepted = 0
        self.rejected = 0

    def handle(self, message: Message[Any]) -> list[Message[Any]]:
        try:
            command = parse_command(message.value, self._bodies)
        except InvalidCommand as error:
            if error.service not in ("", self._service):
                return []
            return [self._respond(error.command_id, error.reason)]
        if command.service != self._service:
            return []
        try:
            self._apply(command)
        except CommandRejected as error:
            return [self._respond(command.command_id, str(error))]
        self.accepted += 1
        logger.info("accepted command %s: %s", command.command_id, command.body)
        response = CommandResponse(
            command_id=command.command_id,
            service=self._service,
            status=ResponseStatus.ACCEPTED,
        )
        return [self._message(response)]

    def _respond(self, command_id: str, reason: str) -> Message[Any]:
        self.rejected += 1
        logger.warning("rejected command %r: %s", command_id, reason)
        response = CommandResponse(
            command_id=command_id,
            service=self._service,
            status=ResponseStatus.REJECTED,
            reason=reason,
        )
        return self._message(response)

    def _message(self, response: CommandResponse) -> Message[Any]:
        stream = StreamId(StreamKind.LIVEDATA_RESPONSES, self._service)
        return Message(response.timestamp, stream, response)

    def counters(self) -> dict[str, int]:
        """``commands_accepted`` and ``commands_rejected``, fields of every
        :class:`~ess.livedata.protocol.ServiceDetails`."""
        return {"commands_accepted": self.accepted, "commands_rejected": self.rejected}
