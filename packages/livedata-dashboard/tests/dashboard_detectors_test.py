"""Detector page: images per view job, ROI drawings sent as ROI requests."""

import numpy as np
import panel as pn
import scipp as sc
from bokeh.document import Document

from ess.livedata.dashboard import detectors
from ess.livedata.dashboard.catalog import (
    ROI_READBACK,
    ROI_SPECTRA,
    VIEW_OUTPUT,
    Window,
    view_workflow,
)
from ess.livedata.dashboard.commands import roi_request
from ess.livedata.dashboard.feedback import CommandFeedback
from ess.livedata.dashboard.result_plot import Shown
from ess.livedata.dashboard.roi_editor import MAX_VERTICES, Drawn, JobRois, ViewRois
from ess.livedata.dashboard.roi_spectra import NO_ROI, RoiSpectra
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
    # What a completed box-select drag and a lasso report (corners in any order).
    rois.editor._box_stream.event(bounds=(30.0, 40.0, 10.0, 20.0))
    rois.editor._box_stream.event(bounds=(1.0, 2.0, 3.0, 4.0))
    rois.editor._lasso_stream.event(
        geometry=np.array([[0.0, 0.0], [0.1, 0.0], [0.1, 0.1], [0.0, 0.0]])
    )
    rois.send()
    sent = sent_rois(producer)
    assert rectangles_from_columns(sent[RoiStream(job, RoiGeometry.RECTANGLE)]) == {
        0: Rectangle(10.0, 30.0, 20.0, 40.0),
        1: Rectangle(1.0, 3.0, 2.0, 4.0),
    }
    assert polygons_from_columns(sent[RoiStream(job, RoiGeometry.POLYGON)]) == {
        4: ((0.0, 0.0), (0.1, 0.0), (0.1, 0.1))
    }


def test_a_long_lasso_is_thinned_to_a_polygon_the_protocol_takes(backend):
    editor = ViewRois(
        backend, panel_view(backend), "panel_0", CommandFeedback(backend.store)
    ).editor
    editor.layers()
    angles = np.linspace(0, 2 * np.pi, 500, endpoint=False)
    editor._lasso_stream.event(
        geometry=np.column_stack([np.cos(angles), np.sin(angles)])
    )
    (polygon,) = editor.polygons().values()
    assert 3 <= len(polygon) <= MAX_VERTICES


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
    rois.editor.layers()
    rois.editor._box_stream.event(bounds=(1.0, 1.0, 2.0, 2.0))
    rois.remove_all()
    assert rois.editor.drawn == Drawn()  # nothing solid left behind
    sent = sent_rois(producer)
    assert all(columns.roi_index == () for columns in sent.values())
    assert set(sent) == {RoiStream(job, g) for g in RoiGeometry}


def test_rois_without_a_running_job_or_degenerate_are_not_sent(
    backend, producer, store, clock
):
    feedback = CommandFeedback(store)
    rois = ViewRois(backend, panel_view(backend), "panel_0", feedback)
    rois.editor.layers()
    rois.editor._box_stream.event(bounds=(1.0, 1.0, 2.0, 3.0))
    rois.send()
    assert "no running panel_0_xy job" in feedback.view.object
    running_view(backend, store, clock)
    rois.editor._box_stream.event(bounds=(1.0, 1.0, 1.0, 3.0))
    rois.send()
    assert producer.on(ROI_TOPIC) == []
    assert "a box has no area" in feedback.view.object


def test_drawings_survive_a_rebuild_and_clear_forgets_them(backend):
    """Each drag is appended by the editor; a figure rebuilt later (e.g. on
    log scale) draws the same shapes, from the editor's pipe."""
    editor = ViewRois(
        backend, panel_view(backend), "panel_0", CommandFeedback(backend.store)
    ).editor
    editor.layers()
    editor._box_stream.event(bounds=(1.0, 1.0, 2.0, 3.0))
    first = editor._box_stream
    editor.layers()
    assert editor._box_stream is not first
    editor._box_stream.event(bounds=(4.0, 4.0, 5.0, 6.0))
    assert editor.rectangles() == {
        0: Rectangle(1.0, 2.0, 1.0, 3.0),
        1: Rectangle(4.0, 5.0, 4.0, 6.0),
    }
    assert editor._drawn_pipe.data == editor.drawn
    editor.clear()
    assert editor.rectangles() == {}
    assert editor._drawn_pipe.data == Drawn()


def test_sending_nothing_drawn_says_so_and_sends_nothing(
    backend, producer, store, clock
):
    running_view(backend, store, clock)
    feedback = CommandFeedback(store)
    rois = ViewRois(backend, panel_view(backend), "panel_0", feedback)
    rois.editor.layers()
    rois.send()
    assert producer.on(ROI_TOPIC) == []
    assert "nothing drawn" in feedback.view.object


def test_the_jobs_rois_are_drawn_back_on_the_image(backend, store, clock):
    workflow, job = running_view(backend, store, clock)
    rois = ViewRois(backend, workflow, "panel_0", CommandFeedback(store))
    rois.editor.layers()
    echoed = rectangles_to_columns({1: Rectangle(2.0, 6.0, 3.0, 7.0)})
    store.put_result(
        key(job, ROI_READBACK[RoiGeometry.RECTANGLE], workflow),
        0,
        roi_request(echoed, "bounds"),
    )
    rois.update(clock.now)
    assert rois.in_job() == JobRois({1: Rectangle(2.0, 6.0, 3.0, 7.0)}, {})
    drawn = rois.editor._job_pipe.data
    assert drawn.rectangles == {1: Rectangle(2.0, 6.0, 3.0, 7.0)}
    assert rois.editor.rectangles() == {}  # drawn back, not made a pending edit


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


def test_roi_spectra_without_roi_say_so_instead_of_empty_axes(backend, store, clock):
    workflow, job = running_view(backend, store, clock)
    scale = pn.widgets.RadioButtonGroup(options=["linear", "log"], value="log")
    shown = Shown(workflow, "panel_0", ROI_SPECTRA[Window.CUMULATIVE])
    spectra = RoiSpectra(store, shown, scale)
    spectra.update(clock.now)
    assert not spectra.figure.visible
    assert spectra.no_roi.visible
    assert NO_ROI in spectra.no_roi.object
    spectrum = sc.DataArray(
        sc.ones(dims=["roi", "toa"], shape=[1, 4], unit="counts"),
        coords={"roi": sc.array(dims=["roi"], values=[0], unit=None)},
    )
    store.put_result(key(job, ROI_SPECTRA[Window.CUMULATIVE], workflow), 0, spectrum)
    spectra.update(clock.now)
    assert spectra.figure.visible
    assert not spectra.no_roi.visible
    assert "ROI 0 4 counts" in spectra.caption.object
