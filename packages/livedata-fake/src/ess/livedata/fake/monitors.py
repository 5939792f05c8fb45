"""Fake beam monitors: ev44 events or da00 spectra, one message per pulse.

The load-test options of :mod:`.detectors` (:class:`~.detectors.LoadOptions`)
apply here too: several pulses per message (one da00 spectrum then covers
them all), a pulse split into several ev44 messages, faster than real time,
and a pool of pre-encoded ev44 messages.
"""

from __future__ import annotations

import argparse
import logging
import threading

import numpy as np
import scipp as sc
from confluent_kafka import Producer

from ess.livedata.core.fake_shapes import ToaShape
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.streams import StreamMapping
from ess.livedata.kafka.schemas.da00 import encode_da00
from ess.livedata.kafka.schemas.ev44 import encode_ev44

from .cli import events_per_pulse
from .detectors import (
    Ev44Template,
    LoadOptions,
    group_batches,
    pulse_groups,
    send_groups,
)
from .pulses import RateLog
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


def monitor_templates(
    source_names: list[str],
    shape: ToaShape,
    n_events: int,
    options: LoadOptions,
    rng: np.random.Generator,
) -> list[list[list[Ev44Template]]]:
    """Pre-encoded ev44 messages, ``[pool entry][monitor][message of the group]``."""
    placeholder = [0] * options.pulses_per_message
    pool = []
    for _ in range(options.payload_pool):
        entry = []
        for name in source_names:
            toa = [sample_toa(shape, n_events, rng) for _ in placeholder]
            batches = group_batches(
                placeholder,
                toa,
                [_EMPTY_PIXELS] * len(toa),
                options.messages_per_pulse,
                0,
            )
            entry.append([Ev44Template(name, b) for b in batches])
        pool.append(entry)
    return pool


def run_monitors(
    args: argparse.Namespace,
    loaded: LoadedInstrument,
    mapping: StreamMapping,
    producer: Producer,
    stop: threading.Event,
) -> None:
    n_events = events_per_pulse(args)
    options = LoadOptions.from_args(args)
    if args.mode != "ev44" and (options.payload_pool or options.messages_per_pulse > 1):
        raise ValueError("a payload pool and split pulses need --mode ev44")
    shape = loaded.fake_data_shapes().monitor_toa
    rng = np.random.default_rng(args.seed)
    keys = [
        mapping.key_for(StreamId(StreamKind.MONITOR_EVENTS, m.name))
        for m in loaded.instrument.monitors
    ]
    pool = monitor_templates(
        [k.source_name for k in keys], shape, n_events, options, rng
    )
    frame_ns = shape.frame_ms * 1e6

    def encode(group: list[int], message_id: int) -> list[list[bytes]]:
        # Pulse by pulse, monitor by monitor: the order tests repeat.
        drawn = [[sample_toa(shape, n_events, rng) for _ in keys] for _ in group]
        payloads = []
        for i, key in enumerate(keys):
            toa = [pulse[i] for pulse in drawn]
            if args.mode == "ev44":
                batches = group_batches(
                    group,
                    toa,
                    [_EMPTY_PIXELS] * len(toa),
                    options.messages_per_pulse,
                    message_id,
                )
                payloads.append([encode_ev44(key.source_name, b) for b in batches])
            else:
                # One spectrum per group, stamped with its first pulse.
                spectrum = monitor_payload(
                    args.mode,
                    key.source_name,
                    group[0],
                    np.concatenate(toa),
                    message_id,
                    frame_ns,
                )
                payloads.append([spectrum])
        return payloads

    rate = RateLog(f"fake_monitors ({args.mode})")
    groups = pulse_groups(
        stop, args.pulses, options.pulses_per_message, options.speedup
    )
    send_groups(
        producer,
        [k.topic for k in keys],
        groups,
        pool,
        encode,
        rate,
        n_events * len(keys),
        options.messages_per_pulse,
    )
    logger.info("sent %d messages with %d events", rate.messages, rate.events)
