"""The demo's once-a-second summary reads heartbeats through the one reader."""

from ess.livedata.demo.summary import StatusSummary
from ess.livedata.kafka.livedata_topics import LivedataTopic as Topic
from ess.livedata.kafka.livedata_topics import ServiceReport, decode_record
from ess.livedata.kafka.schemas.x5f2 import encode_x5f2
from ess.livedata.testing.messages import heartbeat, service_beat


def report(received: int, messages: int) -> ServiceReport:
    """A monitor_data heartbeat as it arrives from the heartbeat topic."""
    beat = service_beat(
        ledger={"monitor1": {"received": received}},
        counters={"kafka_messages": messages, "messages_rejected": 2},
        data_lag_s=0.25,
    )
    decoded = decode_record(Topic.HEARTBEAT, encode_x5f2(heartbeat(beat)))
    found = ServiceReport.of(decoded)
    assert found is not None
    return found


def test_rates_lag_and_rejections_come_from_two_heartbeats():
    summary = StatusSummary()
    summary.update(report(received=100, messages=1), now=1.0)
    summary.update(report(received=300, messages=5), now=3.0)
    [line] = summary.lines(now=3.5)
    assert line.startswith("monitor_data     running")
    assert "2.0 msg/s" in line
    assert "100 ev/s" in line
    assert "lag  0.25 s" in line
    assert "rejected 2" in line


def test_a_silent_service_is_stale():
    summary = StatusSummary(stale_after_s=6.0)
    summary.update(report(received=0, messages=0), now=0.0)
    [line] = summary.lines(now=7.0)
    assert "STALE" in line
