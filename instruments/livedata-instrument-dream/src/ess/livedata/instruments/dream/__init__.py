"""The ``dream`` instrument: ESS DREAM (powder diffraction) for livedata."""
