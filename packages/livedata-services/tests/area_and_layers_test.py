"""detector_data's facility views of the dummy beyond panel_0_xy: the area
detector's ``area_panel_xy`` (ad00 images summed) and the 3-D
``panel_0_layers`` (dummy.yaml: panel_0 rows folded into 4 layers)."""

import numpy as np
import pytest
import scipp as sc
from job_driving import (
    act,
    job_of,
    roi_message,
    run,
    skip,
    start,
)

from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.window import TimeWindow
from ess.livedata.processing.job_bindings import detector_jobs
from ess.livedata.protocol import (
    JobAction,
    JobCommand,
    Rectangle,
    RoiGeometry,
    encode_command,
    rectangles_to_columns,
)

W0 = TimeWindow(0, 1_000_000_000)
W1 = TimeWindow(1_000_000_000, 2_000_000_000)
W2 = TimeWindow(2_000_000_000, 3_000_000_000)
AREA = "area_panel"
AREA_XY = "area_panel_xy"
LAYERS = "panel_0_layers"
# The facility's DetectorViewParams defaults for panel_0_layers (dummy.yaml).
FACILITY_VIEW_PARAMS = {
    "coordinate_mode": {"mode": "toa"},
    "pixel_weighting": {"enabled": False, "method": "pixel_number"},
    "toa_range": {"start": 0.0, "stop": 10.0, "enabled": False, "unit": "μs"},
    "toa_edges": {
        "start": 0.0,
        "stop": 71.43,
        "num_bins": 100,
        "scale": "linear",
        "unit": "ms",
    },
    "wavelength_range": {"start": 0.0, "stop": 10.0, "enabled": False, "unit": "Å"},
    "wavelength_edges": {
        "start": 1.0,
        "stop": 10.0,
        "num_bins": 100,
        "scale": "linear",
        "unit": "Å",
    },
}


@pytest.fixture(scope="module")
def loaded():
    return load_instrument("dummy")


@pytest.fixture
def processor(loaded):
    return detector_jobs(loaded)


def frame(values, t: int = 0) -> Message:
    values = np.asarray(values, dtype=np.int32)  # as decode_ad00 widens uint16
    dims = [f"dim_{i}" for i in range(values.ndim)]
    image = sc.DataArray(sc.array(dims=dims, values=values, unit="counts"))
    return Message(t, StreamId(StreamKind.AREA_DETECTOR, AREA), image)


def panel_events(pixel_id) -> Message:
    pixel_id = np.asarray(pixel_id, dtype=np.int32)
    batch = EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=np.full(pixel_id.size, 30_000_000, dtype=np.int32),
        pixel_id=pixel_id,
    )
    return Message(0, StreamId(StreamKind.DETECTOR_EVENTS, "panel_0"), batch)


def nicos(processor, window, *data) -> dict[str, float]:
    messages = processor.process_window(window, _grouped(data))
    return {
        m.stream.name: float(m.value.value)
        for m in messages
        if m.stream.kind is StreamKind.LIVEDATA_NICOS
    }


def _grouped(data):
    out = {}
    for m in data:
        out.setdefault(m.stream, []).append(m)
    return out


def frames_ledger(processor) -> dict:
    return processor.status_details().model_dump()["frames"][AREA]


def test_area_panel_xy_sums_frames_per_window_and_since_reset(processor):
    image = np.arange(256 * 256).reshape(256, 256) % 7
    out = run(processor, W0, frame(image), frame(image))
    current = out[AREA_XY, AREA, "current"]
    assert current.dims == ("dim_0", "dim_1")
    assert current.shape == (256, 256)
    assert current.unit == "counts"
    np.testing.assert_array_equal(current.values, 2 * image)
    assert out[AREA_XY, AREA, "counts_total"].value == 2 * image.sum()
    out = run(processor, W1, frame(image))
    np.testing.assert_array_equal(out[AREA_XY, AREA, "current"].values, image)
    cumulative = out[AREA_XY, AREA, "cumulative"]
    np.testing.assert_array_equal(cumulative.values, 3 * image)
    assert out[AREA_XY, AREA, "counts_total_cumulative"].value == 3 * image.sum()
    # No spectra: ad00 images have no time of arrival.
    assert {o for w, s, o in out if w == AREA_XY} == {
        "current",
        "cumulative",
        "counts_total",
        "counts_total_cumulative",
    }


def test_area_panel_device_and_reset_by_workflow_id_as_nicos_sends_it(processor):
    image = np.ones((4, 5))
    assert nicos(processor, W0, frame(image))["area_panel_counts_total"] == 20
    reset = JobCommand(action=JobAction.RESET, workflow_id="dummy/area_panel_xy/1")
    [ack] = [m.value for m in processor.handle_command(_command(reset))]
    assert (ack.response, ack.device) == ("ACK", "all")
    assert nicos(processor, W1, frame(image))["area_panel_counts_total"] == 20


def _command(command) -> Message:
    return Message(
        0, StreamId(StreamKind.LIVEDATA_COMMANDS, ""), encode_command(command)
    )


def test_area_panel_frames_are_accounted_for(processor):
    run(processor, W0, frame(np.ones((4, 5))), frame(np.ones((5, 4))))
    assert skip(processor, W1, frame(np.ones((4, 5)))) == 0  # frames, not events
    out = run(processor, W2)
    np.testing.assert_array_equal(out[AREA_XY, AREA, "cumulative"].values, 1.0)
    assert frames_ledger(processor) == {
        "received": 3,
        "counted": 1,
        "out_of_range": 0,
        "rejected": 1,
        "ignored": 0,
        "skipped": 1,
        "balanced": True,
    }


def test_area_panel_xy_starts_with_the_facility_params_and_takes_no_rois(processor):
    job_id, answers = start(processor, AREA_XY, AREA, {})
    assert [(r.response, r.device) for r in answers] == [("ACK", AREA)]
    columns = rectangles_to_columns({0: Rectangle(0, 10, 0, 10)})
    rejected = processor.status_details().commands_rejected
    assert (
        processor.handle_command(roi_message(job_id, RoiGeometry.RECTANGLE, columns))
        == []
    )
    assert processor.status_details().commands_rejected == rejected + 1
    out = run(processor, W0, frame(np.ones((2, 2))))
    assert (AREA_XY, AREA, "roi_rectangle") not in out


def test_panel_0_layers_folds_rows_into_four_layers(processor):
    # Pixel (row 40, column 5) is row 8 of layer 1 (32 rows per layer).
    out = run(processor, W0, panel_events([1 + 40 * 128 + 5] * 3))
    image = out[LAYERS, "panel_0", "cumulative"]
    assert image.sizes == {"layer": 4, "y": 32, "x": 128}
    assert image["layer", 1]["y", 8]["x", 5].value == 3
    assert image.sum().value == 3
    assert out[LAYERS, "panel_0", "counts_total"].value == 3
    assert not any(o.startswith("roi_") for w, _, o in out if w == LAYERS)


def test_panel_0_layers_takes_the_facility_params_but_no_rois(processor):
    job_id, answers = start(processor, LAYERS, "panel_0", FACILITY_VIEW_PARAMS)
    assert [(r.response, r.message) for r in answers] == [("ACK", None)]
    columns = rectangles_to_columns({0: Rectangle(0, 10, 0, 10)})
    rejected = processor.status_details().commands_rejected
    processor.handle_command(roi_message(job_id, RoiGeometry.RECTANGLE, columns))
    assert processor.status_details().commands_rejected == rejected + 1
    assert act(processor, "stop", job_id=job_id)[0].response == "ACK"
    assert job_of(processor, "panel_0_xy", "panel_0") is not None
