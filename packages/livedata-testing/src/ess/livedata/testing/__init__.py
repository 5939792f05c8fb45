"""Shared test support for livedata distributions.

The pytest plugin :mod:`ess.livedata.testing.kafka` is registered through the
``pytest11`` entry point, so installing this distribution is enough to get a
real Kafka broker in tests.
"""
