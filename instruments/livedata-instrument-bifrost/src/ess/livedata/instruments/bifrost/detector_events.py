"""The window's ev44 batches of the unified detector as essspectroscopy's
input: the ``NXevent_data`` it reads from a run file. Shared by the Q maps
and the ratemeter."""

from __future__ import annotations

from typing import NewType

import scippnexus as snx

from ess.livedata.reduction.nxevent_data import to_nxevent_data
from ess.reduce.nexus.types import NeXusData, SampleRun

DetectorBatches = NewType("DetectorBatches", list)


def detector_events(batches: DetectorBatches) -> NeXusData[snx.NXdetector, SampleRun]:
    return NeXusData[snx.NXdetector, SampleRun](to_nxevent_data(batches, with_ids=True))
