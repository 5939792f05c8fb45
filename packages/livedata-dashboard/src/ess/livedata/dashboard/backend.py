"""Everything a dashboard process shares between its sessions.

Built once per process, before the server accepts connections, and handed to
each session's page function; there is no global instance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from confluent_kafka import Producer

from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.kafka.clients import make_producer, require_brokers
from ess.livedata.kafka.settings import KafkaSettings

from .commands import CommandSender
from .control import JobControl
from .feed import KafkaFeed
from .grid_model import templates
from .grid_store import GridStore, state_dir
from .store import LiveStore

logger = logging.getLogger(__name__)

COMMAND_DELIVERY_TIMEOUT_MS = 10_000
"""A command the broker has not taken after this long is reported undelivered."""


@dataclass(frozen=True)
class Backend:
    """The process's instrument, store, Kafka feed and job commands."""

    loaded: LoadedInstrument
    store: LiveStore
    sender: CommandSender
    control: JobControl
    feed: KafkaFeed
    producer: Producer
    broker: str
    """The broker read and the variable that names it, shown on every page."""
    grids: GridStore
    """The shared grids and the job configurations sent, kept across restarts."""

    @classmethod
    def start(cls, loaded: LoadedInstrument, settings: KafkaSettings) -> Backend:
        """Create the one consumer and producer of this process and start them.

        Raises
        ------
        BrokerUnavailable
            The broker cannot be reached within the start-up timeout.
        GridStoreError
            The state file is unreadable or invalid.
        """
        grids = GridStore(state_dir(), loaded.name, templates(loaded))
        require_brokers(settings)
        store = LiveStore()
        timeout = {"message.timeout.ms": COMMAND_DELIVERY_TIMEOUT_MS}
        producer = make_producer(
            replace(settings, producer=settings.producer | timeout)
        )
        sender = CommandSender(producer, loaded.name, store)
        control = JobControl(store.jobs, sender, grids.remember_job)

        def tick() -> None:
            producer.poll(0)
            control.enforce()

        feed = KafkaFeed(settings, loaded.name, store, on_tick=tick)
        feed.start()
        broker = settings.describe()
        logger.info(
            "dashboard for %s: downstream %s, group %s",
            loaded.name,
            broker,
            feed.group_id,
        )
        return cls(loaded, store, sender, control, feed, producer, broker, grids)

    def stop(self) -> None:
        """Leave the consumer group and deliver pending commands."""
        self.feed.stop()
        self.producer.flush(2)
