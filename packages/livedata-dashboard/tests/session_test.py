"""Sessions share the store and nothing else; their pages render."""

import panel as pn
import scipp as sc
from bokeh.document import Document

from ess.livedata.dashboard import monitors
from ess.livedata.protocol import JobAction, parse_command
from ess.livedata.testing.messages import job_beat, job_id, key, service_beat

COMMANDS = "dummy_livedata_commands"


def running(store, clock) -> None:
    """Monitor histogram jobs on both monitors, as heartbeats announce them."""
    for monitor in ("monitor1", "monitor2"):
        store.put_job(job_beat(job_id(monitor)), clock.now)


def spectrum(total: float) -> sc.DataArray:
    return sc.DataArray(
        sc.array(dims=["toa"], values=[total / 2, total / 2], unit="counts"),
        coords={
            "toa": sc.linspace("toa", 0.0, 70.0, 3, unit="ms"),
            "start_time": sc.datetime(999_999_000, unit="ms"),
            "end_time": sc.datetime(1_000_000_000, unit="ms"),
        },
    )


def html_with(view: pn.viewable.Viewable, css_class: str) -> pn.pane.HTML:
    (pane,) = [p for p in view.select(pn.pane.HTML) if css_class in str(p.object)]
    return pane


def open_tab(view: pn.viewable.Viewable) -> pn.viewable.Viewable:
    """What the session's open tab shows (a page holds every tab)."""
    tabs = next(iter(view.select(pn.Tabs)))
    return tabs[tabs.active]


def button(view: pn.viewable.Viewable, name: str) -> pn.widgets.Button:
    (found,) = [b for b in view.select(pn.widgets.Button) if b.label == name]
    return found


def test_sessions_share_no_widgets(backend):
    first = monitors.build_page(backend)
    second = monitors.build_page(backend)
    ids_first = {id(obj) for obj in first.view.select()}
    ids_second = {id(obj) for obj in second.view.select()}
    assert len(ids_first) > 20
    assert ids_first.isdisjoint(ids_second)


def test_each_session_sees_only_its_own_commands(backend, producer, store, clock):
    running(store, clock)
    first = monitors.build_page(backend)
    second = monitors.build_page(backend)
    button(open_tab(first.view), "Reset cumulative").clicks += 1
    first.tick(clock.now)
    second.tick(clock.now)
    commands = [parse_command(v) for v in producer.on(COMMANDS)]
    assert {(c.action, c.job_id.source_name) for c in commands} == {
        (JobAction.RESET, "monitor1"),
        (JobAction.RESET, "monitor2"),
    }
    assert (
        "reset monitor_histogram: sent"
        in html_with(open_tab(first.view), "ld-feedback").object
    )
    assert "reset" not in html_with(open_tab(second.view), "ld-feedback").object


def test_invalid_binning_is_explained_and_not_sent(backend, producer, clock):
    page = monitors.build_page(backend)
    tab = open_tab(page.view)
    (bins,) = [w for w in tab.select(pn.widgets.IntInput) if w.label == "Bins"]
    (toa_max,) = [w for w in tab.select(pn.widgets.FloatInput) if w.label == "TOA max"]
    toa_max.value = -1.0
    button(tab, "Apply TOA binning").clicks += 1
    assert producer.produced == []
    text = html_with(tab, "ld-feedback").object
    assert "not sent" in text
    assert "stop must be greater than start" in text
    bins.value = 50
    toa_max.value = 40.0
    button(tab, "Apply TOA binning").clicks += 1
    configs = [parse_command(v) for v in producer.on(COMMANDS)]
    assert [c.job_id.source_name for c in configs] == ["monitor1", "monitor2"]
    assert configs[0].params["toa_edges"] == {
        "start": 0.0,
        "stop": 40.0,
        "num_bins": 50,
        "unit": "ms",
    }


def test_pages_show_store_content_with_data_age(backend, store, clock):
    clock.now = 1_000_001.5  # end_time is 1_000_000 s
    running(store, clock)
    store.put_result(key(job_id(), "cumulative"), 0, spectrum(1234))
    first = monitors.build_page(backend)
    second = monitors.build_page(backend)
    for page in (first, second):
        page.tick(clock.now)
        (caption,) = [
            p
            for p in page.view.select(pn.pane.HTML)
            if 'data-output="monitor_histogram/monitor1/cumulative"' in str(p.object)
        ]
        assert 'data-total="1234"' in caption.object
        assert "data age 1.5 s" in caption.object


def test_page_renders_to_bokeh(backend, store, clock):
    running(store, clock)
    store.put_result(key(job_id()), 0, spectrum(10))
    page = monitors.build_page(backend)
    page.tick(clock.now)
    root = page.view.get_root(Document())
    assert root is not None
    tab = open_tab(page.view)
    button(tab, "Configure monitor1 current").clicks += 1
    (y_scale,) = [w for w in tab.select(pn.widgets.Select) if w.label == "y scale"]
    y_scale.value = "log"
    button(tab, "Save cell").clicks += 1  # rebuilds the cell with a log axis
    page.tick(clock.now)
    saved = backend.grids.grid("Monitors").cells[0]
    assert (saved.title, saved.options.y_scale) == ("monitor1 current", "log")
    assert len(page.view.get_root(Document()).references()) > 0


def test_every_page_names_the_broker_it_reads(backend):
    page = monitors.build_page(backend)
    strip = html_with(page.view, "ld-broker")
    assert f"Broker: {backend.broker}" in strip.object


def test_a_results_only_tick_redraws_plots_not_the_status_strip(backend, store, clock):
    running(store, clock)
    store.put_service(service_beat(), clock.now)
    store.set_broker(reachable=True)
    page = monitors.build_page(backend)
    page.tick(clock.now)
    strip = html_with(page.view, "ld-summary")
    before = strip.object
    assert 'data-healthy="true"' in before
    clock.now += 45  # the service's heartbeat now stale
    store.put_result(key(job_id(), "cumulative"), 0, spectrum(1234))
    page.tick(clock.now, results_only=True)
    caption = html_with(
        page.view, 'data-output="monitor_histogram/monitor1/cumulative"'
    )
    assert 'data-total="1234"' in caption.object
    assert strip.object == before
    page.tick(clock.now)
    assert strip.object != before
    assert "stale" in strip.object
