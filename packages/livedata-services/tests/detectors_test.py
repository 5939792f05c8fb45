"""detector_data through the job protocol: a ``{bank}_{view}`` job per view,
ROIs from ROI requests, binning from ``toa_edges``; and its kernels."""

import math
from functools import partial

import numpy as np
import pytest
import scipp as sc
from hypothesis import given, settings
from hypothesis import strategies as st
from job_driving import (
    act,
    grouped,
    job_of,
    roi_message,
    run,
    start,
    started,
)

from ess.livedata.core.detector_commands import SetRoi, SetViewResolution
from ess.livedata.core.instrument import (
    DetectorBank,
    GeometricView,
    Instrument,
    LogicalView,
    ProjectionKind,
)
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import (
    LoadedInstrument,
    create_plugin_manager,
    load_instrument,
)
from ess.livedata.core.window import TimeWindow
from ess.livedata.instruments.dummy.geometry import flat_panel
from ess.livedata.processing.detectors import DetectorProcessor
from ess.livedata.processing.job_bindings import detector_jobs
from ess.livedata.processing.kernels import (
    PixelCounts,
    accumulate_pixels,
    project_pixels,
)
from ess.livedata.processing.pixel_index import PixelIndex
from ess.livedata.processing.projection import _merge_replicas
from ess.livedata.processing.roi import RoiSpectra
from ess.livedata.protocol import (
    JobId,
    Rectangle,
    RoiColumns,
    RoiGeometry,
    polygons_to_columns,
    rectangles_to_columns,
)

MS = 1_000_000
W0 = TimeWindow(0, 1_000_000_000)
W1 = TimeWindow(1_000_000_000, 2_000_000_000)
W2 = TimeWindow(2_000_000_000, 3_000_000_000)
GROUPS = 5  # ROI groups in the kernel tests
PANEL = "panel_0"
TUBES = "tubes_1"
XY = "panel_0_xy"
PLANE = "panel_0_plane"
PANEL_SIDE = 128
PANEL_FIRST_ID = 1
PIXEL_SIZE = 0.005


def panel_id(iy, ix):
    """Detector number of panel pixel (row iy, column ix); ids run along x."""
    return PANEL_FIRST_ID + np.asarray(iy) * PANEL_SIDE + np.asarray(ix)


def panel_centre(i):
    """Panel pixel centre (m) along x or y for index i."""
    return (np.asarray(i) - (PANEL_SIDE - 1) / 2) * PIXEL_SIZE


def events(bank, pixel_id, toa_ms=None) -> Message:
    pixel_id = np.asarray(pixel_id, dtype=np.int32)
    if toa_ms is None:
        toa_ms = np.full(pixel_id.size, 30.0)
    toa = np.round(np.asarray(toa_ms, dtype=float) * MS).astype(np.int32)
    batch = EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=np.broadcast_to(toa, pixel_id.shape).copy(),
        pixel_id=pixel_id,
    )
    return Message(0, StreamId(StreamKind.DETECTOR_EVENTS, bank), batch)


def ledger(processor, bank=PANEL) -> dict:
    return processor.status_details().model_dump()["ledger"][bank]


def rectangles(processor, workflow=XY, **rois) -> Message:
    """An ROI request setting rectangles ``roi_<i>=(x_min, x_max, y_min, y_max)``."""
    shapes = {int(k.removeprefix("roi_")): Rectangle(*v) for k, v in rois.items()}
    job = job_of(processor, workflow, PANEL)
    return roi_message(job, RoiGeometry.RECTANGLE, rectangles_to_columns(shapes))


def set_rois(processor, request: Message) -> None:
    """Apply an ROI request, which must be accepted (ROIs get no response)."""
    rejected = processor.status_details().commands_rejected
    assert processor.handle_command(request) == []
    assert processor.status_details().commands_rejected == rejected


