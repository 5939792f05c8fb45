"""The dummy's first dashboard grids: the defaults, and a correlation.

Plain data (see :mod:`ess.livedata.core.dashboard_templates`); the
dashboard validates the correlation cell as its grid model.
"""

from __future__ import annotations

from collections.abc import Mapping

from ess.livedata.core.dashboard_templates import (
    MONITORS_GRID,
    GridTemplate,
    default_grids,
)
from ess.livedata.core.instrument import Instrument
from ess.livedata.core.view_specs import MONITOR_HISTOGRAM
from ess.livedata.core.workflow import WorkflowSpec
from ess.livedata.protocol import MonitorOutputs

CORRELATED_MONITOR = "monitor1"
CORRELATED_LOG = "motion1"


def counts_against_motor(instrument: Instrument) -> dict:
    """A monitor's counts per window, histogrammed against a motor position."""
    return {
        "title": f"{CORRELATED_MONITOR} counts against {CORRELATED_LOG}",
        "plotter": "correlation",
        "outputs": [
            {
                "workflow": f"{instrument.name}/{MONITOR_HISTOGRAM}/1",
                "source": CORRELATED_MONITOR,
                "output": MonitorOutputs.COUNTS_TOTAL.name,
            }
        ],
        "correlation": {"x": {"log": CORRELATED_LOG}},
    }


def dummy_grids(
    instrument: Instrument, specs: Mapping[str, WorkflowSpec]
) -> list[GridTemplate]:
    """The default grids, the monitors grid ending with a correlation."""
    grids = default_grids(instrument, specs)
    for grid in grids:
        if grid["name"] == MONITORS_GRID:
            grid["cells"].append(counts_against_motor(instrument))
    return grids
