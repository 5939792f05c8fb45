"""Detectors dashboard: the dashboard opened on the detector grid.

Run ``python -m ess.livedata.dashboard.detectors --instrument dummy`` (port
5008), or under gunicorn via :mod:`~ess.livedata.dashboard.detectors_wsgi`.
The views with their ROI tools are the "Detector views" tab.
"""

from __future__ import annotations

from ess.livedata.core.dashboard_templates import DETECTORS_GRID
from ess.livedata.protocol import ServiceName

from .cli import main
from .dashboard_page import opening_on
from .server import Dashboard

build_page = opening_on(DETECTORS_GRID, "Detectors", ServiceName.DETECTOR_DATA)
DASHBOARD = Dashboard("detectors", "Detectors", build_page)

if __name__ == "__main__":
    main(DASHBOARD)
