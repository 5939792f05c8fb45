"""Kafka adapters for livedata: consumer, producer and ESS FlatBuffers schemas."""
