"""Detector page: images per view, ROI drawing turned into ROI commands."""

import json

import numpy as np
import panel as pn
import scipp as sc
from bokeh.document import Document

from ess.livedata.core.status import ServiceState, ServiceStatus
from ess.livedata.dashboard import detectors
from ess.livedata.dashboard.feedback import CommandFeedback
from ess.livedata.dashboard.roi_editor import BankRois


def bodies(producer) -> list[dict]:
    return [json.loads(payload)["body"] for _, payload, _ in producer.produced]


def image(ny: int, nx: int) -> sc.DataArray:
    return sc.DataArray(
        sc.array(dims=["y", "x"], values=np.arange(ny * nx).reshape(ny, nx) * 1.0),
        coords={
            "y": sc.arange("y", 0.0, ny + 1.0, unit=None),
            "x": sc.arange("x", 0.0, nx + 1.0, unit=None),
        },
    )


def test_drawn_boxes_and_polygons_become_set_roi(backend, producer):
    rois = BankRois(backend, "panel_0", ["xy", "plane"], CommandFeedback(backend.store))
    rois.editors["xy"].layers()
    rois.editors["plane"].layers()
    # What BoxEdit/PolyDraw report after drawing (corners in any order).
    rois.editors["xy"]._box_stream.event(
        data={"x0": [30.0], "y0": [40.0], "x1": [10.0], "y1": [20.0]}
    )
    rois.editors["plane"]._poly_stream.event(
        data={"xs": [[0.0, 0.1, 0.1, 0.0]], "ys": [[0.0, 0.0, 0.1, 0.0]]}
    )
    rois.send()
    assert bodies(producer) == [
        {
            "target": "panel_0",
            "action": "set_roi",
            "view": "xy",
            "roi": 0,
            "shape": {
                "kind": "rectangle",
                "x_min": 10.0,
                "x_max": 30.0,
                "y_min": 20.0,
                "y_max": 40.0,
            },
        },
        {
            "target": "panel_0",
            "action": "set_roi",
            "view": "plane",
            "roi": 1,
            "shape": {
                "kind": "polygon",
                "vertices": [[0.0, 0.0], [0.1, 0.0], [0.1, 0.1]],
            },
        },
    ]


def heartbeat_rois(store, rois: list[int]) -> None:
    store.put_status(
        ServiceStatus(
            service="detector_data",
            instrument="dummy",
            state=ServiceState.RUNNING,
            details={"rois": {"panel_0": rois}},
        ),
        sent_s=store.now(),
    )


def test_unchanged_rois_are_not_resent_and_deleted_ones_removed(
    backend, producer, store
):
    rois = BankRois(backend, "panel_0", ["xy"], CommandFeedback(backend.store))
    rois.editors["xy"].layers()
    stream = rois.editors["xy"]._box_stream
    stream.event(
        data={"x0": [1.0, 5.0], "y0": [1.0, 5.0], "x1": [2.0, 6.0], "y1": [2.0, 6.0]}
    )
    rois.send()
    assert [b["roi"] for b in bodies(producer)] == [0, 1]
    rois.send()
    assert len(producer.produced) == 2  # nothing changed
    stream.event(data={"x0": [1.0], "y0": [1.0], "x1": [2.0], "y1": [2.0]})
    rois.send()
    assert bodies(producer)[2:] == [
        {"target": "panel_0", "action": "remove_roi", "roi": 1}
    ]


def test_sessions_do_not_overwrite_each_others_rois(backend, producer, store):
    feedback = CommandFeedback(backend.store)
    rois = BankRois(backend, "panel_0", ["xy"], feedback)
    heartbeat_rois(store, [0, 2])  # set by another session
    rois.editors["xy"].layers()
    rois.editors["xy"]._box_stream.event(
        data={"x0": [1.0, 5.0], "y0": [1.0, 5.0], "x1": [2.0, 6.0], "y1": [2.0, 6.0]}
    )
    rois.send()
    assert [b["roi"] for b in bodies(producer)] == [1, 3]
    rois.editors["xy"]._box_stream.event(data={"x0": [], "y0": [], "x1": [], "y1": []})
    rois.send()  # removes only what this session set
    assert [(b["action"], b["roi"]) for b in bodies(producer)[2:]] == [
        ("remove_roi", 1),
        ("remove_roi", 3),
    ]
    heartbeat_rois(store, [0, 2])
    rois.update(store.now())
    assert "0, 2" in rois.readback.object
    rois.remove_all()  # explicit: every ROI of the bank
    assert [(b["action"], b["roi"]) for b in bodies(producer)[4:]] == [
        ("remove_roi", 0),
        ("remove_roi", 2),
    ]


def test_degenerate_roi_is_not_sent(backend, producer):
    feedback = CommandFeedback(backend.store)
    rois = BankRois(backend, "panel_0", ["xy"], feedback)
    rois.editors["xy"].layers()
    rois.editors["xy"]._box_stream.event(
        data={"x0": [1.0], "y0": [1.0], "x1": [1.0], "y1": [3.0]}
    )
    rois.send()
    assert producer.produced == []
    assert "not sent" in feedback.view.object


def test_drawings_survive_a_rebuild(backend):
    rois = BankRois(backend, "panel_0", ["xy"], CommandFeedback(backend.store))
    editor = rois.editors["xy"]
    editor.layers()
    editor._box_stream.event(data={"x0": [1.0], "y0": [1.0], "x1": [2.0], "y1": [3.0]})
    layers = editor.layers()  # e.g. after switching to log scale
    assert len(layers.Rectangles.I.data) == 1
    assert len(editor.shapes()) == 1


def test_page_shows_every_view_and_switches_to_current(backend, store, clock):
    store.put_result("detector_data/panel_0/xy_cumulative", 0, image(64, 64))
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
        assert f'data-output="detector_data/{bank}/{view}_cumulative"' in captions
    assert 'data-total="8386560"' in captions  # sum(range(4096))
    show = next(
        w for w in page.view.select(pn.widgets.RadioButtonGroup) if w.label == "Show"
    )
    show.value = "current"
    page.tick(clock.now)
    captions = " ".join(str(p.object) for p in page.view.select(pn.pane.HTML))
    assert "detector_data/panel_0/xy_current" in captions
