"""The ``nmx`` instrument: ESS NMX (macromolecular diffraction) for livedata."""
