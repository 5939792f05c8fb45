"""Decoded payload types, independent of the wire format that carried them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipp as sc

from ess.livedata.protocol import RoiStream


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Neutron events of one ev44 message.

    Arrays may be read-only views into the received buffer (zero-copy decode):
    consumers must not modify them in place.

    Parameters
    ----------
    reference_time:
        Pulse times (int64, ns since epoch), one per pulse in the message.
    reference_time_index:
        Index into ``time_of_arrival`` where each pulse's events start (int32).
    time_of_arrival:
        Event time relative to its pulse's reference time (int32, ns).
    pixel_id:
        Detector pixel of each event (int32); empty for beam monitors.
    message_id:
        Producer's message counter, useful to spot gaps.
    """

    reference_time: np.ndarray
    reference_time_index: np.ndarray
    time_of_arrival: np.ndarray
    pixel_id: np.ndarray
    message_id: int = 0

    @property
    def size(self) -> int:
        """Number of events."""
        return int(self.time_of_arrival.size)


@dataclass(frozen=True, slots=True)
class LogSample:
    """One f144 log value; its unit comes from the instrument's declaration."""

    time: int
    value: np.ndarray | float | int


@dataclass(frozen=True, slots=True)
class RoiRequest:
    """An ROI request of ``{instrument}_livedata_roi``: which job and geometry
    it addresses, and its columns (``x``, ``y``, ``roi_index``) as da00 carried
    them. It replaces every ROI of that geometry of the job."""

    stream: RoiStream
    data: sc.DataArray
