"""How each service's accumulators run the protocol's jobs.

A :class:`~.job_protocol.JobBinding` per service translates a job's start
(its parameters), reset and stop into calls on that service's accumulators,
and picks the job's outputs from what they produced. Everything else about
jobs is :class:`~.job_protocol.JobProtocolProcessor`'s.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import scipp as sc
from pydantic import ValidationError

from ess.livedata.core.commands import (
    Reset,
    SetToaBinning,
    Start,
    Stop,
    validation_summary,
)
from ess.livedata.core.detector_commands import MAX_ROIS, RemoveRoi, SetRoi
from ess.livedata.core.detector_commands import Polygon as PolygonShape
from ess.livedata.core.detector_commands import Rectangle as RectangleShape
from ess.livedata.core.job_commands import StartJob, StopJob
from ess.livedata.core.log_values import HistoryCaps
from ess.livedata.core.plugins import LoadedInstrument
from ess.livedata.core.timeseries_commands import SetHistoryCaps
from ess.livedata.core.view_specs import AREA_VIEW, ToaEdges, area_view_name
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.protocol import (
    DetectorOutputs,
    MonitorOutputs,
    RoiColumns,
    RoiGeometry,
    ServiceName,
    polygons_from_columns,
    rectangles_from_columns,
)

from .commanding import CommandRejected
from .detectors import DetectorProcessor
from .job_protocol import Job, JobProtocolProcessor
from .jobs import JobProcessor, JobState
from .monitors import MonitorProcessor
from .outputs import view_output
from .timeseries import TimeseriesProcessor


def toa_binning(target: str, edges: ToaEdges) -> SetToaBinning:
    """The accumulators' binning of a job's ``toa_edges``."""
    try:
        return SetToaBinning(
            target=target,
            toa_min=edges.start,
            toa_max=edges.stop,
            bins=edges.num_bins,
            unit=edges.unit,
        )
    except ValidationError as error:
        messages = "; ".join(e["msg"] for e in error.errors())
        raise CommandRejected(f"toa_edges: {messages}") from None


def with_totals(
    outputs: dict[str, sc.DataArray], current: str, cumulative: str
) -> dict[str, sc.DataArray]:
    """``outputs`` plus the facility's 0-d totals of a current and cumulative
    spectrum (``counts_total``, ``counts_total_cumulative``)."""
    for source, total in (
        (current, MonitorOutputs.COUNTS_TOTAL.name),
        (cumulative, MonitorOutputs.COUNTS_TOTAL_CUMULATIVE.name),
    ):
        if source in outputs:
            data = outputs[source]
            outputs[total] = sc.DataArray(
                data.data.sum(),
                coords={k: v for k, v in data.coords.items() if k in _TIME_COORDS},
            )
    return outputs


_TIME_COORDS = ("start_time", "end_time")


class _PerSource:
    """Jobs whose outputs are their source's (monitors, logs)."""

    def key(self, job: Job) -> str:
        return job.source

    def set_rois(self, job: Job, geometry: RoiGeometry, data: sc.DataArray) -> None:
        raise CommandRejected(f"{job.workflow.name} takes no ROIs")


class MonitorBinding(_PerSource):
    """``monitor_histogram`` jobs: one monitor's spectrum each."""

    def __init__(self, monitors: MonitorProcessor) -> None:
        self._monitors = monitors

    def start(self, job: Job) -> None:
        edges: ToaEdges = job.params.toa_edges  # type: ignore[attr-defined]
        self._monitors.apply(toa_binning(job.source, edges))
        self._monitors.apply(Start(target=job.source))

    def reset(self, job: Job) -> None:
        self._monitors.apply(Reset(target=job.source))

    def stop(self, job: Job, remaining: Sequence[Job]) -> None:
        if not any(j.source == job.source for j in remaining):
            self._monitors.apply(Stop(target=job.source))

    def outputs(
        self, job: Job, produced: Mapping[str, sc.DataArray]
    ) -> dict[str, sc.DataArray]:
        return with_totals(
            dict(produced), MonitorOutputs.CURRENT.name, MonitorOutputs.CUMULATIVE.name
        )


