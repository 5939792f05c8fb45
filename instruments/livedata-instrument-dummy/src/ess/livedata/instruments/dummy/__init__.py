"""The ``dummy`` instrument: small synthetic banks for demos and tests."""