def roi_rows(out, name: str, workflow=XY) -> dict[int, sc.DataArray]:
    """The rows of a view job's stacked ROI spectra, by ROI index."""
    spectra = out[workflow, PANEL, name]
    return {
        int(r): spectra["roi", i] for i, r in enumerate(spectra.coords["roi"].values)
    }


@pytest.fixture(scope="module")
def loaded():
    return load_instrument("dummy")


@pytest.fixture
def processor(loaded):
    return detector_jobs(loaded)


@pytest.fixture
def random_events():
    rng = np.random.default_rng(42)
    panel = events(
        PANEL, rng.integers(1, PANEL_SIDE**2 + 1, 5000), rng.uniform(0, 71, 5000)
    )
    tubes = events(
        TUBES, rng.integers(100_001, 103_073, 7000), rng.uniform(0, 71, 7000)
    )
    return panel, tubes


def jobs_of(instrument: Instrument):
    """detector_data for an instrument of the test's own."""
    return detector_jobs(LoadedInstrument(instrument, create_plugin_manager()))


@pytest.mark.parametrize(
    ("bank", "view"),
    [(PANEL, "xy"), (PANEL, "plane"), (TUBES, "tubes"), (TUBES, "mantle")],
)
def test_every_view_sums_to_the_counted_events(processor, random_events, bank, view):
    workflow = f"{bank}_{view}"
    out0 = run(processor, W0, *random_events)
    out1 = run(processor, W1, *random_events)
    counted = ledger(processor, bank)["counted"]
    assert counted == 2 * random_events[bank == TUBES].value.size
    current = out1[workflow, bank, "current"]
    cumulative = out1[workflow, bank, "cumulative"]
    assert out0[workflow, bank, "current"].sum().value == counted // 2
    assert current.sum().value == counted // 2
    assert cumulative.sum().value == counted
    assert out1[workflow, bank, "counts_total_cumulative"].value == counted
    assert out1[workflow, bank, "toa_cumulative"].sum().value == counted
    assert cumulative.coords["start_time"].value == np.datetime64(W0.start, "ns")
    assert cumulative.coords["end_time"].value == np.datetime64(W1.end, "ns")
    assert current.ndim == 2
    assert current.unit == sc.units.counts
    for dim in current.dims:
        assert current.coords[dim].sizes[dim] == current.sizes[dim] + 1


def test_bank_totals_go_to_nicos_under_the_banks_device(processor):
    messages = processor.process_window(W0, grouped([events(PANEL, [1, 2])]))
    nicos = [m for m in messages if m.stream.kind is StreamKind.LIVEDATA_NICOS]
    assert {m.stream.name for m in nicos} == {"panel_0_counts_total"}
    assert all(m.value.value == 2 for m in nicos)


def test_logical_view_puts_each_pixel_at_its_index(processor):
    out = run(processor, W0, events(PANEL, [panel_id(3, 7)] * 5))
    image = out[XY, PANEL, "current"]
    assert image.dims == ("y", "x")
    assert image["y", 3]["x", 7].value == 5
    assert image.coords["x"].unit is None


def test_projection_coordinates_and_units(processor, random_events):
    out = run(processor, W0, *random_events)
    xy = out[PLANE, PANEL, "current"]
    assert xy.dims == ("y", "x")
    assert xy.sizes == {"y": 64, "x": 64}
    assert xy.coords["x"].unit == sc.Unit("m")
    # The panel spans +-0.32 m; the noise widens the screen only slightly.
    assert -0.34 < xy.coords["x"].values[0] < -0.315
    mantle = out["tubes_1_mantle", TUBES, "current"]
    assert mantle.dims == ("y", "phi")
    assert mantle.coords["phi"].unit == sc.Unit("deg")
    # Tubes cover 5 to 60 degrees around the cylinder axis (y).
    assert 4 < mantle.coords["phi"].values[0] < 5
    assert 60 < mantle.coords["phi"].values[-1] < 61


