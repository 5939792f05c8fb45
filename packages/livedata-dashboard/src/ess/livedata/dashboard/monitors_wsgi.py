"""``LIVEDATA_INSTRUMENT=dummy gunicorn ess.livedata.dashboard.monitors_wsgi:application``.

Serves the monitors dashboard on port 5007 (see ADR 0003).
"""

from .wsgi import DashboardApplication

application = DashboardApplication("monitors")
