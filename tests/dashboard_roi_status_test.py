"""ROIs drawn and read back, the one-line status strip, failure toasts, in
headless Chromium against the real broker and services.

One detectors dashboard, one ``detector_data``, one ``data_reduction`` and the
dummy's fake detectors serve every test of the module, which keeps it inside
the CI budget. Screenshots go to the module's temporary directory; their
paths are printed (``pytest -s``).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_helpers import (
    SLOW_UNDER_LOAD_S,
    caption_total,
    headless_chromium,
    open_dashboard,
    open_tab,
    screenshot,
    unused_port,
    wait_for,
)
from conftest import (
    INSTRUMENT,
    create_instrument_topics,
    forget_livedata_history,
    job_command,
    reduction_partitions,
    wait_until_consuming,
    workflow_config,
)
from playwright.sync_api import Browser, Page

from ess.livedata.protocol import JobState
from ess.livedata.testing.processes import Program
from ess.livedata.testing.readers import LivedataReader

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEW = "panel_0_xy"
IMAGE = f"{VIEW}/panel_0/cumulative"
SPECTRA = f"{VIEW}/panel_0/roi_spectra_cumulative"
SEND = f"Send ROIs of panel_0 {VIEW}"

# ROI layers of the figures as BokehJS holds them: glyph type (Quad: boxes,
# MultiPolygons: polygons), rows in the data source, and whether the line is dashed
# (the job's ROIs) or solid (drawn, not yet sent).
ROI_RENDERERS_JS = """
() => {
  const kinds = {Quad: "box", MultiPolygons: "polygon", Patches: "polygon"};
  const found = [];
  for (const doc of window.Bokeh.documents) {
    for (const model of doc.all_models) {
      const glyph = model.glyph;
      if (glyph == null || model.data_source == null) continue;
      const kind = kinds[glyph.type];
      const color = JSON.stringify(glyph.line_color);
      // Spectra drawn as quads have other colours.
      if (!kind || !(color.includes("red") || color.includes("white"))) continue;
      const data = model.data_source.data;
      const columns = data instanceof Map ? [...data.values()] : Object.values(data);
      found.push({
        kind: kind,
        rows: columns.length ? columns[0].length : 0,
        dashed: JSON.stringify(glyph.line_dash).includes("dashed"),
      });
    }
  }
  return found;
}
"""


# Whether a toolbar icon's button is active, across the shadow roots between.
ACTIVE_JS = """
(icon) => {
  for (let node = icon; node; node = node.parentNode || node.host) {
    if (node.classList && node.classList.contains("bk-active")) return true;
  }
  return false;
}
"""


@dataclass(frozen=True)
class Live:
    url: str
    reader: LivedataReader
    browser: Browser
    artefacts: Path
    bootstrap: str


def accepting(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def live(kafka_broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The services, the fakes, a detectors dashboard and Chromium."""
    bootstrap = kafka_broker.bootstrap_servers
    create_instrument_topics(bootstrap)
    forget_livedata_history(bootstrap)  # the strip is to say healthy
    artefacts = tmp_path_factory.mktemp("dashboard-roi-status")
    reader = LivedataReader(bootstrap, INSTRUMENT)
    programs: list[Program] = []

    def run(module: str, *args: str) -> None:
        programs.append(
            Program(
                module,
                ["--instrument", INSTRUMENT, *args],
                bootstrap_servers=bootstrap,
                log_dir=artefacts,
            )
        )

    try:
        run("ess.livedata.services.detector_data", "--dev")
        run("ess.livedata.services.data_reduction", "--dev")
        wait_until_consuming(reader, "detector_data", partitions=2)
        wait_until_consuming(
            reader, "data_reduction", partitions=reduction_partitions()
        )
        run("ess.livedata.services.fake_detectors", "--events-per-pulse", "500")
        port = unused_port()
        run("ess.livedata.dashboard.detectors", "--port", str(port))
        # Importing the plotting stack takes long on a loaded machine.
        wait_for(lambda: accepting(port), "the dashboard", SLOW_UNDER_LOAD_S)
        with headless_chromium() as browser:
            yield Live(
                f"http://127.0.0.1:{port}/", reader, browser, artefacts, bootstrap
            )
    finally:
        for program in reversed(programs):
            program.stop()
        reader.close()