def test_projection_puts_a_pixel_where_it_is(processor):
    out = run(processor, W0, events(PANEL, [panel_id(0, PANEL_SIDE - 1)] * 800))
    image = out[PLANE, PANEL, "current"]
    peak = np.unravel_index(np.argmax(image.values), image.shape)
    y_edges, x_edges = image.coords["y"].values, image.coords["x"].values
    assert y_edges[peak[0]] <= panel_centre(0) <= y_edges[peak[0] + 1]
    assert x_edges[peak[1]] <= panel_centre(PANEL_SIDE - 1) <= x_edges[peak[1] + 1]


def test_rectangle_roi_on_logical_view_counts_exactly(processor):
    request = rectangles(processor, roi_0=(10, 20, 5, 10))
    set_rois(processor, request)
    iy, ix = np.meshgrid(np.arange(5, 10), np.arange(10, 20), indexing="ij")
    inside = np.repeat(panel_id(iy, ix).ravel(), 3)
    border = [panel_id(4, 10), panel_id(10, 10), panel_id(5, 9), panel_id(5, 20)]
    toa = np.where(np.arange(inside.size) % 2 == 0, 12.3, 45.6)
    out = run(processor, W0, events(PANEL, inside, toa), events(PANEL, border * 7))
    spectra = out[XY, PANEL, "roi_spectra_current"]
    assert spectra.dims == ("roi", "time_of_arrival")
    assert spectra.coords["roi"].values.tolist() == [0]
    spectrum = spectra["roi", 0]
    assert spectrum.sum().value == inside.size
    bin_of = (
        np.searchsorted(spectrum.coords["time_of_arrival"].values, [12.3, 45.6]) - 1
    )
    assert spectrum.values[bin_of].tolist() == [75, 75]
    assert out[XY, PANEL, "toa_current"].sum().value == inside.size + 28
    readback = out[XY, PANEL, "roi_rectangle"]
    for column in ("x", "y", "roi_index"):
        assert sc.identical(readback.coords[column], request.value.data.coords[column])
    # ROIs are the view job's own: the other view of the bank has none.
    assert (PLANE, PANEL, "roi_spectra_current") not in out


def test_polygon_roi_on_projection_uses_pixel_positions(processor):
    # Triangle with corners between pixel centres: (ix, iy) pixels with
    # centres inside are ix >= 32, iy >= 32 and ix + iy <= 80.
    half = PIXEL_SIZE / 2
    corners = (
        (panel_centre(32) - half, panel_centre(32) - half),
        (panel_centre(48) + half, panel_centre(32) - half),
        (panel_centre(32) - half, panel_centre(48) + half),
    )
    job = job_of(processor, PLANE, PANEL)
    columns = polygons_to_columns({5: corners})
    set_rois(processor, roi_message(job, RoiGeometry.POLYGON, columns))
    iy, ix = np.meshgrid(np.arange(PANEL_SIDE), np.arange(PANEL_SIDE), indexing="ij")
    inside = (ix >= 32) & (iy >= 32) & (ix + iy <= 80)
    ids = panel_id(iy, ix).ravel()
    weights = np.where(inside.ravel(), 2, 1)
    out = run(processor, W0, events(PANEL, np.repeat(ids, weights)))
    expected = 2 * int(inside.sum())
    rows = roi_rows(out, "roi_spectra_current", PLANE)
    assert list(rows) == [5]
    assert rows[5].sum().value == expected
    readback = out[PLANE, PANEL, "roi_polygon"]
    assert readback.coords["x"].values.tolist() == list(columns.x)
    assert readback.coords["roi_index"].values.tolist() == [5, 5, 5]
    assert (XY, PANEL, "roi_spectra_current") not in out


