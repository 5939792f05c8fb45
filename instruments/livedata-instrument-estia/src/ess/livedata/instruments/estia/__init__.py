"""The ``estia`` instrument: ESS ESTIA (reflectometry) for livedata."""
