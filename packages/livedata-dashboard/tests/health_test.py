import pytest

from ess.livedata.dashboard.health import (
    FORGET_AFTER_S,
    STALE_AFTER_S,
    Level,
    Skipped,
    banners,
    service_row,
    service_rows,
    skipped_text,
)
from ess.livedata.dashboard.store import BrokerHealth, Heartbeat, ServiceHealth
from ess.livedata.protocol import Ledger, ServiceMessage, ServiceState
from ess.livedata.testing.messages import service_beat

NOW = 1_000.0
BROKER_OK = BrokerHealth(reachable=True, checked_s=NOW)


def status(
    service: str = "monitor_data",
    pid: int = 1,
    state: ServiceState = ServiceState.RUNNING,
    received: int = 0,
    **counters: int,
) -> ServiceMessage:
    """A heartbeat of worker ``w{pid}`` with livedata's extra fields."""
    return service_beat(
        f"w{pid}",
        state,
        service,
        counters=counters,
        data_lag_s=0.4,
        ledger={"monitor1": {"received": received, "balanced": True}},
    )


def health(*beats: tuple[ServiceMessage, float]) -> ServiceHealth:
    hb = [Heartbeat(s, t) for s, t in beats]
    return ServiceHealth(hb[-1], hb[-2] if len(hb) > 1 else None)


def test_rates_come_from_counter_differences():
    row = service_row(
        health(
            (status(received=1000, messages_received=100, messages_rejected=1), 990),
            (status(received=5000, messages_received=140, messages_rejected=3), 992),
        ),
        NOW,
    )
    assert row.rates == {
        "messages/s": pytest.approx(20),
        "rejected/s": pytest.approx(1),
        "events/s": pytest.approx(2000),
    }
    assert row.lag_s == pytest.approx(0.4)
    assert row.jobs == 1
    assert row.rejected == 3
    assert row.ledger == {"monitor1": Ledger(received=5000)}


def test_first_heartbeat_has_no_rates():
    row = service_row(health((status(messages_received=1), NOW)), NOW)
    assert set(row.rates.values()) == {None}


def test_stale_after_the_protocols_timeout_unless_stopped():
    assert not service_row(health((status(), NOW - STALE_AFTER_S)), NOW).stale
    row = service_row(health((status(), NOW - STALE_AFTER_S - 1)), NOW)
    assert row.stale
    assert row.age_s == pytest.approx(STALE_AFTER_S + 1)
    stopped = status(state=ServiceState.STOPPED)
    assert not service_row(health((stopped, NOW - 999)), NOW).stale


def test_banner_for_stale_service_and_unreachable_broker_worst_first():
    rows = service_rows({"a": health((status(), NOW - 40))}, NOW)
    found = banners(BrokerHealth(False, NOW, "all brokers down"), rows, [])
    assert [b.level for b in found] == [Level.ERROR, Level.ERROR]
    assert "unreachable" in found[0].text
    assert "all brokers down" in found[0].text
    assert "stale" in found[1].text
    assert "40 s" in found[1].text


def test_missing_expected_service_and_connecting():
    found = banners(BrokerHealth(False, 0.0), [], ["monitor_data"])
    assert [b.level for b in found] == [Level.WARNING, Level.INFO]
    assert "monitor_data" in found[0].text
    assert "Connecting" in found[1].text


def test_all_fresh_means_no_banner():
    rows = service_rows({"a": health((status(), NOW - 1))}, NOW)
    assert banners(BROKER_OK, rows, ["monitor_data"]) == []


def test_replaced_instances_are_hidden():
    services = {
        "old-stopped": health((status(pid=1, state=ServiceState.STOPPED), NOW - 20)),
        "old-dead": health((status(pid=2), NOW - FORGET_AFTER_S - 1)),
        "recently-dead": health((status(pid=3), NOW - 30)),
        "new": health((status(pid=4), NOW - 1)),
    }
    rows = service_rows(services, NOW)
    assert [row.instance for row in rows] == ["w3", "w4"]


def test_stopped_service_without_replacement_is_reported():
    rows = service_rows(
        {"a": health((status(state=ServiceState.STOPPED), NOW - 1))}, NOW
    )
    (banner,) = banners(BROKER_OK, rows, ["monitor_data"])
    assert banner.level is Level.WARNING
    assert "stopped" in banner.text


def skipping_status(**extras) -> ServiceMessage:
    return service_beat(
        counters={"events_skipped": 75_000, "windows_skipped": 27},
        **{"max_lag_s": 5.0, "skipping": True, **extras},
    )


def test_skipping_is_read_from_counters_and_details():
    row = service_row(health((skipping_status(), NOW)), NOW)
    assert row.skipped == Skipped(active=True, events=75_000, windows=27, max_lag_s=5)


@pytest.mark.parametrize(
    ("skipped", "text"),
    [
        (Skipped(False, 0, 0, 5.0), "none · max lag 5 s"),
        (Skipped(False, 0, 0, None), "never skips"),
        (Skipped(False, 1, 1, 2.5), "1 event in 1 window · max lag 2.5 s"),
        (
            Skipped(True, 75_000, 27, 5.0),
            "skipping now · 75,000 events in 27 windows · max lag 5 s",
        ),
    ],
)
def test_skipped_text_is_never_blank_and_says_none_for_zero(skipped, text):
    assert skipped_text(skipped) == text


def test_a_heartbeat_without_skip_fields_reads_as_never_skipping():
    row = service_row(health((status(), NOW)), NOW)
    assert row.skipped == Skipped(False, 0, 0, None)
    assert skipped_text(row.skipped) == "never skips"


def test_skipping_service_gets_a_warning_banner_until_it_caught_up():
    rows = service_rows({"a": health((skipping_status(), NOW - 1))}, NOW)
    (banner,) = banners(BROKER_OK, rows, ["monitor_data"])
    assert banner.level is Level.WARNING
    assert "monitor_data is falling behind" in banner.text
    assert "75,000 events skipped" in banner.text
    caught_up = skipping_status(skipping=False)
    rows = service_rows({"a": health((caught_up, NOW - 1))}, NOW)
    assert banners(BROKER_OK, rows, ["monitor_data"]) == []