class TimeseriesBinding(_PerSource):
    """``timeseries_data`` jobs: one log's history and latest value each.

    The history is the log's, not the job's: a new job on a log shows what
    the log already has, with the job's caps (the service's by default).
    """

    def __init__(self, logs: TimeseriesProcessor, defaults: HistoryCaps) -> None:
        self._logs = logs
        self._defaults = defaults

    def start(self, job: Job) -> None:
        length_s = job.params.length_s  # type: ignore[attr-defined]
        max_points = job.params.max_points  # type: ignore[attr-defined]
        try:
            caps = SetHistoryCaps(
                target=job.source,
                length_s=length_s or self._defaults.length_ns / 1e9,
                max_points=max_points or self._defaults.max_points,
            )
        except ValidationError as error:
            raise CommandRejected(validation_summary(error)) from None
        self._logs.apply(caps)

    def reset(self, job: Job) -> None:
        self._logs.apply(Reset(target=job.source))

    def stop(self, job: Job, remaining: Sequence[Job]) -> None:
        """The log keeps its history for the next job on it."""

    def outputs(
        self, job: Job, produced: Mapping[str, sc.DataArray]
    ) -> dict[str, sc.DataArray]:
        return dict(produced)


class DetectorBinding:
    """``{bank}_{view}`` jobs: one view of one bank each, and ``{camera}_xy``
    jobs: an area detector's image.

    The views of a bank share its accumulation (one pass over the events for
    all of them): binning and reset of one view job apply to the bank. Each
    view job gets its view's image, the bank's spectra and the spectra of
    its own ROIs, whose indices (0-7, as the facility's) are kept apart from
    other views' in the bank's ROI table. An area detector's image has no
    TOA: its job takes no binning and no ROIs, and its totals are the
    image's.
    """

    _ROIS_PER_VIEW = 8

    def __init__(
        self,
        banks: DetectorProcessor,
        views: Mapping[str, tuple[str, str]],
        roi_views: Collection[str],
    ) -> None:
        """``views``: workflow name -> (bank or area detector, view);
        ``roi_views``: the workflows that take ROIs."""
        self._banks = banks
        self._views = dict(views)
        self._roi_views = frozenset(roi_views)
        self._rois: dict[tuple[str, str], dict[RoiGeometry, sc.DataArray]] = {}

    def _view(self, job: Job) -> tuple[str, str]:
        return self._views[job.workflow.name]

    def key(self, job: Job) -> str:
        return job.source

    def start(self, job: Job) -> None:
        edges: ToaEdges | None = getattr(job.params, "toa_edges", None)
        if edges is not None:  # area detectors have no TOA
            self._banks.apply(toa_binning(job.source, edges))

    def reset(self, job: Job) -> None:
        self._banks.apply(Reset(target=job.source))

    def stop(self, job: Job, remaining: Sequence[Job]) -> None:
        if job.workflow.name not in self._roi_views:
            return
        view = self._view(job)
        for geometry in list(self._rois.get(view, {})):
            self._replace_rois(view, geometry, {})
        self._rois.pop(view, None)

    def outputs(
        self, job: Job, produced: Mapping[str, sc.DataArray]
    ) -> dict[str, sc.DataArray]:
        bank, view = self._view(job)
        outputs: dict[str, sc.DataArray] = {}
        for name in (DetectorOutputs.CURRENT.name, DetectorOutputs.CUMULATIVE.name):
            image = produced.get(view_output(view, name))
            if image is not None:
                outputs[name] = image
        for name in (
            DetectorOutputs.TOA_CURRENT.name,
            DetectorOutputs.TOA_CUMULATIVE.name,
        ):
            if name in produced:
                outputs[name] = produced[name]
        outputs.update(self._roi_spectra((bank, view), produced))
        window = produced.get(DetectorOutputs.TOA_CURRENT.name)
        for geometry, readback in self._rois.get((bank, view), {}).items():
            echoed = readback.copy(deep=False)
            if window is not None:
                for coord in _TIME_COORDS:
                    echoed.coords[coord] = window.coords[coord]
            outputs[geometry.value] = echoed
        if DetectorOutputs.TOA_CURRENT.name in outputs:
            totals = DetectorOutputs.TOA_CURRENT, DetectorOutputs.TOA_CUMULATIVE
        else:
            totals = DetectorOutputs.CURRENT, DetectorOutputs.CUMULATIVE
        return with_totals(outputs, totals[0].name, totals[1].name)

    def _roi_spectra(
        self, view: tuple[str, str], produced: Mapping[str, sc.DataArray]
    ) -> dict[str, sc.DataArray]:
        """This view's rows of the bank's ROI spectra, with its own indices.

        A view without ROIs has no rows; asking for its offset would reject
        the views of a bank beyond those that can hold ROIs."""
        if not self._rois.get(view):
            return {}
        offset = self._offset(view)
        outputs = {}
        for name in (
            DetectorOutputs.ROI_SPECTRA_CURRENT.name,
            DetectorOutputs.ROI_SPECTRA_CUMULATIVE.name,
        ):
            spectra = produced.get(name)
            if spectra is None:
                continue
            rois = spectra.coords["roi"].values
            mine = (rois >= offset) & (rois < offset + self._ROIS_PER_VIEW)
            if not mine.any():
                continue
            # Range slices keep dim and coord ``roi`` even for a single row.
            rows = sc.concat(
                [spectra["roi", int(i) : int(i) + 1] for i in np.flatnonzero(mine)],
                "roi",
            )
            rows.coords["roi"] -= sc.scalar(offset, dtype="int32", unit="")
            outputs[name] = rows
        return outputs

    def _offset(self, view: tuple[str, str]) -> int:
        bank, name = view
        views = [v for b, v in self._views.values() if b == bank]
        offset = views.index(name) * self._ROIS_PER_VIEW
        if offset + self._ROIS_PER_VIEW > MAX_ROIS:
            raise CommandRejected(
                f"ROIs are kept on at most {MAX_ROIS // self._ROIS_PER_VIEW} views"
                f" of bank {bank}"
            )
        return offset

    def set_rois(self, job: Job, geometry: RoiGeometry, data: sc.DataArray) -> None:
        if job.workflow.name not in self._roi_views:
            raise CommandRejected(f"{job.workflow.name} takes no ROIs")
        columns = RoiColumns(
            x=tuple(float(v) for v in data.coords["x"].values),
            y=tuple(float(v) for v in data.coords["y"].values),
            roi_index=tuple(int(v) for v in data.coords["roi_index"].values),
        )
        shapes: dict[int, RectangleShape | PolygonShape]
        if geometry is RoiGeometry.RECTANGLE:
            shapes = {
                i: RectangleShape(
                    x_min=r.x_min, x_max=r.x_max, y_min=r.y_min, y_max=r.y_max
                )
                for i, r in rectangles_from_columns(columns).items()
            }
        else:
            shapes = {
                i: PolygonShape(vertices=p)
                for i, p in polygons_from_columns(columns).items()
            }
        wrong = sorted(set(shapes) - set(geometry.indices))
        if wrong:
            raise CommandRejected(
                f"{geometry} indices must be in {geometry.indices}: {wrong}"
            )
        view = self._view(job)
        self._replace_rois(view, geometry, shapes)
        # An emptied set is echoed too, so readers stop showing the old ROIs.
        self._rois.setdefault(view, {})[geometry] = data.drop_coords(
            [c for c in data.coords if c not in ("x", "y", "roi_index")]
        )

    def _replace_rois(
        self,
        view: tuple[str, str],
        geometry: RoiGeometry,
        shapes: Mapping[int, RectangleShape | PolygonShape],
    ) -> None:
        bank, name = view
        offset = self._offset(view)
        current = self._banks.rois_of(bank)
        for index in geometry.indices:
            roi = offset + index
            if index in shapes:
                definition = SetRoi(
                    target=bank, view=name, roi=roi, shape=shapes[index]
                )
                # A request repeats the whole set: an unchanged ROI keeps its
                # cumulative spectrum, as setting it anew would restart it.
                if current.get(roi) != definition:
                    self._banks.apply(definition)
            elif roi in current:
                self._banks.apply(RemoveRoi(target=bank, roi=roi))


