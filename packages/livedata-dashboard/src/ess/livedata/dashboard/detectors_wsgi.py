"""``LIVEDATA_INSTRUMENT=dummy gunicorn ess.livedata.dashboard.detectors_wsgi:application``.

Serves the detectors dashboard on port 5008 (see ADR 0003).
"""

from .wsgi import DashboardApplication

application = DashboardApplication("detectors")
