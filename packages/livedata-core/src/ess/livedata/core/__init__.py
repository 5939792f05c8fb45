"""Core of livedata: message model, stream mapping, processing loop, plugins.

Core depends on numpy, scipp, pydantic and pluggy only; it never imports Kafka
clients or dashboard libraries, so every host can install it.
"""
