"""The instrument and topology an end-to-end benchmark runs on.

The default is ``dummy`` on its dev topics (one detector topic, bank names as
source names), which the earlier results in ``benchmarks/RESULTS.md`` use. An
ESS instrument on its production topology (``--instrument dream
--production``) runs the services without ``--dev`` and the load generator
with ``--production-topics``, so the production stream mapping routes every
event: DREAM has one topic per bank, each with source name ``dream``. Topics,
sources and output names come from the plugin's stream mapping and workflow
specs, not from a copy here. Instruments whose pixels come from a geometry file get a stand-in
file with the fake detector ranges (``LIVEDATA_GEOMETRY_FILE``), written once
per run, for the services and the generator alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ess.livedata.core.geometry_files import OVERRIDE_VARIABLE
from ess.livedata.core.message import StreamKind
from ess.livedata.core.plugins import LoadedInstrument, load_instrument
from ess.livedata.core.streams import Topology
from ess.livedata.kafka.livedata_topics import LivedataTopic
from ess.livedata.protocol import DetectorOutputs, MonitorOutputs, ServiceName

PULSE_HZ = 14.0


@dataclass(frozen=True)
class ServiceSpec:
    """What one service consumes and which of its outputs the latency is on."""

    kind: str
    """The load generator's source kind (``loadgen.py``): detectors or monitors."""
    topics: tuple[str, ...]
    sources: tuple[str, ...]
    """Internal stream names: one ev44 message per pulse each."""
    outputs: tuple[str, ...]
    """Per source, the "current" output (``workflow/source/output``) the
    latency is measured on: a monitor's histogram, a bank's spectrum from
    its first view's job (every view's job publishes the bank's spectrum;
    one suffices, and more would count the events twice)."""
    bytes_per_event: int
    control_topics: int
    """livedata's own topics each worker reads whole besides its share of
    the data (one partition each): commands, and ROI for detector_data."""
    other_inputs: tuple[str, ...] = ()
    """Inputs the load generator does not feed, one partition each (the
    area detectors' ad00 topic for detector_data): the range assignor gives
    each to one worker of the group."""


_KINDS = {
    "monitor_data": (
        "monitors",
        StreamKind.MONITOR_EVENTS,
        MonitorOutputs.CURRENT.name,
        4,
        1,
        (),
    ),
    "detector_data": (
        "detectors",
        StreamKind.DETECTOR_EVENTS,
        DetectorOutputs.TOA_CURRENT.name,
        8,
        2,
        (StreamKind.AREA_DETECTOR,),
    ),
}
SERVICE_NAMES = tuple(_KINDS)


@dataclass(frozen=True)
class Target:
    instrument: str = "dummy"
    production: bool = False
    geometry_file: Path | None = None

    @property
    def topology(self) -> Topology:
        return Topology.PRODUCTION if self.production else Topology.DEV

    def service(self, name: str) -> ServiceSpec:
        return _service_spec(self.instrument, self.topology, name)

    def events_per_pulse(self, service: str, rate: float) -> int:
        """Events per pulse per source for ``rate`` events/s over all sources
        (the generator's ``--events-per-pulse``; detector banks split the same
        total by the instrument's shares)."""
        sources = len(self.service(service).sources)
        return max(1, round(rate / sources / PULSE_HZ))

    def topics(self, partitions: int = 1) -> dict[str, int]:
        """Every topic the services read or write, with partition counts:
        ``partitions`` for the services' event topics, one for the rest."""
        loaded = _loaded(self.instrument)
        mapping = loaded.stream_mapping(self.topology)
        topics = {key.topic: 1 for key in mapping.inputs}
        for topic in LivedataTopic:
            topics[topic.of(self.instrument)] = 1
        for service in SERVICE_NAMES:
            for topic in self.service(service).topics:
                topics[topic] = partitions
        return topics

    def service_args(self) -> list[str]:
        return [
            "--instrument",
            self.instrument,
            *([] if self.production else ["--dev"]),
        ]

    def loadgen_args(self) -> list[str]:
        production = ["--production-topics"] if self.production else []
        return ["--instrument", self.instrument, *production]

    def env(self) -> dict[str, str]:
        if self.geometry_file is None:
            return {}
        return {OVERRIDE_VARIABLE: str(self.geometry_file)}

    def describe(self) -> str:
        topology = "production topics" if self.production else "dev topics"
        return f"{self.instrument}, {topology}"


def prepare_target(instrument: str, production: bool, directory: Path) -> Target:
    """The target, with a stand-in geometry file written to ``directory`` if
    the instrument reads its pixels from one."""
    loaded = _loaded(instrument)
    if loaded.instrument.geometry_files is None:
        return Target(instrument, production)
    from ess.livedata.ess.stand_in import write_stand_in_geometry

    directory.mkdir(parents=True, exist_ok=True)
    path = write_stand_in_geometry(loaded.instrument, directory / f"{instrument}.nxs")
    return Target(instrument, production, path)


DUMMY = Target()


@cache
def _loaded(instrument: str) -> LoadedInstrument:
    return load_instrument(instrument)


@cache
def _service_spec(instrument: str, topology: Topology, service: str) -> ServiceSpec:
    kind, stream_kind, output, bytes_per_event, control_topics, others = _KINDS[service]
    loaded = _loaded(instrument)
    mapping = loaded.stream_mapping(topology)
    sources = tuple(s.name for s in mapping.streams(stream_kind))
    return ServiceSpec(
        kind=kind,
        topics=tuple(mapping.input_topics([stream_kind])),
        sources=sources,
        outputs=tuple(
            f"{_first_view(loaded, service, source)}/{source}/{output}"
            for source in sources
        ),
        bytes_per_event=bytes_per_event,
        control_topics=control_topics,
        other_inputs=tuple(mapping.input_topics(others)) if others else (),
    )


def _first_view(loaded: LoadedInstrument, service: str, source: str) -> str:
    """The first view workflow ``service`` runs on ``source``, e.g.
    ``monitor_histogram`` or ``panel_0_xy``."""
    return next(
        spec.name
        for spec in loaded.workflow_specs.values()
        if spec.service is ServiceName(service) and source in spec.sources
    )
