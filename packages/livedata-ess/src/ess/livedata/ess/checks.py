"""Checks an ESS plugin's tests run against its own stream tables.

Each plugin maps dozens to hundreds of f144 logs; these checks say, for all of
them at once, whether the plugin routes every log as its tables say.
"""

from __future__ import annotations

import scipp as sc

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.streams import Topology

from .tables import EssTables


def log_route_problems(loaded: LoadedInstrument, tables: EssTables) -> list[str]:
    """Every log routed as ``tables`` say, as sentences for what is not.

    In production a log arrives on its facility topic under its EPICS source
    name; in dev on the dev log topic under its own name. Each must resolve
    back to itself, and its unit must be one scipp knows.
    """
    problems: list[str] = []
    logs = loaded.instrument.logs
    if [log.name for log in logs] != [table.name for table in tables.logs]:
        problems.append("the instrument's logs are not the tables' logs, in order")
        return problems
    for topology in Topology:
        mapping = loaded.stream_mapping(topology)
        dev = topology is Topology.DEV
        for table in tables.logs:
            stream = StreamId(StreamKind.LOG, table.name)
            key = mapping.key_for(stream)
            expected = (
                (tables.dev_log_topic, table.name)
                if dev
                else (table.topic, table.source)
            )
            if (key.topic, key.source_name) != expected:
                problems.append(f"{topology}: {table.name} on {key} not {expected}")
            if mapping.resolve(key.topic, key.source_name) != stream:
                problems.append(f"{topology}: {key} does not resolve to {table.name}")
    for log in logs:
        if log.unit is None:  # a unitless log (e.g. a switch) is declared so
            continue
        try:
            sc.Unit(log.unit)
        except Exception as error:  # scipp raises its own unit errors
            problems.append(f"{log.name}: unit {log.unit!r} is no unit ({error})")
    return problems
