"""Fake beam monitors: ev44 events or da00 spectra, one message per pulse."""

from __future__ import annotations

import argparse
import logging
import threading

import numpy as np
import scipp as sc
from confluent_kafka import Producer

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.streams import StreamMapping
from ess.livedata.kafka.schemas.da00 import encode_da00
from ess.livedata.kafka.schemas.ev44 import encode_ev44

from .cli import events_per_pulse, produce
from .pulses import RateLog, pulses
from .toa import sample_toa

logger = logging.getLogger(__name__)
DA00_BINS = 500
_EMPTY_PIXELS = np.empty(0, dtype=np.int32)


def monitor_payload(
    mode: str,
    source_name: str,
    pulse_ns: int,
    toa: np.ndarray,
    message_id: int,
    frame_ns: float,
) -> bytes:
    """One pulse of one monitor as an ev44 or da00 payload."""
    if mode == "ev44":
        batch = EventBatch(
            reference_time=np.array([pulse_ns], dtype=np.int64),
            reference_time_index=np.array([0], dtype=np.int32),
            time_of_arrival=toa,
            pixel_id=_EMPTY_PIXELS,
            message_id=message_id,
        )
        return encode_ev44(source_name, batch)
    edges = np.linspace(0.0, frame_ns, DA00_BINS + 1)
    counts, _ = np.histogram(toa, bins=edges)
    spectrum = sc.DataArray(
        sc.array(dims=["toa"], values=counts.astype(np.float64), unit="counts"),
        coords={"toa": sc.array(dims=["toa"], values=edges, unit="ns")},
    )
    return encode_da00(source_name, pulse_ns, spectrum)


def run_monitors(
    args: argparse.Namespace,
    loaded: LoadedInstrument,
    mapping: StreamMapping,
    producer: Producer,
    stop: threading.Event,
) -> None:
    n_events = events_per_pulse(args)
    shape = loaded.fake_data_shapes().monitor_toa
    rng = np.random.default_rng(args.seed)
    keys = [
        mapping.key_for(StreamId(StreamKind.MONITOR_EVENTS, m.name))
        for m in loaded.instrument.monitors
    ]
    rate = RateLog(f"fake_monitors ({args.mode})")
    frame_ns = shape.frame_ms * 1e6
    for message_id, pulse in enumerate(pulses(stop, args.pulses)):
        for key in keys:
            toa = sample_toa(shape, n_events, rng)
            payload = monitor_payload(
                args.mode, key.source_name, pulse, toa, message_id, frame_ns
            )
            produce(producer, key.topic, payload)
        producer.poll(0)
        rate.add(len(keys), len(keys) * n_events)
    logger.info("sent %d messages with %d events", rate.messages, rate.events)