def session(live: Live) -> Page:
    """A new browser session on the dashboard's detector views (where ROIs
    are drawn), its image already showing."""
    context = live.browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(SLOW_UNDER_LOAD_S * 1000)  # a loaded machine
    page = context.new_page()
    open_dashboard(page, live.url)
    open_tab(page, "Detector views")
    wait_for(
        lambda: caption_total(page, IMAGE),
        "the panel_0 image",
        timeout=SLOW_UNDER_LOAD_S,
    )
    return page


@pytest.fixture
def page(live: Live) -> Iterator[Page]:
    page = session(live)
    try:
        yield page
    finally:
        page.context.close()


def roi_counts(page: Page) -> dict[int, float]:
    """Counts per ROI index in the ROI spectra caption."""
    caption = page.locator(f'.ld-caption[data-output="{SPECTRA}"]')
    if caption.count() == 0:
        return {}
    found = re.findall(r"ROI (\d+) ([\d,]+)", caption.inner_text())
    return {int(i): float(n.replace(",", "")) for i, n in found}


def choose_tool(page: Page, icon: str) -> None:
    """Make the image's ``icon`` tool active; a click on an active one would
    switch it off."""
    button = page.locator(f".bk-tool-icon-{icon}").first
    if not button.evaluate(ACTIVE_JS):
        button.click()


def drag(page: Page, path: list[tuple[float, float]]) -> None:
    """Press, move along ``path`` (fractions of the panel_0 image's canvas)
    and release: one box-select or lasso gesture."""
    canvas = page.locator(".bk-Canvas").first.bounding_box()

    def point(x: float, y: float) -> tuple[float, float]:
        return canvas["x"] + canvas["width"] * x, canvas["y"] + canvas["height"] * y

    page.mouse.move(*point(*path[0]))
    page.mouse.down()
    for x, y in path[1:]:
        page.mouse.move(*point(x, y), steps=6)
    page.mouse.up()


def roi_layers(page: Page) -> set[tuple[str, int, bool]]:
    """(kind, shapes, dashed) of every non-empty ROI layer on the page."""
    return {
        (r["kind"], r["rows"], r["dashed"])
        for r in page.evaluate(ROI_RENDERERS_JS)
        if r["rows"]
    }


