"""Helpers for the fault tests: a monitor pulse producer that counts deliveries.

The tests produce themselves, rather than through ``fake_monitors``, so that
they know exactly how many events the broker acknowledged (delivery
callbacks), which is what a service can count, even across a broker outage.
The producer is idempotent, so a retry after a lost acknowledgement cannot
duplicate a message in the log.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np
from confluent_kafka import KafkaError, Producer

from ess.livedata.core.payloads import EventBatch
from ess.livedata.kafka.livedata_topics import ServiceReport
from ess.livedata.kafka.schemas.ev44 import encode_ev44
from ess.livedata.protocol import Ledger
from ess.livedata.testing.processes import Program

INSTRUMENT = "dummy"
MONITOR_TOPIC = f"{INSTRUMENT}_beam_monitor"
SERVICE = "monitor_data"
PULSE_NS = round(1e9 / 14)
MS = 1_000_000


class PulseProducer:
    """ev44 pulses of one monitor, every time of arrival inside the default range.

    ``delivered_events`` counts events in messages the broker acknowledged.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        source: str = "monitor1",
        events_per_pulse: int = 100,
        seed: int = 0,
    ) -> None:
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap_servers,
                "enable.idempotence": True,
                "linger.ms": 5,
            },
            # librdkafka's retries during an outage go to logging, not stderr.
            logger=logging.getLogger("pulse-producer"),
        )
        self._source = source
        self._events = events_per_pulse
        self._rng = np.random.default_rng(seed)
        self.produced_events = 0
        self.delivered_events = 0
        self.failed_messages = 0
        self._lock = threading.Lock()

    def _on_delivery(self, error: KafkaError | None, events: int) -> None:
        with self._lock:
            if error is None:
                self.delivered_events += events
            else:
                self.failed_messages += 1

    def pulse(self, pulse_ns: int) -> None:
        """Produce one pulse with data time ``pulse_ns``."""
        toa = self._rng.integers(1 * MS, 70 * MS, self._events, dtype=np.int32)
        batch = EventBatch(
            reference_time=np.array([pulse_ns], dtype=np.int64),
            reference_time_index=np.array([0], dtype=np.int32),
            time_of_arrival=toa,
            pixel_id=np.empty(0, dtype=np.int32),
        )
        payload = encode_ev44(self._source, batch)
        events = self._events

        def on_delivery(error: KafkaError | None, _record: object) -> None:
            self._on_delivery(error, events)

        while True:
            try:
                self._producer.produce(MONITOR_TOPIC, payload, on_delivery=on_delivery)
                break
            except BufferError:
                self._producer.poll(0.1)
        self.produced_events += self._events
        self._producer.poll(0)

    def backlog(self, start_ns: int, pulses: int) -> None:
        """``pulses`` pulses 1/14 s apart from ``start_ns``, as fast as possible."""
        for i in range(pulses):
            self.pulse(start_ns + i * PULSE_NS)

    def live(self, seconds: float, stop: threading.Event | None = None) -> None:
        """Pulses on the wall clock at 14 Hz for ``seconds`` (or until ``stop``)."""
        deadline = time.monotonic() + seconds
        pulse = (time.time_ns() // PULSE_NS + 1) * PULSE_NS
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            delay = (pulse - time.time_ns()) / 1e9
            if delay > 0:
                time.sleep(delay)
            self.pulse(pulse)
            pulse += PULSE_NS

    def flush(self, timeout: float = 60) -> None:
        remaining = self._producer.flush(timeout)
        assert remaining == 0, f"{remaining} messages not delivered in {timeout} s"


class LiveProducerThread(threading.Thread):
    """Runs :meth:`PulseProducer.live` in the background until :meth:`finish`."""

    def __init__(self, producer: PulseProducer) -> None:
        super().__init__(daemon=True)
        self.producer = producer
        self._stop_event = threading.Event()

    def run(self) -> None:
        self.producer.live(3600, self._stop_event)

    def finish(self, flush_timeout: float = 60) -> None:
        self._stop_event.set()
        self.join(10)
        self.producer.flush(flush_timeout)


def start_monitor_service(
    bootstrap_servers: str, log_dir: Path, *args: str, env: dict | None = None
) -> Program:
    log_dir.mkdir(parents=True, exist_ok=True)
    return Program(
        f"ess.livedata.services.{SERVICE}",
        ["--instrument", INSTRUMENT, "--dev", *args],
        bootstrap_servers=bootstrap_servers,
        log_dir=log_dir,
        env=env,
    )


def ledger_of(report: ServiceReport | None, source: str = "monitor1") -> Ledger:
    """The source's ledger in a service heartbeat; empty before the first."""
    ledger = getattr(report.details, "ledger", {}) if report else {}
    return ledger.get(source, Ledger())
