from ess.livedata.dashboard.health import Banner, Level, ServiceRow, Skipped
from ess.livedata.dashboard.status_strip import StatusStrip, status_html, summary_html
from ess.livedata.dashboard.store import LiveStore

BROKER = "localhost:9092 (KAFKA_BOOTSTRAP_SERVERS)"


def row(skipped: Skipped) -> ServiceRow:
    return ServiceRow(
        service="monitor_data",
        instance="host:1",
        state="running",
        age_s=0.5,
        stale=False,
        jobs=2,
        rates={},
        lag_s=0.4,
        rejected=0,
        ledger={},
        message="",
        skipped=skipped,
    )


def test_row_carries_skip_counts_as_attributes_and_text():
    page = status_html([], [row(Skipped(True, 75_000, 27, 5.0))], BROKER)
    assert "<th>skipped</th>" in page
    assert 'data-skipping="true"' in page
    assert 'data-events-skipped="75000"' in page
    assert 'data-windows-skipped="27"' in page
    assert (
        '<td class="ld-skipped active">'
        "skipping now · 75,000 events in 27 windows · max lag 5 s</td>"
    ) in page


def test_nothing_skipped_reads_none_unhighlighted():
    page = status_html([], [row(Skipped(False, 0, 0, 5.0))], BROKER)
    assert 'data-skipping="false"' in page
    assert 'data-events-skipped="0"' in page
    assert '<td class="ld-skipped">none · max lag 5 s</td>' in page


def test_strip_names_the_broker_the_dashboard_reads():
    strip = StatusStrip(LiveStore(), ["monitor_data"], BROKER)
    assert (
        '<div class="ld-broker">Broker: localhost:9092 (KAFKA_BOOTSTRAP_SERVERS)</div>'
        in strip.detail.object
    )
    assert f"broker {BROKER}" in strip.summary.object


def test_strip_starts_collapsed_to_its_one_line_summary():
    strip = StatusStrip(LiveStore(), ["monitor_data"], BROKER)
    assert strip.view.collapsed
    assert strip.view.objects == [strip.detail]
    assert "<table" not in strip.summary.object


def test_summary_is_healthy_or_the_worst_problem_and_how_many_more():
    assert 'data-healthy="true"' in summary_html([], BROKER)
    assert "Healthy" in summary_html([], BROKER)
    found = [
        Banner(Level.ERROR, "Kafka broker unreachable"),
        Banner(Level.WARNING, "No heartbeat from monitor_data yet"),
    ]
    line = summary_html(found, BROKER)
    assert '<div class="ld-summary error" data-healthy="false">' in line
    assert "Kafka broker unreachable" in line
    assert "(+1 more)" in line
    assert "No heartbeat" not in line
    assert f"broker {BROKER}" in line
