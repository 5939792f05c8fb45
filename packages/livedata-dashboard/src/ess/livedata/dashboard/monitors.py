"""Monitors dashboard: the dashboard opened on the monitors grid.

Run ``python -m ess.livedata.dashboard.monitors --instrument dummy`` (port
5007), or under gunicorn via :mod:`~ess.livedata.dashboard.monitors_wsgi`.
"""

from __future__ import annotations

from ess.livedata.core.dashboard_templates import MONITORS_GRID
from ess.livedata.protocol import ServiceName

from .cli import main
from .dashboard_page import opening_on
from .server import Dashboard

build_page = opening_on(MONITORS_GRID, "Monitors", ServiceName.MONITOR_DATA)
DASHBOARD = Dashboard("monitors", "Monitors", build_page)

if __name__ == "__main__":
    main(DASHBOARD)