def test_overlapping_rois_count_shared_pixels_in_both(processor):
    set_rois(
        processor, rectangles(processor, roi_1=(0, 10, 0, 10), roi_3=(5, 15, 5, 15))
    )
    out = run(processor, W0, events(PANEL, [panel_id(7, 7)] * 4 + [panel_id(1, 1)]))
    rows = roi_rows(out, "roi_spectra_current")
    assert {i: r.sum().value for i, r in rows.items()} == {1: 5, 3: 4}
    # A request replaces the whole set: ROI 1 is gone, ROI 3 keeps counting.
    set_rois(processor, rectangles(processor, roi_3=(5, 15, 5, 15)))
    out = run(processor, W1, events(PANEL, [panel_id(7, 7)] * 2 + [panel_id(1, 1)]))
    assert list(roi_rows(out, "roi_spectra_current")) == [3]
    assert roi_rows(out, "roi_spectra_current")[3].sum().value == 2
    assert roi_rows(out, "roi_spectra_cumulative")[3].sum().value == 6


def test_rois_overlapping_in_too_many_ways_are_rejected():
    rois = RoiSpectra(pixel_count=1024, bins=10)
    index = np.arange(1024)

    def roi(number):
        shape = {"kind": "rectangle", "x_min": 0, "x_max": 1, "y_min": 0, "y_max": 1}
        return SetRoi(target=PANEL, view="xy", roi=number, shape=shape)

    for number in range(8):  # every combination of 8 ROIs: 256 groups
        rois.set(roi(number), (index >> number) & 1 == 1)
    with pytest.raises(ValueError, match="distinct ways"):
        rois.set(roi(8), (index >> 8) & 1 == 1)
    assert sorted(rois.definitions) == list(range(8))
    assert rois.group is not None
    assert rois.group.max() == 255


def test_changing_a_roi_restarts_its_cumulative_and_clearing_stops_it(processor):
    set_rois(processor, rectangles(processor, roi_2=(0, 64, 0, 64)))
    run(processor, W0, events(PANEL, [panel_id(0, 0)] * 3))
    set_rois(processor, rectangles(processor, roi_2=(0, 1, 0, 1)))
    out = run(processor, W1, events(PANEL, [panel_id(0, 0), panel_id(9, 9)]))
    cumulative = out[XY, PANEL, "roi_spectra_cumulative"]
    assert cumulative.sum().value == 1
    assert cumulative.coords["start_time"].value == np.datetime64(W1.start, "ns")
    empty = RoiColumns(x=(), y=(), roi_index=())
    job = job_of(processor, XY, PANEL)
    set_rois(processor, roi_message(job, RoiGeometry.RECTANGLE, empty))
    out = run(processor, W2, events(PANEL, [1]))
    # No spectra any more; the empty set is echoed, so readers drop the ROIs.
    assert [key for key in out if key[2].startswith("roi")] == [
        (XY, PANEL, "roi_rectangle")
    ]
    assert out[XY, PANEL, "roi_rectangle"].size == 0
    assert processor.status_details().model_dump()["rois"][PANEL] == []


def test_stopping_a_view_job_drops_its_rois(processor):
    set_rois(processor, rectangles(processor, roi_0=(0, 64, 0, 64)))
    run(processor, W0, events(PANEL, [1]))
    [ack] = act(processor, "stop", job_of(processor, XY, PANEL))
    assert ack.response == "ACK"
    assert processor.status_details().model_dump()["rois"][PANEL] == []
    out = run(processor, W1, events(PANEL, [1]))
    assert not [key for key in out if key[0] == XY]
    assert out[PLANE, PANEL, "current"].sum().value == 1


