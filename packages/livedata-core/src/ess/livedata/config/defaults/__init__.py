"""Packaged default configuration files (``<name>_<env>.yaml``)."""
