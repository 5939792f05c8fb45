"""Panel dashboards for livedata: monitors, detectors and reduction.

One process serves many browser sessions from one Kafka consumer: a background
thread keeps the latest results, heartbeats and command responses in a
:class:`~ess.livedata.dashboard.store.LiveStore`, and each session only reads
that store. This module stays empty so that importing the package (e.g. from
the gunicorn hook) costs nothing.
"""
