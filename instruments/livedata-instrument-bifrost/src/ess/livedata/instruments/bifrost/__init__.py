"""The ``bifrost`` instrument: ESS BIFROST (indirect-geometry spectroscopy) for livedata."""
