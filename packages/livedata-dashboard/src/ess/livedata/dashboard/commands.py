"""Sending commands and ROI requests through the process's one producer.

Commands are the facility's :class:`WorkflowConfig` and :class:`JobCommand`
on ``{instrument}_livedata_commands``; every command of one user action shares
one message id, so the :class:`~.responses.ResponseLedger` counts their ACKs
together. ROI requests are da00 messages on ``{instrument}_livedata_roi``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

import scipp as sc
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka import Message as KafkaMessage

from ess.livedata.kafka.livedata_topics import LivedataTopic
from ess.livedata.kafka.schemas.da00 import encode_da00
from ess.livedata.protocol import (
    JobCommand,
    RoiColumns,
    RoiStream,
    WorkflowConfig,
    encode_command,
)

from .store import LiveStore

logger = logging.getLogger(__name__)


def roi_request(columns: RoiColumns, dim: str) -> sc.DataArray:
    """An ROI request's da00 content as the corpus has it: ``signal`` all 1,
    coords ``x``, ``y`` (no unit) and ``roi_index``."""
    n = len(columns.roi_index)
    return sc.DataArray(
        sc.ones(dims=[dim], shape=[n], dtype="int32", unit=""),
        coords={
            "x": sc.array(
                dims=[dim], values=list(columns.x), unit=None, dtype="float64"
            ),
            "y": sc.array(
                dims=[dim], values=list(columns.y), unit=None, dtype="float64"
            ),
            "roi_index": sc.array(
                dims=[dim], values=list(columns.roi_index), unit="", dtype="int32"
            ),
        },
    )


class CommandSender:
    """Sends commands and ROI requests and records them in the store.

    Parameters
    ----------
    producer:
        Shared by all sessions; confluent-kafka producers are thread-safe.
        Its delivery callbacks run wherever ``producer.poll`` is called (the
        feed thread).
    instrument:
        Selects the ``{instrument}_livedata_commands`` and ``_roi`` topics.
    """

    def __init__(self, producer: Producer, instrument: str, store: LiveStore) -> None:
        self._producer = producer
        self._commands_topic = LivedataTopic.COMMANDS.of(instrument)
        self._roi_topic = LivedataTopic.ROI.of(instrument)
        self._store = store

    def send(
        self,
        commands: Sequence[WorkflowConfig | JobCommand],
        action: str,
        expected: int,
    ) -> str:
        """Send ``commands`` under one new message id, expecting ``expected``
        ACKs; returns the message id to follow them."""
        message_id = str(uuid.uuid4())
        ledger = self._store.responses
        ledger.sent(message_id, action, expected)

        def delivered(error: KafkaError | None, _record: KafkaMessage) -> None:
            if error is not None:
                ledger.undelivered(message_id, error.str())

        for command in commands:
            command = command.model_copy(update={"message_id": message_id})
            try:
                self._producer.produce(
                    self._commands_topic,
                    encode_command(command),
                    on_delivery=delivered,
                )
            except (BufferError, KafkaException) as error:
                ledger.undelivered(message_id, str(error))
        logger.info("sent %s (%d commands): %s", message_id, len(commands), action)
        return message_id

    def send_roi(self, stream: RoiStream, columns: RoiColumns) -> None:
        """Replace every ROI of ``stream``'s geometry; empty columns clear them.

        Raises
        ------
        BufferError, KafkaException
            The producer did not take the message.
        """
        data = roi_request(columns, stream.geometry.dim)
        payload = encode_da00(stream.to_source_name(), 0, data)
        self._producer.produce(self._roi_topic, payload)
        logger.info("sent ROIs %s: %d rows", stream.to_source_name(), len(columns.x))
