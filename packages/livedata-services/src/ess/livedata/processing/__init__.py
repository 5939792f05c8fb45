"""Implementation of livedata's processing services.

The runnable entry points are thin modules in ``ess.livedata.services``.
"""