def test_toa_edges_filter_images_and_spectra(processor):
    edges = {"start": 10, "stop": 20, "num_bins": 10, "unit": "ms"}
    job = started(processor, XY, PANEL, {"toa_edges": edges})
    set_rois(
        processor,
        roi_message(
            job,
            RoiGeometry.RECTANGLE,
            rectangles_to_columns({0: Rectangle(0, 64, 0, 64)}),
        ),
    )
    out = run(processor, W0, events(PANEL, [1, 2, 3, 4, 5], [5, 10, 15, 19.9, 20]))
    assert out[XY, PANEL, "current"].sum().value == 3
    # Views of a bank share its binning: the plane view filters too.
    assert out[PLANE, PANEL, "current"].sum().value == 3
    toa = out[XY, PANEL, "toa_current"]
    assert toa.values.tolist() == [1, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert toa.coords["time_of_arrival"].values[[0, -1]].tolist() == [10, 20]
    assert (
        roi_rows(out, "roi_spectra_current")[0].values.tolist() == toa.values.tolist()
    )
    assert ledger(processor)["out_of_range"] == 2
    assert ledger(processor)["balanced"]


def test_unknown_pixels_and_negative_toa_are_rejected_and_balanced(processor):
    ids = [0, 1, PANEL_SIDE**2, PANEL_SIDE**2 + 1, -5, 100_001]
    toa = [30, 30, -1, 30, 30, 30]
    out = run(processor, W0, events(PANEL, ids, toa))
    assert out[XY, PANEL, "current"].sum().value == 1
    assert ledger(processor) == {
        "received": 6,
        "counted": 1,
        "out_of_range": 0,
        "rejected": 5,
        "ignored": 0,
        "skipped": 0,
        "balanced": True,
    }
    assert processor.status_details().model_dump()["unknown_pixel_ids"][PANEL] == 4


def test_reset_zeroes_cumulative_only(processor):
    run(processor, W0, events(PANEL, [1, 2]))
    [ack] = act(processor, "reset", job_of(processor, XY, PANEL))
    assert ack.response == "ACK"
    out = run(processor, W1, events(PANEL, [3]))
    assert out[XY, PANEL, "cumulative"].sum().value == 1
    assert out[XY, PANEL, "toa_cumulative"].sum().value == 1
    assert out[XY, PANEL, "counts_total_cumulative"].value == 1
    assert out[XY, PANEL, "current"].sum().value == 1


def test_view_resolution_changes_shape_and_keeps_counts(loaded, random_events):
    # Not a job parameter (yet): the accumulators' own command.
    processor = DetectorProcessor(loaded.instrument)
    grouped = {m.stream: [m] for m in random_events}
    processor.process_window(W0, grouped)
    body = SetViewResolution(target=TUBES, view="mantle", resolution=(16, 200))
    processor.apply(body)
    out = {m.stream.name: m.value for m in processor.process_window(W1, {})}
    mantle = out["detector_data/tubes_1/mantle/cumulative"]
    assert mantle.sizes == {"y": 16, "phi": 200}
    assert mantle.sum().value == random_events[1].value.size


def square(n: int, x: float = 0.0) -> tuple[tuple[float, float], ...]:
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return tuple((x + math.cos(a), math.sin(a)) for a in angles)


def raw_columns(x, y, roi_index) -> RoiColumns:
    return RoiColumns(x=tuple(x), y=tuple(y), roi_index=tuple(roi_index))


BAD_ROI_REQUESTS = [
    (RoiGeometry.RECTANGLE, raw_columns([0, 1], [0, 1], [5, 5]), "indices"),
    (RoiGeometry.POLYGON, raw_columns([0, 1, 1], [0, 0, 1], [0, 0, 0]), "indices"),
    (RoiGeometry.RECTANGLE, raw_columns([1, 0], [0, 1], [0, 0]), "x_min < x_max"),
    (RoiGeometry.RECTANGLE, raw_columns([0, math.inf], [0, 1], [0, 0]), "finite"),
    (RoiGeometry.RECTANGLE, raw_columns([0, 1, 2], [0, 1, 2], [0, 0, 0]), "two bounds"),
    (RoiGeometry.POLYGON, polygons_to_columns({4: square(2)}), "three vertices"),
    (RoiGeometry.POLYGON, polygons_to_columns({4: square(33)}), "at most 32"),
    (
        RoiGeometry.POLYGON,
        polygons_to_columns({4: ((0, 0), (1, math.nan), (1, 1))}),
        "finite",
    ),
]


def assert_unchanged(processor, reference, random_events) -> None:
    """``processor`` publishes what ``reference`` (given nothing) does."""
    got = run(processor, W1, *random_events)
    expected = run(reference, W1, *random_events)
    assert got.keys() == expected.keys()
    for name, data in expected.items():
        assert sc.identical(got[name], data), name


@pytest.mark.parametrize(("geometry", "columns", "reason"), BAD_ROI_REQUESTS)
def test_bad_roi_requests_are_refused_and_change_nothing(
    loaded, random_events, caplog, geometry, columns, reason
):
    processor = detector_jobs(loaded)
    reference = detector_jobs(loaded)
    run(processor, W0, *random_events)
    run(reference, W0, *random_events)
    request = roi_message(job_of(processor, XY, PANEL), geometry, columns)
    assert processor.handle_command(request) == []
    assert reason in caplog.text
    assert processor.status_details().commands_rejected == 1
    assert_unchanged(processor, reference, random_events)


@pytest.mark.parametrize(
    ("source", "params", "reason"),
    [
        (PANEL, {"toa_edges": {"start": 5, "stop": 1, "num_bins": 3}}, "stop"),
        (PANEL, {"toa_edges": {"start": 0, "stop": 1, "num_bins": 0}}, "num_bins"),
        (
            PANEL,
            {"toa_edges": {"start": 0, "stop": 1, "num_bins": 3, "unit": "h"}},
            "unit",
        ),
        (TUBES, {}, "unknown source 'tubes_1'"),
    ],
)
def test_bad_workflow_configs_are_refused_and_change_nothing(
    loaded, random_events, source, params, reason
):
    processor = detector_jobs(loaded)
    reference = detector_jobs(loaded)
    run(processor, W0, *random_events)
    run(reference, W0, *random_events)
    _, [response] = start(processor, XY, source, params)
    assert (response.response, response.device) == ("ERR", source)
    assert reason in response.message
    assert processor.status_details().commands_rejected == 1
    assert_unchanged(processor, reference, random_events)


def test_roi_request_for_an_unknown_job_is_ignored(processor):
    unknown = JobId(source_name=PANEL, job_number="not-running")
    columns = rectangles_to_columns({0: Rectangle(0, 1, 0, 1)})
    assert (
        processor.handle_command(roi_message(unknown, RoiGeometry.RECTANGLE, columns))
        == []
    )
    assert processor.status_details().model_dump()["rois"] == {}


def test_commands_for_other_services_are_ignored(processor):
    _, answers = start(processor, "monitor_histogram", "monitor1")
    assert answers == []
    assert act(processor, "reset", workflow="monitor_histogram") == []


def test_non_contiguous_detector_numbers_use_a_lookup_table():
    def shuffled_panel():
        geometry = flat_panel(first_id=10, nx=4, ny=3, pixel_size=0.1, distance=2.0)
        numbers = geometry.coords["detector_number"].values
        geometry.coords["detector_number"].values = numbers[::-1, :] * 2
        return geometry

    bank = DetectorBank(
        name="odd",
        source_name="odd",
        make_geometry=shuffled_panel,
        views=(
            LogicalView(name="xy"),
            GeometricView(name="plane", projection=ProjectionKind.XY_PLANE),
        ),
    )
    processor = jobs_of(Instrument(name="odd", detectors=(bank,)))
    # Row 2 of the original numbering (ids 18..21, doubled) is now row 0.
    out = run(processor, W0, events("odd", [36, 36, 38, 21, 19, 100]))
    pixels = out["odd_xy", "odd", "current"]
    assert pixels["y", 0].values.tolist() == [2, 1, 0, 0]
    assert out["odd_plane", "odd", "current"].sum().value == 3
    assert processor.status_details().model_dump()["unknown_pixel_ids"]["odd"] == 3


def test_folded_and_transposed_logical_view():
    bank = DetectorBank(
        name="folded",
        source_name="folded",
        make_geometry=partial(
            flat_panel, first_id=1, nx=6, ny=2, pixel_size=0.1, distance=2.0
        ),
        views=(
            LogicalView(
                name="straws",
                fold={"x": {"tube": 2, "straw": 3}},
                transpose=("straw", "y", "tube"),
            ),
        ),
    )
    processor = jobs_of(Instrument(name="folded", detectors=(bank,)))
    # id 6: y=0, x=5 -> tube 1, straw 2
    out = run(processor, W0, events("folded", [6, 6]))
    image = out["folded_straws", "folded", "current"]
    assert image.dims == ("straw", "y", "tube")
    assert image["straw", 2]["y", 0]["tube", 1].value == 2
    job = job_of(processor, "folded_straws", "folded")
    columns = rectangles_to_columns({0: Rectangle(1, 2, 0, 1)})
    set_rois(processor, roi_message(job, RoiGeometry.RECTANGLE, columns))
    out = run(processor, W1, events("folded", [6, 3]))
    assert out["folded_straws", "folded", "roi_spectra_current"].sum().value == 1


def test_a_bank_with_more_views_than_roi_capacity_still_publishes_every_view():
    # bifrost's bank has three views; ROIs fit on two, the third has none.
    bank = DetectorBank(
        name="wide",
        source_name="wide",
        make_geometry=partial(
            flat_panel, first_id=1, nx=4, ny=3, pixel_size=0.1, distance=2.0
        ),
        views=tuple(LogicalView(name=f"v{i}") for i in range(3)),
    )
    processor = jobs_of(Instrument(name="wide", detectors=(bank,)))
    job = job_of(processor, "wide_v0", "wide")
    columns = rectangles_to_columns({0: Rectangle(0, 4, 0, 3)})
    set_rois(processor, roi_message(job, RoiGeometry.RECTANGLE, columns))
    out = run(processor, W0, events("wide", [1, 2, 12]))
    assert out["wide_v0", "wide", "roi_spectra_current"].sum().value == 3
    for view in ("v1", "v2"):
        assert out[f"wide_{view}", "wide", "current"].sum().value == 3
        assert ("wide_" + view, "wide", "roi_spectra_current") not in out


def test_pixel_index_rejects_duplicates():
    with pytest.raises(ValueError, match="duplicate"):
        PixelIndex.from_detector_numbers(np.array([1, 3, 3]))


@pytest.mark.parametrize(
    "numbers", [[2**31 - 1, 2**31], [-(2**31) - 1, 0, 1]], ids=["above", "below"]
)
def test_pixel_index_rejects_numbers_ev44_cannot_carry(numbers):
    # Raised once, when the bank is built, not on every message.
    with pytest.raises(ValueError, match="int32"):
        PixelIndex.from_detector_numbers(np.array(numbers))


def reference_accumulation(pixel_id, toa, numbers, lo, hi, bins, roi_group):
    """What accumulate_pixels must do, written plainly with numpy."""
    index_of = {int(n): i for i, n in enumerate(numbers)}
    index = np.array([index_of.get(int(p), -1) for p in pixel_id], dtype=np.int64)
    known = index >= 0
    valid = known & (toa >= 0)
    counted = valid & (toa >= lo) & (toa < hi)
    counts = np.bincount(index[counted], minlength=numbers.size)
    b = (toa[counted].astype(np.int64) - lo) * bins // (hi - lo)
    toa_counts = np.bincount(b, minlength=bins)
    roi_counts = np.zeros((GROUPS, bins), dtype=np.int64)
    if roi_group is not None:
        np.add.at(roi_counts, (roi_group[index[counted]], b), 1)
    unknown = int((~known).sum())
    negative = int((known & (toa < 0)).sum())
    outside = int((valid & ~counted).sum())
    return counts, toa_counts, roi_counts, (unknown, negative, outside)


def run_kernel(pixel_id, toa, numbers, toa_range, bins, roi_group):
    index = PixelIndex.from_detector_numbers(numbers)
    pixels = PixelCounts(numbers.size, bins)
    counts = np.zeros(numbers.size, dtype=np.int64)
    toa_counts = np.zeros(bins, dtype=np.int64)
    roi_counts = np.zeros((GROUPS, bins), dtype=np.int64)
    rejected = accumulate_pixels(
        pixel_id,
        toa,
        offset=index.offset,
        lookup=index.lookup,
        toa_range=toa_range,
        counts=pixels,
        roi_group=roi_group,
        roi_group_toa_counts=roi_counts,
    )
    pixels.take(counts, toa_counts)
    return counts, toa_counts, roi_counts, rejected


def assert_kernel_matches_numpy(pixel_id, toa, numbers, toa_range, bins, roi_group):
    got = run_kernel(pixel_id, toa, numbers, toa_range, bins, roi_group)
    expected = reference_accumulation(
        pixel_id, toa, numbers, *toa_range, bins, roi_group
    )
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_events=st.integers(0, 3000),
    contiguous=st.booleans(),
    lo=st.integers(0, 10**9),
    width=st.integers(1, 10**10),
    bins=st.integers(1, 100_000),
    on_edges=st.booleans(),
    with_rois=st.booleans(),
)
def test_accumulate_pixels_matches_numpy(
    seed, n_events, contiguous, lo, width, bins, on_edges, with_rois
):
    rng = np.random.default_rng(seed)
    numbers = np.arange(100, 300)
    if not contiguous:
        numbers = rng.permutation(numbers)[:150] * 3
    pixel_id = rng.integers(-10, numbers.max() + 20, n_events).astype(np.int32)
    if on_edges:
        edge = rng.integers(0, bins + 1, n_events) * width // bins
        toa = lo + edge + rng.integers(-1, 2, n_events)
    else:
        toa = rng.integers(lo - 1000, lo + width + 1000, n_events)
    toa = np.clip(toa, -(2**31), 2**31 - 1).astype(np.int32)
    groups = (
        rng.integers(0, GROUPS, numbers.size, dtype=np.uint8) if with_rois else None
    )
    assert_kernel_matches_numpy(pixel_id, toa, numbers, (lo, lo + width), bins, groups)


