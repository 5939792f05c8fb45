"""``LIVEDATA_INSTRUMENT=dummy gunicorn ess.livedata.dashboard.reduction_wsgi:application``.

Serves the reduction dashboard on port 5009 (see ADR 0003).
"""

from .wsgi import DashboardApplication

application = DashboardApplication("reduction")
