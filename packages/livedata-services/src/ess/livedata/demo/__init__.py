"""One command to see livedata live: broker, fakes, services, dashboards.

``livedata demo --instrument dummy`` or ``python -m ess.livedata.demo``.
"""
