"""Fake data producers: 14 Hz pulses of monitor, detector and log data.

Runnable entry points are ``ess.livedata.services.fake_*``.
"""
