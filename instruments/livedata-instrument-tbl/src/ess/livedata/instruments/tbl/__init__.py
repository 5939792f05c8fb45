"""The ``tbl`` instrument: the ESS test beamline for livedata."""
