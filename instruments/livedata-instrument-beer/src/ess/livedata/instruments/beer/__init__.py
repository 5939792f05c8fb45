"""The ``beer`` instrument: ESS BEER (engineering diffraction) for livedata."""
