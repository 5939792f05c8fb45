"""The ``odin`` instrument: ESS ODIN (neutron imaging) for livedata."""
