"""A local Apache Kafka broker (KRaft) fetched with Maven, for tests and demos.

See ``docs/broker.md``; ``python -m ess.livedata.kafka.local_broker run``
starts one in the foreground.
"""

from .broker import (
    KAFKA_VERSION,
    MAX_MESSAGE_BYTES,
    LocalBrokerError,
    LocalKafkaBroker,
    MissingToolError,
    default_cache_dir,
    fetch_kafka,
)

__all__ = [
    "KAFKA_VERSION",
    "MAX_MESSAGE_BYTES",
    "LocalBrokerError",
    "LocalKafkaBroker",
    "MissingToolError",
    "default_cache_dir",
    "fetch_kafka",
]
