"""BIFROST's detector ratemeter: counts in a region, per window and since start.

Imported only by the plugin's factory hook (the reduction service).
essspectroscopy's ``BifrostWorkflow`` groups the window's events by pixel
(``RawDetector``: arc x channel x tube x pixel, its triplets merged); the
region is one arc and an interval of channel x pixel (0..900) over all
three tubes, as the facility's ratemeter. No time of flight is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import NewType

import scipp as sc

from ess.bifrost import BifrostWorkflow
from ess.livedata.core.instrument import Instrument
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.nexus_geometry import geometry_file_path
from ess.livedata.core.prepared_workflow import PreparedWorkflow
from ess.livedata.core.workflow import Workflow
from ess.livedata.reduction.streamed import streamed_workflow
from ess.reduce.nexus.types import Filename, RawDetector, SampleRun
from ess.reduce.streaming import EternalAccumulator, RollingAccumulator
from ess.spectroscopy.types import PreopenNeXusFile

from .detector_events import DetectorBatches, detector_events
from .geometry_file import triplet_names
from .workflows import ArcEnergy, DetectorRatemeterParams, RatemeterRegion

RegionCounts = NewType("RegionCounts", sc.DataArray)
CumulativeRegionCounts = NewType("CumulativeRegionCounts", sc.DataArray)
TARGETS = {
    "detector_region_counts": RegionCounts,
    "detector_region_counts_cumulative": CumulativeRegionCounts,
}
ARCS = tuple(ArcEnergy)


def _count(data: sc.DataArray, region: RatemeterRegion) -> sc.DataArray:
    """Events of the region's arc and channel x pixel interval, all tubes;
    variances equal counts."""
    arc = data["arc", ARCS.index(region.arc)].transpose(["tube", "channel", "length"])
    flat = arc.flatten(dims=["channel", "length"], to="position")
    counts = flat["position", region.pixel_start : region.pixel_stop].sum().copy()
    counts.variances = counts.values
    return sc.DataArray(counts.data)


def region_counts(
    data: RawDetector[SampleRun], region: RatemeterRegion
) -> RegionCounts:
    return RegionCounts(_count(data, region))


def region_counts_since_start(
    data: RawDetector[SampleRun], region: RatemeterRegion
) -> CumulativeRegionCounts:
    """The same count under its own key (an accumulator's key may not feed
    another's): ``StreamProcessor`` sums it over the windows."""
    return CumulativeRegionCounts(_count(data, region))


def detector_ratemeter(
    instrument: Instrument,
    params: DetectorRatemeterParams,
    sources: Sequence[StreamId],
) -> Workflow:
    """The region's counts of the unified detector, built in the background."""
    if [s.name for s in sources] != ["unified_detector"]:
        raise ValueError(f"the ratemeter reads unified_detector only, got {sources}")
    return PreparedWorkflow(partial(_streamed, instrument, params.region))


def _streamed(instrument: Instrument, region: RatemeterRegion) -> Workflow:
    workflow = BifrostWorkflow(detector_names=triplet_names())
    workflow[Filename[SampleRun]] = str(geometry_file_path(instrument.geometry_files))
    workflow[PreopenNeXusFile] = PreopenNeXusFile(True)
    workflow[RatemeterRegion] = region
    for provider in (detector_events, region_counts, region_counts_since_start):
        workflow.insert(provider)
    detector = StreamId(StreamKind.DETECTOR_EVENTS, "unified_detector")
    return streamed_workflow(
        workflow,
        inputs={DetectorBatches: (detector,)},
        outputs=TARGETS,
        accumulators={
            RegionCounts: RollingAccumulator(window=1),
            CumulativeRegionCounts: EternalAccumulator(),
        },
    )
