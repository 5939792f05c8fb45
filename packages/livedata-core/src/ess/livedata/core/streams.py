"""Mapping between Kafka (topic, source name) pairs and logical streams.

Two topic structures exist: ``production`` follows the facility's
``{instrument}_{kind}`` scheme with each stream's facility source name, and
``dev`` is the simplified structure the fake producers use: one topic per kind
and the logical stream names as source names.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .instrument import Instrument
from .message import StreamId, StreamKind


class Topology(enum.StrEnum):
    """Which topic structure a service runs against (``--dev`` picks DEV)."""

    DEV = "dev"
    PRODUCTION = "production"


@dataclass(frozen=True, slots=True)
class InputStreamKey:
    """Where a stream arrives: its Kafka topic and the message's source name."""

    topic: str
    source_name: str


LIVEDATA_TOPIC_SUFFIX: Mapping[StreamKind, str] = {
    StreamKind.LIVEDATA_DATA: "livedata_data",
    StreamKind.LIVEDATA_COMMANDS: "livedata_commands",
    StreamKind.LIVEDATA_HEARTBEAT: "livedata_heartbeat",
    StreamKind.LIVEDATA_RESPONSES: "livedata_responses",
    StreamKind.LIVEDATA_NICOS: "livedata_nicos_data",
    StreamKind.LIVEDATA_ROI: "livedata_roi",
}


def livedata_topic(instrument: str, kind: StreamKind) -> str:
    """Name of one of livedata's own topics, e.g. ``dummy_livedata_data``."""
    return f"{instrument}_{LIVEDATA_TOPIC_SUFFIX[kind]}"


@dataclass(frozen=True)
class StreamMapping:
    """Resolves incoming (topic, source_name) pairs and names output topics."""

    instrument: str
    inputs: Mapping[InputStreamKey, StreamId]
    outputs: Mapping[StreamKind, str] = field(default_factory=dict)

    def resolve(self, topic: str, source_name: str) -> StreamId | None:
        """The logical stream, or None when the pair is unknown.

        A key with an empty source name matches any source on its topic; the
        command topic uses it because commands are not tied to a source.
        """
        found = self.inputs.get(InputStreamKey(topic, source_name))
        if found is None:
            found = self.inputs.get(InputStreamKey(topic, ""))
        return found

    def input_topics(self, kinds: Iterable[StreamKind]) -> list[str]:
        """Topics a service must subscribe to for streams of ``kinds``."""
        wanted = set(kinds)
        return sorted({k.topic for k, s in self.inputs.items() if s.kind in wanted})

    def key_for(self, stream: StreamId) -> InputStreamKey:
        """Where ``stream`` is produced: used by fake producers and tests."""
        for key, candidate in self.inputs.items():
            if candidate == stream:
                return key
        raise KeyError(f"stream {stream} is not mapped for {self.instrument!r}")

    def output_topic(self, kind: StreamKind) -> str:
        return self.outputs[kind]

    def streams(self, kind: StreamKind) -> list[StreamId]:
        return [s for s in self.inputs.values() if s.kind == kind]


def default_stream_mapping(instrument: Instrument, topology: Topology) -> StreamMapping:
    """The mapping used unless an instrument plugin provides its own.

    Monitor events and monitor histograms share the beam-monitor topic; the
    schema id of each message tells them apart, so both map to the monitor's
    logical name under two kinds.
    """
    name = instrument.name
    dev = topology is Topology.DEV
    inputs: dict[InputStreamKey, StreamId] = {}
    for bank in instrument.detectors:
        source = bank.name if dev else bank.source_name
        key = InputStreamKey(f"{name}_detector", source)
        inputs[key] = StreamId(StreamKind.DETECTOR_EVENTS, bank.name)
    for camera in instrument.area_detectors:
        source = camera.name if dev else camera.source_name
        key = InputStreamKey(f"{name}_area_detector", source)
        inputs[key] = StreamId(StreamKind.AREA_DETECTOR, camera.name)
    for monitor in instrument.monitors:
        source = monitor.name if dev else monitor.source_name
        key = InputStreamKey(f"{name}_beam_monitor", source)
        inputs[key] = StreamId(StreamKind.MONITOR_EVENTS, monitor.name)
    for log in instrument.logs:
        topic = f"{name}_motion" if dev else f"{name}_{log.topic_kind}"
        source = log.name if dev else log.source_name
        inputs[InputStreamKey(topic, source)] = StreamId(StreamKind.LOG, log.name)
    return with_livedata_topics(name, inputs)


def with_livedata_topics(
    instrument: str, inputs: Mapping[InputStreamKey, StreamId]
) -> StreamMapping:
    """A mapping of ``inputs`` plus livedata's own topics (commands and ROI
    requests in; data, heartbeats, responses and NICOS values out); plugins
    with their own mapping build it here."""
    commands = livedata_topic(instrument, StreamKind.LIVEDATA_COMMANDS)
    every = {
        **inputs,
        InputStreamKey(commands, ""): StreamId(StreamKind.LIVEDATA_COMMANDS, ""),
    }
    outputs = {kind: livedata_topic(instrument, kind) for kind in LIVEDATA_TOPIC_SUFFIX}
    return StreamMapping(instrument=instrument, inputs=every, outputs=outputs)
