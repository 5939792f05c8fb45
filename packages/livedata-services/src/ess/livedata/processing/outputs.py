"""Naming and stamping of published results.

Every output is self-describing: its name says service, source and output
(``monitor_data/monitor1/cumulative``, built by the service's contract in
``ess.livedata.protocol``) and it carries the data-time window
it covers as ``start_time``/``end_time`` coordinates.
"""

from __future__ import annotations

import scipp as sc

from ess.livedata.core.message import Message, StreamId, StreamKind


def stamp(data: sc.DataArray, start_ns: int, end_ns: int) -> sc.DataArray:
    """Attach the covered data-time window (ns since epoch) as coordinates."""
    data = data.copy(deep=False)
    data.coords["start_time"] = sc.datetime(start_ns, unit="ns")
    data.coords["end_time"] = sc.datetime(end_ns, unit="ns")
    return data


def data_message(
    name: str, timestamp: int, data: sc.DataArray
) -> Message[sc.DataArray]:
    return Message(timestamp, StreamId(StreamKind.LIVEDATA_DATA, name), data)


def view_output(view: str, output: str) -> str:
    """The internal name of a view's image: ``{view}/{output}`` (one source
    accumulates for all its views, so their images are told apart by name)."""
    return f"{view}/{output}"
