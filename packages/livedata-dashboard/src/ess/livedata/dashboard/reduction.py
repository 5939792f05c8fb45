"""Reduction dashboard: the dashboard opened on the workflows.

Run ``python -m ess.livedata.dashboard.reduction --instrument dummy`` (port
5009), or under gunicorn via :mod:`~ess.livedata.dashboard.reduction_wsgi`.
"""

from __future__ import annotations

from ess.livedata.protocol import ServiceName

from .cli import main
from .dashboard_page import opening_on
from .server import Dashboard
from .workflows import WORKFLOWS_TAB

build_page = opening_on(WORKFLOWS_TAB, "Reduction", ServiceName.DATA_REDUCTION)
DASHBOARD = Dashboard("reduction", "Reduction", build_page)

if __name__ == "__main__":
    main(DASHBOARD)
