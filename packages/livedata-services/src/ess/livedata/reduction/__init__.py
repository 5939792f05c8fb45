"""Pieces of the ESS reduction packages' live workflows (``reduction`` extra).

Everything here imports essreduce, tof or sciline, so only the reduction
service imports it, and only inside workflow factories: dashboards, fakes and
the histogramming services never do (the isolation tests check it).
"""