class ReductionBinding:
    """Reduction jobs: one workflow instance of the data_reduction service each."""

    def __init__(self, jobs: JobProcessor) -> None:
        self._jobs = jobs

    def key(self, job: Job) -> str:
        """The reduction job's id: safe characters, unique per job id."""
        source = re.sub(r"[^A-Za-z0-9_.-]", "_", job.source)[:26]
        return f"{source}.{job.job_id.job_number}"

    def start(self, job: Job) -> None:
        self._jobs.apply(
            StartJob(
                target=self.key(job),
                workflow=job.spec.key,
                sources=(job.source,),
                params=job.params.model_dump(mode="json"),
            )
        )

    def reset(self, job: Job) -> None:
        self._jobs.apply(Reset(target=self.key(job)))

    def stop(self, job: Job, remaining: Sequence[Job]) -> None:
        self._jobs.apply(StopJob(target=self.key(job)))

    def outputs(
        self, job: Job, produced: Mapping[str, sc.DataArray]
    ) -> dict[str, sc.DataArray]:
        state, message = self._jobs.state_of(self.key(job))
        if state is JobState.ERROR:
            job.fail(message)
        else:
            job.warn(message or None)
        return dict(produced)

    def set_rois(self, job: Job, geometry: RoiGeometry, data: sc.DataArray) -> None:
        raise CommandRejected(f"{job.workflow.name} takes no ROIs")


