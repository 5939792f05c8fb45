"""The stream mapping of an ESS instrument, from its tables.

ESS production topics do not follow livedata's default scheme: a bank may
have its own topic, several banks may share one source name (DREAM's banks
are all ``dream``, each on its own topic), and log streams use EPICS PV names
on several topics. The mapping therefore keys on (topic, source name) exactly
as the tables list them.
"""

from __future__ import annotations

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.streams import (
    InputStreamKey,
    StreamMapping,
    Topology,
    with_livedata_topics,
)

from .tables import EssTables, Route


def ess_stream_mapping(tables: EssTables, topology: Topology) -> StreamMapping:
    """Production routes from the tables, or the dev routes the fakes use.

    In dev, logs arrive on the dev log topic under their logical names.
    """
    prod = topology is Topology.PRODUCTION
    inputs: dict[InputStreamKey, StreamId] = {}

    def add(route: Route, stream: StreamId) -> None:
        for source in route.sources:
            key = InputStreamKey(route.topic, source)
            if key in inputs:
                raise ValueError(
                    f"{tables.name} {topology}: {key} routes both to "
                    f"{inputs[key]} and to {stream}"
                )
            inputs[key] = stream

    for bank in tables.banks:
        add(
            bank.prod if prod else bank.dev,
            StreamId(StreamKind.DETECTOR_EVENTS, bank.name),
        )
    for monitor in tables.monitors:
        stream = StreamId(StreamKind.MONITOR_EVENTS, monitor.name)
        add(monitor.prod if prod else monitor.dev, stream)
    for log in tables.logs:
        route = (
            Route(log.topic, (log.source,))
            if prod
            else Route(tables.dev_log_topic, (log.name,))
        )
        add(route, StreamId(StreamKind.LOG, log.name))
    return with_livedata_topics(tables.name, inputs)
