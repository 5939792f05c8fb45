"""Detector page: images per view job, ROI drawings sent as ROI requests."""

import numpy as np
import panel as pn
import scipp as sc
from bokeh.document import Document

from ess.livedata.dashboard import detectors
from ess.livedata.dashboard.catalog import (
    ROI_READBACK,
    VIEW_OUTPUT,
    Window,
    view_workflow,
)
from ess.livedata.dashboard.commands import roi_request
from ess.livedata.dashboard.feedback import CommandFeedback
from ess.livedata.dashboard.roi_editor import ViewRois
from ess.livedata.kafka.schemas.da00 import decode_da00
from ess.livedata.protocol import (
    Rectangle,
    RoiGeometry,
    RoiStream,
    polygons_from_columns,
    rectangles_from_columns,
    rectangles_to_columns,
)
from ess.livedata.testing.messages import job_beat, job_id, key

ROI_TOPIC = "dummy_livedata_roi"


def panel_view(backend, view: str = "xy"):
    bank = backend.loaded.instrument.detectors[0]
    return view_workflow("dummy", bank, view)


def sent_rois(producer) -> dict[RoiStream, object]:
    """The newest ROI request per stream, as columns."""
    from ess.livedata.dashboard.roi_editor import _columns

    sent = {}
    for payload in producer.on(ROI_TOPIC):
        name, timestamp_ns, data = decode_da00(payload)
        assert timestamp_ns == 0
        sent[RoiStream.from_source_name(name)] = _columns(data)
    return sent


def image(ny: int, nx: int) -> sc.DataArray:
    return sc.DataArray(
        sc.array(dims=["y", "x"], values=np.arange(ny * nx).reshape(ny, nx) * 1.0),
        coords={
            "y": sc.arange("y", 0.0, ny + 1.0, unit=None),
            "x": sc.arange("x", 0.0, nx + 1.0, unit=None),
        },
    )


def running_view(backend, store, clock, view: str = "xy"):
    workflow = panel_view(backend, view)
    job = job_id("panel_0")
    store.put_job(job_beat(job, workflow=workflow), clock.now)
    return workflow, job


def test_drawn_boxes_and_polygons_become_roi_requests_to_the_views_job(
    backend, producer, store, clock
):
    workflow, job = running_view(backend, store, clock)
    rois = ViewRois(backend, workflow, "panel_0", CommandFeedback(store))
    rois.editor.layers()
    # What BoxEdit/PolyDraw report after drawing (corners in any order).
    rois.editor._box_stream.event(
        data={"x0": [30.0], "y0": [40.0], "x1": [10.0], "y1": [20.0]}
    )
    rois.editor._poly_stream.event(
        data={"xs": [[0.0, 0.1, 0.1, 0.0]], "ys": [[0.0, 0.0, 0.1, 0.0]]}
    )
    rois.send()
    sent = sent_rois(producer)
    assert rectangles_from_columns(sent[RoiStream(job, RoiGeometry.RECTANGLE)]) == {
        0: Rectangle(10.0, 30.0, 20.0, 40.0)
    }
    assert polygons_from_columns(sent[RoiStream(job, RoiGeometry.POLYGON)]) == {
        4: ((0.0, 0.0), (0.1, 0.0), (0.1, 0.1))
    }


def test_remove_all_sends_empty_sets_and_readback_shows_the_jobs_rois(
    backend, producer, store, clock
):
    workflow, job = running_view(backend, store, clock)
    rois = ViewRois(backend, workflow, "panel_0", CommandFeedback(store))
    echoed = rectangles_to_columns({0: Rectangle(1, 2, 1, 2), 2: Rectangle(3, 4, 3, 4)})
    store.put_result(
        key(job, ROI_READBACK[RoiGeometry.RECTANGLE], workflow),
        0,
        roi_request(echoed, "bounds"),
    )
    rois.update(clock.now)
    assert "in the job: 0, 2" in rois.readback.object
    rois.remove_all()
    sent = sent_rois(producer)
    assert all(columns.roi_index == () for columns in sent.values())
    assert set(sent) == {RoiStream(job, g) for g in RoiGeometry}


def test_rois_without_a_running_job_or_degenerate_are_not_sent(
    backend, producer, store, clock
):
    feedback = CommandFeedback(store)
    rois = ViewRois(backend, panel_view(backend), "panel_0", feedback)
    rois.editor.layers()
    rois.editor._box_stream.event(
        data={"x0": [1.0], "y0": [1.0], "x1": [2.0], "y1": [3.0]}
    )
    rois.send()
    assert "no running panel_0_xy job" in feedback.view.object
    running_view(backend, store, clock)
    rois.editor._box_stream.event(
        data={"x0": [1.0], "y0": [1.0], "x1": [1.0], "y1": [3.0]}
    )
    rois.send()
    assert producer.on(ROI_TOPIC) == []
    assert "a box has no area" in feedback.view.object


def test_drawings_survive_a_rebuild(backend):
    rois = ViewRois(
        backend, panel_view(backend), "panel_0", CommandFeedback(backend.store)
    )
    editor = rois.editor
    editor.layers()
    editor._box_stream.event(data={"x0": [1.0], "y0": [1.0], "x1": [2.0], "y1": [3.0]})
    layers = editor.layers()  # e.g. after switching to log scale
    assert len(layers.Rectangles.I.data) == 1
    assert len(editor.rectangles()) == 1


def test_page_shows_every_view_and_switches_to_current(backend, store, clock):
    workflow, job = running_view(backend, store, clock, "xy")
    output = VIEW_OUTPUT[Window.CUMULATIVE]
    store.put_result(key(job, output, workflow), 0, image(64, 64))
    page = detectors.build_page(backend)
    page.view.get_root(Document())
    page.tick(clock.now)
    captions = " ".join(
        str(p.object)
        for p in page.view.select(pn.pane.HTML)
        if "ld-caption" in str(p.object)
    )
    for bank, view in [
        ("panel_0", "xy"),
        ("panel_0", "plane"),
        ("tubes_1", "tubes"),
        ("tubes_1", "mantle"),
    ]:
        assert f'data-output="{bank}_{view}/{bank}/cumulative"' in captions
    assert 'data-total="8386560"' in captions  # sum(range(4096))
    show = next(
        w for w in page.view.select(pn.widgets.RadioButtonGroup) if w.label == "Show"
    )
    show.value = "current"
    page.tick(clock.now)
    captions = " ".join(str(p.object) for p in page.view.select(pn.pane.HTML))
    assert "panel_0_xy/panel_0/current" in captions