def test_drawn_rois_survive_updates_and_the_jobs_rois_come_back_drawn(
    live: Live, page: Page
):
    invalid = page.locator('.ld-feedback [data-outcome="invalid"]')
    no_roi = page.locator(".ld-no-roi").first
    wait_for(no_roi.is_visible, "the no-ROI placeholder")
    screenshot(page, live.artefacts / "detectors-no-roi.png")
    page.get_by_role("button", name=SEND).click()
    wait_for(lambda: invalid.count(), "the nothing-drawn message")
    assert "nothing drawn" in invalid.inner_text()

    # A plain drag draws a box; each stays, solid, through image updates.
    drag(page, [(0.2, 0.25), (0.3, 0.35)])
    wait_for(lambda: ("box", 1, False) in roi_layers(page), "the first box drawn")
    page.wait_for_timeout(3000)  # several image updates
    drag(page, [(0.45, 0.5), (0.55, 0.6)])
    wait_for(lambda: ("box", 2, False) in roi_layers(page), "both boxes drawn")
    choose_tool(page, "lasso-select")
    drag(page, [(0.45, 0.15), (0.6, 0.15), (0.6, 0.3), (0.5, 0.32)])
    wait_for(lambda: ("polygon", 1, False) in roi_layers(page), "the polygon drawn")
    page.wait_for_timeout(3000)  # several image updates
    assert {("box", 2, False), ("polygon", 1, False)} <= roi_layers(page)
    screenshot(page, live.artefacts / "detectors-roi-drawn.png")

    page.get_by_role("button", name=SEND).click()
    live.reader.wait_for(
        lambda: (
            (boxes := live.reader.latest(f"{VIEW}/panel_0/roi_rectangle")) is not None
            and boxes.sizes["bounds"] == 4
            and (polygon := live.reader.latest(f"{VIEW}/panel_0/roi_polygon"))
            is not None
            and set(polygon.coords["roi_index"].values) == {4}
        ),
        timeout=SLOW_UNDER_LOAD_S,
        what="the service to echo both boxes and the polygon",
    )
    readback = page.locator(f'.ld-readback[data-view="{VIEW}"]')
    wait_for(
        lambda: "in the job: 0, 1, 4" in readback.inner_text(),
        f"the job's ROIs on the page ({readback.inner_text()})",
        timeout=SLOW_UNDER_LOAD_S,
    )
    # The job's ROIs are drawn on the image, dashed, next to the drawn ones.
    wait_for(
        lambda: {("box", 2, True), ("polygon", 1, True)} <= roi_layers(page),
        f"the job's ROIs drawn dashed on the image ({roi_layers(page)})",
    )
    assert {("box", 2, False), ("polygon", 1, False)} <= roi_layers(page)
    counts = wait_for(
        lambda: (c := roi_counts(page)) and set(c) == {0, 1, 4} and c,
        "the three ROI spectra",
        timeout=SLOW_UNDER_LOAD_S,
    )
    assert all(n > 0 for n in counts.values()), counts
    assert not no_roi.is_visible()
    screenshot(page, live.artefacts / "detectors-roi-readback.png")

    # Remove all forgets the drawn shapes, and the service echoes the emptied
    # sets: nothing is drawn any more, solid or dashed.
    page.get_by_role("button", name=f"Remove all ROIs of panel_0 {VIEW}").click()
    wait_for(
        lambda: "in the job: none" in readback.inner_text(),
        f"the job's ROIs gone on the page ({readback.inner_text()})",
        timeout=SLOW_UNDER_LOAD_S,
    )
    wait_for(
        lambda: not roi_layers(page),
        f"no ROI left drawn ({roi_layers(page)})",
    )


def test_status_strip_is_one_line_until_clicked(live: Live, page: Page):
    summary = page.locator(".ld-summary")
    try:
        wait_for(
            lambda: summary.get_attribute("data-healthy") == "true",
            "the strip to say healthy",
        )
    except AssertionError as timeout:
        raise AssertionError(f"{timeout}; it says {summary.text_content()}") from None
    assert live.bootstrap in summary.text_content()
    assert summary.bounding_box()["height"] < 40
    table = page.locator("table.ld-services")
    assert not table.is_visible()
    screenshot(page, live.artefacts / "status-strip-collapsed.png")
    summary.click()
    row = page.locator('tr[data-service="detector_data"]')
    wait_for(lambda: table.is_visible() and row.is_visible(), "the service table")
    assert "running" in row.inner_text()
    screenshot(page, live.artefacts / "status-strip-open.png")
    summary.click()
    wait_for(lambda: not table.is_visible(), "the strip to collapse again")


def test_a_failed_job_is_one_toast_in_every_session(live: Live, send_commands):
    pages = [session(live), session(live)]
    try:
        failing = workflow_config("always_fails", "panel_0")
        send_commands(failing)
        live.reader.wait_for(
            lambda: (
                (job := live.reader.view.jobs().get(failing.job_id)) is not None
                and job.state is JobState.ERROR
            ),
            timeout=SLOW_UNDER_LOAD_S,
            what="always_fails in error",
        )
        toasts = [p.locator(".notyf__toast", has_text="always_fails") for p in pages]
        for toast in toasts:
            wait_for(lambda t=toast: t.count(), "the failure toast")
            assert "by design" in toast.inner_text()
        screenshot(pages[0], live.artefacts / "failure-toast.png")
        # The job keeps heartbeating its error; the sessions stay told once.
        pages[0].wait_for_timeout(5000)
        assert [toast.count() for toast in toasts] == [1, 1]
        send_commands(job_command("stop", failing.job_id))
    finally:
        for p in pages:
            p.context.close()
