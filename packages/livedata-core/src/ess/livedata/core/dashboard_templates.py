"""First dashboard layouts of an instrument, derived from its streams and specs.

Plain data (the dashboard validates it as its grid model), so instrument
plugins can ship or adjust templates without importing any plotting code.
A grid is ``{"name", "columns", "cells": [{"title", "plotter", "outputs":
[{"workflow", "source", "output"}], "options": {...}}]}``; outputs name a
workflow (``instrument/name/version``), a source and an output, never a job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ess.livedata.protocol import (
    DetectorOutputs,
    MonitorOutputs,
    ServiceName,
    TimeseriesOutputs,
)

from .instrument import Instrument
from .job_sources import allowed_sources
from .view_specs import MONITOR_HISTOGRAM, TIMESERIES_DATA, area_view_name
from .workflow import WorkflowSpec

MONITORS_GRID = "Monitors"
DETECTORS_GRID = "Detectors"
LOGS_GRID = "Logs"
REDUCTION_GRID = "Reduction"

MAX_LOG_PLOTS = 8
"""Logs plotted as time series in the first grid; the table lists them all."""

GridTemplate = dict[str, Any]


def _ref(instrument: Instrument, workflow: str, source: str, output: str) -> dict:
    return {
        "workflow": f"{instrument.name}/{workflow}/1",
        "source": source,
        "output": output,
    }


def _cell(
    title: str, plotter: str, outputs: Iterable[dict], **options: Any
) -> dict[str, Any]:
    return {
        "title": title,
        "plotter": plotter,
        "outputs": list(outputs),
        "options": options,
    }


def monitors_grid(instrument: Instrument) -> GridTemplate:
    """Current and cumulative spectrum of each monitor, and their counts."""
    current = MonitorOutputs.CURRENT.name
    cells = []
    for monitor in instrument.monitors:
        ref = _ref(instrument, MONITOR_HISTOGRAM, monitor.name, current)
        cells.append(_cell(f"{monitor.name} current", "line", [ref]))
        cells.append(
            _cell(f"{monitor.name} cumulative", "line", [ref], window="cumulative")
        )
    totals = [
        _ref(instrument, MONITOR_HISTOGRAM, m.name, MonitorOutputs.COUNTS_TOTAL.name)
        for m in instrument.monitors
    ]
    if totals:
        cells.append(_cell("Monitor counts", "table", totals, rate=True))
    return {"name": MONITORS_GRID, "columns": 2, "cells": cells}


def detectors_grid(instrument: Instrument) -> GridTemplate:
    """Each 2-D view's and camera's cumulative image and each bank's
    cumulative spectrum (3-D views need a slicer no cell has yet)."""
    cells = []
    for bank in instrument.detectors:
        for view in bank.image_views:
            workflow = f"{bank.name}_{view.name}"
            ref = _ref(instrument, workflow, bank.name, DetectorOutputs.CURRENT.name)
            cells.append(
                _cell(
                    view.title or workflow,
                    "image",
                    [ref],
                    window="cumulative",
                    color_scale="log",
                )
            )
        if bank.views:
            first = f"{bank.name}_{bank.views[0].name}"
            toa = _ref(instrument, first, bank.name, DetectorOutputs.TOA_CURRENT.name)
            cells.append(
                _cell(
                    f"{bank.name} TOA spectrum",
                    "line",
                    [toa],
                    window="cumulative",
                    y_scale="log",
                )
            )
    for camera in instrument.area_detectors:
        workflow = area_view_name(camera.name)
        ref = _ref(instrument, workflow, camera.name, DetectorOutputs.CURRENT.name)
        cells.append(_cell(camera.name, "image", [ref], window="cumulative"))
    return {"name": DETECTORS_GRID, "columns": 2, "cells": cells}


def logs_grid(instrument: Instrument) -> GridTemplate:
    """The histories of the first logs, and the newest value of every log."""
    history = TimeseriesOutputs.HISTORY.name
    cells = [
        _cell(
            log.title or log.name,
            "timeseries",
            [_ref(instrument, TIMESERIES_DATA, log.name, history)],
        )
        for log in instrument.logs[:MAX_LOG_PLOTS]
    ]
    latest = [
        _ref(instrument, TIMESERIES_DATA, log.name, TimeseriesOutputs.LATEST.name)
        for log in instrument.logs
    ]
    if latest:
        cells.append(_cell("Latest values", "table", latest))
    return {"name": LOGS_GRID, "columns": 2, "cells": cells}


def reduction_grid(
    instrument: Instrument, specs: Mapping[str, WorkflowSpec]
) -> GridTemplate:
    """Every output of every reduction workflow, on its first source."""
    cells = []
    for spec in specs.values():
        sources = list(allowed_sources(instrument, spec))
        if spec.service is not ServiceName.DATA_REDUCTION or not sources:
            continue
        for output in spec.output_specs:
            if "{" in output.name:
                continue  # a family of outputs, named per result
            ref = {
                "workflow": f"{instrument.name}/{spec.name}/{spec.version}",
                "source": sources[0],
                "output": output.name,
            }
            title = f"{spec.title}: {output.title or output.name}"
            cells.append(_cell(title, "line", [ref]))
    return {"name": REDUCTION_GRID, "columns": 2, "cells": cells}


def default_grids(
    instrument: Instrument, specs: Mapping[str, WorkflowSpec]
) -> list[GridTemplate]:
    """Monitors, detectors, logs and reduction grids, each if it has cells."""
    grids = [
        monitors_grid(instrument),
        detectors_grid(instrument),
        logs_grid(instrument),
        reduction_grid(instrument, specs),
    ]
    fixed = {MONITORS_GRID, DETECTORS_GRID}  # the entry points open on these
    return [g for g in grids if g["cells"] or g["name"] in fixed]
