"""The ``loki`` instrument: ESS LOKI (SANS) for livedata, as an out-of-tree plugin."""
