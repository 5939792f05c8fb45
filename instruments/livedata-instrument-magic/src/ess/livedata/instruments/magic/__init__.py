"""The ``magic`` instrument: ESS MAGIC (single-crystal magnetism diffraction) for livedata."""