def _specs(loaded: LoadedInstrument, service: ServiceName) -> list[WorkflowSpec]:
    return [s for s in loaded.workflow_specs.values() if s.service == service]


def monitor_jobs(loaded: LoadedInstrument) -> JobProtocolProcessor:
    """monitor_data: a ``monitor_histogram`` job per monitor from the start."""
    monitors = MonitorProcessor(loaded.instrument)
    return JobProtocolProcessor(
        instrument=loaded.name,
        service=ServiceName.MONITOR_DATA,
        specs=_specs(loaded, ServiceName.MONITOR_DATA),
        accumulators=monitors,
        binding=MonitorBinding(monitors),
        default_jobs=True,
    )


def detector_jobs(loaded: LoadedInstrument) -> JobProtocolProcessor:
    """detector_data: a job per view of every bank and per area detector
    from the start."""
    instrument = loaded.instrument
    banks = DetectorProcessor(instrument)
    views = {
        f"{bank.name}_{view.name}": (bank.name, view.name)
        for bank in instrument.detectors
        for view in bank.views
    }
    roi_views = [
        f"{bank.name}_{view.name}"
        for bank in instrument.detectors
        for view in bank.image_views
    ]
    for camera in instrument.area_detectors:
        views[area_view_name(camera.name)] = (camera.name, AREA_VIEW)
    return JobProtocolProcessor(
        instrument=loaded.name,
        service=ServiceName.DETECTOR_DATA,
        specs=_specs(loaded, ServiceName.DETECTOR_DATA),
        accumulators=banks,
        binding=DetectorBinding(banks, views, roi_views),
        default_jobs=True,
    )


def timeseries_jobs(
    loaded: LoadedInstrument, caps: HistoryCaps
) -> JobProtocolProcessor:
    """timeseries: a ``timeseries_data`` job per log from the start."""
    logs = TimeseriesProcessor(loaded.instrument, caps)
    return JobProtocolProcessor(
        instrument=loaded.name,
        service=ServiceName.TIMESERIES,
        specs=_specs(loaded, ServiceName.TIMESERIES),
        accumulators=logs,
        binding=TimeseriesBinding(logs, caps),
        default_jobs=True,
    )


def reduction_jobs(
    loaded: LoadedInstrument, preload: bool = False
) -> JobProtocolProcessor:
    """data_reduction: no job until a ``workflow_config`` starts one;
    ``preload`` imports the workflow factories now
    (:meth:`JobProcessor.load_factories`)."""
    jobs = JobProcessor(loaded)
    if preload:
        jobs.load_factories()
    return JobProtocolProcessor(
        instrument=loaded.name,
        service=ServiceName.DATA_REDUCTION,
        specs=loaded.reduction_specs.values(),
        accumulators=jobs,
        binding=ReductionBinding(jobs),
        default_jobs=False,
    )