@pytest.mark.parametrize("contiguous", [True, False])
def test_accumulate_pixels_on_a_bank_larger_than_the_caches(contiguous):
    rng = np.random.default_rng(7)
    numbers = np.arange(5, 1_200_005)
    if not contiguous:
        numbers = rng.permutation(numbers) * 2
    pixel_id = rng.integers(0, numbers.max() + 3, 100_000).astype(np.int32)
    toa = rng.integers(-5, 80 * MS, 100_000).astype(np.int32)
    groups = np.zeros(numbers.size, dtype=np.uint8)
    groups[::3] = 2
    assert_kernel_matches_numpy(pixel_id, toa, numbers, (0, 71 * MS), 100, groups)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    pixels=st.integers(1, 500),
    replicas=st.sampled_from([1, 2, 8]),
    screen=st.integers(1, 40),
)
def test_project_pixels_matches_bincount_per_replica(seed, pixels, replicas, screen):
    rng = np.random.default_rng(seed)
    bins = rng.integers(0, screen, (pixels, replicas)).astype(np.int32)
    counts = rng.integers(0, 5, pixels)
    expected = sum(
        np.bincount(bins[:, r], weights=counts / replicas, minlength=screen)
        for r in range(replicas)
    )
    pixels, entries, shares = _merge_replicas(bins.copy())
    out = np.zeros(screen, dtype=np.int64)
    project_pixels(pixels, entries, shares, counts, out)
    np.testing.assert_array_equal(out / replicas, expected)
    assert out.sum() == replicas * counts.sum()
