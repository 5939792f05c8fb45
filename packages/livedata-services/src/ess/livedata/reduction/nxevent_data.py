"""A window's ev44 batches as the ``NXevent_data`` the ESS packages load.

essreduce's ``NeXusData[Component, RunType]`` is what it reads from a file's
``NXevent_data``: events binned by pulse (``event_time_zero``), each with its
``event_time_offset`` (ns after its pulse) and, for detectors, ``event_id``,
weights 1 count. Live, the same structure is built from the window's
:class:`~ess.livedata.core.payloads.EventBatch` es, so the packages'
providers run unchanged on live data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipp as sc

from ess.livedata.core.payloads import EventBatch


def to_nxevent_data(batches: Sequence[EventBatch], *, with_ids: bool) -> sc.DataArray:
    """Events of ``batches`` binned by pulse, in arrival order.

    ``with_ids`` keeps ``pixel_id`` as ``event_id`` (detectors); monitors
    have none. No batches give no pulses.
    """
    offsets = np.cumsum([0] + [batch.size for batch in batches])
    begin = np.concatenate(
        [
            np.asarray(batch.reference_time_index, dtype=np.int64) + offset
            for batch, offset in zip(batches, offsets, strict=False)
        ]
        or [np.empty(0, dtype=np.int64)]
    )
    pulses = np.concatenate(
        [np.asarray(b.reference_time, dtype=np.int64) for b in batches]
        or [np.empty(0, dtype=np.int64)]
    )
    toa = _concat([b.time_of_arrival for b in batches])
    events = sc.DataArray(
        sc.ones(sizes={"event": toa.size}, unit="counts", dtype="float64"),
        coords={"event_time_offset": sc.array(dims=["event"], values=toa, unit="ns")},
    )
    if with_ids:
        ids = _concat([b.pixel_id for b in batches])
        events.coords["event_id"] = sc.array(dims=["event"], values=ids, unit=None)
    binned = sc.DataArray(
        sc.bins(
            begin=sc.array(dims=["event_time_zero"], values=begin, unit=None),
            dim="event",
            data=events,
        )
    )
    binned.coords["event_time_zero"] = sc.epoch(unit="ns") + sc.array(
        dims=["event_time_zero"], values=pulses, unit="ns"
    )
    return binned


def _concat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.empty(0, dtype=np.int32)
