import json
import math
from functools import partial

import numpy as np
import pytest
import scipp as sc
from hypothesis import given, settings
from hypothesis import strategies as st

from ess.livedata.core.detector_commands import SetRoi
from ess.livedata.core.instrument import (
    DetectorBank,
    GeometricView,
    Instrument,
    LogicalView,
    ProjectionKind,
)
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.window import TimeWindow
from ess.livedata.instruments.dummy.geometry import flat_panel
from ess.livedata.instruments.dummy.plugin import make_instrument
from ess.livedata.processing.detectors import DetectorProcessor
from ess.livedata.processing.kernels import (
    PixelCounts,
    accumulate_pixels,
    project_pixels,
)
from ess.livedata.processing.pixel_index import PixelIndex
from ess.livedata.processing.projection import _merge_replicas
from ess.livedata.processing.roi import RoiSpectra

MS = 1_000_000
W0 = TimeWindow(0, 1_000_000_000)
W1 = TimeWindow(1_000_000_000, 2_000_000_000)
CMD = StreamId(StreamKind.LIVEDATA_COMMANDS, "")
GROUPS = 5  # ROI groups in the kernel tests
PANEL = "panel_0"
TUBES = "tubes_1"
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


def command(body: dict, service: str = "detector_data") -> Message:
    payload = {"command_id": "c1", "service": service, "body": body}
    return Message(0, CMD, json.dumps(payload).encode())


def send(processor, body: dict) -> None:
    [response] = processor.handle_command(command(body))
    assert response.value.status == "accepted", response.value.reason


def outputs(processor, window, *messages) -> dict[str, sc.DataArray]:
    grouped: dict[StreamId, list] = {}
    for m in messages:
        grouped.setdefault(m.stream, []).append(m)
    return {m.stream.name: m.value for m in processor.process_window(window, grouped)}


def ledger(processor, bank=PANEL) -> dict:
    return processor.status_details().model_dump()["ledger"][bank]


def panel_rectangle_roi(roi, view, x, y) -> dict:
    return {
        "action": "set_roi",
        "target": PANEL,
        "view": view,
        "roi": roi,
        "shape": {
            "kind": "rectangle",
            "x_min": x[0],
            "x_max": x[1],
            "y_min": y[0],
            "y_max": y[1],
        },
    }


@pytest.fixture(scope="module")
def instrument():
    return make_instrument()


@pytest.fixture
def processor(instrument):
    return DetectorProcessor(instrument)


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


@pytest.mark.parametrize(
    ("bank", "view"),
    [(PANEL, "xy"), (PANEL, "plane"), (TUBES, "tubes"), (TUBES, "mantle")],
)
def test_every_view_sums_to_the_counted_events(processor, random_events, bank, view):
    out0 = outputs(processor, W0, *random_events)
    out1 = outputs(processor, W1, *random_events)
    counted = ledger(processor, bank)["counted"]
    assert counted == 2 * random_events[bank == TUBES].value.size
    current = out1[f"detector_data/{bank}/{view}_current"]
    cumulative = out1[f"detector_data/{bank}/{view}_cumulative"]
    assert out0[f"detector_data/{bank}/{view}_current"].sum().value == counted // 2
    assert current.sum().value == counted // 2
    assert cumulative.sum().value == counted
    assert cumulative.coords["start_time"].value == np.datetime64(W0.start, "ns")
    assert cumulative.coords["end_time"].value == np.datetime64(W1.end, "ns")
    assert current.ndim == 2
    assert current.unit == sc.units.counts
    for dim in current.dims:
        assert current.coords[dim].sizes[dim] == current.sizes[dim] + 1


def test_logical_view_puts_each_pixel_at_its_index(processor):
    out = outputs(processor, W0, events(PANEL, [panel_id(3, 7)] * 5))
    image = out["detector_data/panel_0/xy_current"]
    assert image.dims == ("y", "x")
    assert image["y", 3]["x", 7].value == 5
    assert image.coords["x"].unit is None


def test_projection_coordinates_and_units(processor, random_events):
    out = outputs(processor, W0, *random_events)
    xy = out["detector_data/panel_0/plane_current"]
    assert xy.dims == ("y", "x")
    assert xy.sizes == {"y": 64, "x": 64}
    assert xy.coords["x"].unit == sc.Unit("m")
    # The panel spans +-0.32 m; the noise widens the screen only slightly.
    assert -0.34 < xy.coords["x"].values[0] < -0.315
    mantle = out["detector_data/tubes_1/mantle_current"]
    assert mantle.dims == ("y", "phi")
    assert mantle.coords["phi"].unit == sc.Unit("deg")
    # Tubes cover 5 to 60 degrees around the cylinder axis (y).
    assert 4 < mantle.coords["phi"].values[0] < 5
    assert 60 < mantle.coords["phi"].values[-1] < 61


def test_projection_puts_a_pixel_where_it_is(processor):
    out = outputs(processor, W0, events(PANEL, [panel_id(0, PANEL_SIDE - 1)] * 800))
    image = out["detector_data/panel_0/plane_current"]
    peak = np.unravel_index(np.argmax(image.values), image.shape)
    y_edges, x_edges = image.coords["y"].values, image.coords["x"].values
    assert y_edges[peak[0]] <= panel_centre(0) <= y_edges[peak[0] + 1]
    assert x_edges[peak[1]] <= panel_centre(PANEL_SIDE - 1) <= x_edges[peak[1] + 1]


def test_rectangle_roi_on_logical_view_counts_exactly(processor):
    send(processor, panel_rectangle_roi(0, "xy", x=(10, 20), y=(5, 10)))
    iy, ix = np.meshgrid(np.arange(5, 10), np.arange(10, 20), indexing="ij")
    inside = np.repeat(panel_id(iy, ix).ravel(), 3)
    border = [panel_id(4, 10), panel_id(10, 10), panel_id(5, 9), panel_id(5, 20)]
    toa = np.where(np.arange(inside.size) % 2 == 0, 12.3, 45.6)
    out = outputs(
        processor,
        W0,
        events(PANEL, inside, toa),
        events(PANEL, border * 7),
    )
    spectrum = out["detector_data/panel_0/roi_0_current"]
    assert spectrum.sum().value == inside.size
    assert out["detector_data/panel_0/roi_counts"].values.tolist() == [inside.size]
    assert out["detector_data/panel_0/roi_counts"].coords["roi"].values.tolist() == [0]
    bin_of = np.searchsorted(spectrum.coords["toa"].values, [12.3, 45.6]) - 1
    assert spectrum.values[bin_of].tolist() == [75, 75]
    assert out["detector_data/panel_0/toa_current"].sum().value == inside.size + 28


def test_polygon_roi_on_projection_uses_pixel_positions(processor):
    # Triangle with corners between pixel centres: (ix, iy) pixels with
    # centres inside are ix >= 32, iy >= 32 and ix + iy <= 80.
    half = PIXEL_SIZE / 2
    corners = [
        (panel_centre(32) - half, panel_centre(32) - half),
        (panel_centre(48) + half, panel_centre(32) - half),
        (panel_centre(32) - half, panel_centre(48) + half),
    ]
    body = {
        "action": "set_roi",
        "target": PANEL,
        "view": "plane",
        "roi": 5,
        "shape": {"kind": "polygon", "vertices": corners},
    }
    send(processor, body)
    iy, ix = np.meshgrid(np.arange(PANEL_SIDE), np.arange(PANEL_SIDE), indexing="ij")
    inside = (ix >= 32) & (iy >= 32) & (ix + iy <= 80)
    ids = panel_id(iy, ix).ravel()
    weights = np.where(inside.ravel(), 2, 1)
    out = outputs(processor, W0, events(PANEL, np.repeat(ids, weights)))
    expected = 2 * int(inside.sum())
    assert out["detector_data/panel_0/roi_5_current"].sum().value == expected
    outline = out["detector_data/panel_0/roi_5_outline"]
    assert outline.dims == ("x",)
    assert outline.sizes["x"] == 4
    assert outline.unit == sc.Unit("m")
    assert outline.coords["x"].unit == sc.Unit("m")
    assert outline.coords["view"].value == "plane"
    assert outline.coords["x"].values[0] == outline.coords["x"].values[-1]


def test_overlapping_rois_count_shared_pixels_in_both(processor):
    send(processor, panel_rectangle_roi(1, "xy", x=(0, 10), y=(0, 10)))
    send(processor, panel_rectangle_roi(15, "xy", x=(5, 15), y=(5, 15)))
    out = outputs(processor, W0, events(PANEL, [panel_id(7, 7)] * 4 + [panel_id(1, 1)]))
    assert out["detector_data/panel_0/roi_1_current"].sum().value == 5
    assert out["detector_data/panel_0/roi_15_current"].sum().value == 4
    assert out["detector_data/panel_0/roi_counts"].values.tolist() == [5, 4]
    send(processor, {"action": "remove_roi", "target": PANEL, "roi": 1})
    out = outputs(processor, W1, events(PANEL, [panel_id(7, 7)] * 2 + [panel_id(1, 1)]))
    assert "detector_data/panel_0/roi_1_current" not in out
    assert out["detector_data/panel_0/roi_15_current"].sum().value == 2
    assert out["detector_data/panel_0/roi_15_cumulative"].sum().value == 6


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


def test_changing_a_roi_restarts_its_cumulative_and_removing_stops_it(processor):
    send(processor, panel_rectangle_roi(2, "xy", x=(0, 64), y=(0, 64)))
    outputs(processor, W0, events(PANEL, [panel_id(0, 0)] * 3))
    send(processor, panel_rectangle_roi(2, "xy", x=(0, 1), y=(0, 1)))
    out = outputs(processor, W1, events(PANEL, [panel_id(0, 0), panel_id(9, 9)]))
    cumulative = out["detector_data/panel_0/roi_2_cumulative"]
    assert cumulative.sum().value == 1
    assert cumulative.coords["start_time"].value == np.datetime64(W1.start, "ns")
    send(processor, {"action": "remove_roi", "target": PANEL, "roi": 2})
    out = outputs(processor, TimeWindow(W1.end, W1.end + W1.end), events(PANEL, [1]))
    assert not [name for name in out if "roi" in name]
    assert processor.status_details().model_dump()["rois"][PANEL] == []


def test_toa_range_filters_images_and_spectra(processor):
    body = {"action": "set_toa_binning", "target": PANEL}
    send(processor, {**body, "toa_min": 10, "toa_max": 20, "bins": 10, "unit": "ms"})
    send(processor, panel_rectangle_roi(0, "xy", x=(0, 64), y=(0, 64)))
    out = outputs(processor, W0, events(PANEL, [1, 2, 3, 4, 5], [5, 10, 15, 19.9, 20]))
    assert out["detector_data/panel_0/xy_current"].sum().value == 3
    assert out["detector_data/panel_0/plane_current"].sum().value == 3
    toa = out["detector_data/panel_0/toa_current"]
    assert toa.values.tolist() == [1, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert toa.coords["toa"].values[[0, -1]].tolist() == [10, 20]
    assert (
        out["detector_data/panel_0/roi_0_current"].values.tolist()
        == toa.values.tolist()
    )
    assert ledger(processor)["out_of_range"] == 2
    assert ledger(processor)["balanced"]


def test_unknown_pixels_and_negative_toa_are_rejected_and_balanced(processor):
    ids = [0, 1, PANEL_SIDE**2, PANEL_SIDE**2 + 1, -5, 100_001]
    toa = [30, 30, -1, 30, 30, 30]
    out = outputs(processor, W0, events(PANEL, ids, toa))
    assert out["detector_data/panel_0/xy_current"].sum().value == 1
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
    outputs(processor, W0, events(PANEL, [1, 2]))
    send(processor, {"action": "reset"})
    out = outputs(processor, W1, events(PANEL, [3]))
    assert out["detector_data/panel_0/xy_cumulative"].sum().value == 1
    assert out["detector_data/panel_0/toa_cumulative"].sum().value == 1
    assert out["detector_data/panel_0/xy_current"].sum().value == 1


def test_view_resolution_changes_shape_and_keeps_counts(processor, random_events):
    outputs(processor, W0, *random_events)
    body = {"action": "set_view_resolution", "target": TUBES, "view": "mantle"}
    send(processor, {**body, "resolution": [16, 200]})
    out = outputs(processor, W1)
    mantle = out["detector_data/tubes_1/mantle_cumulative"]
    assert mantle.sizes == {"y": 16, "phi": 200}
    assert mantle.sum().value == random_events[1].value.size


def square(n: int, x: float = 0.0) -> list[list[float]]:
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return [[x + math.cos(a), math.sin(a)] for a in angles]


BAD_COMMANDS = [
    (panel_rectangle_roi(0, "nope", x=(0, 1), y=(0, 1)), "no view 'nope'"),
    (
        {**panel_rectangle_roi(0, "plane", x=(0, 1), y=(0, 1)), "target": "d9"},
        "unknown",
    ),
    (panel_rectangle_roi(0, "plane", x=(1, 0), y=(0, 1)), "x_min < x_max"),
    (panel_rectangle_roi(0, "plane", x=(0, float("inf")), y=(0, 1)), "finite"),
    (panel_rectangle_roi(16, "plane", x=(0, 1), y=(0, 1)), "roi"),
    (
        {
            "action": "set_roi",
            "target": PANEL,
            "view": "plane",
            "roi": 0,
            "shape": {"kind": "polygon", "vertices": square(2)},
        },
        "at least 3",
    ),
    (
        {
            "action": "set_roi",
            "target": PANEL,
            "view": "plane",
            "roi": 0,
            "shape": {"kind": "polygon", "vertices": square(33)},
        },
        "at most 32",
    ),
    (
        {
            "action": "set_roi",
            "target": PANEL,
            "view": "plane",
            "roi": 0,
            "shape": {
                "kind": "polygon",
                "vertices": [[0, 0], [1, float("nan")], [1, 1]],
            },
        },
        "finite",
    ),
    ({"action": "set_roi", "view": "plane", "roi": 0, "shape": {}}, "target"),
    ({"action": "remove_roi", "target": PANEL, "roi": 3}, "no ROI 3"),
    (
        {
            "action": "set_view_resolution",
            "target": PANEL,
            "view": "xy",
            "resolution": [10, 10],
        },
        "not a projection",
    ),
    (
        {
            "action": "set_view_resolution",
            "target": PANEL,
            "view": "plane",
            "resolution": [0, 10],
        },
        "resolution",
    ),
    ({"action": "set_toa_binning", "toa_min": 5, "toa_max": 1, "bins": 3}, "toa_max"),
    ({"action": "start"}, "action"),
]


@pytest.mark.parametrize(("body", "reason"), BAD_COMMANDS)
def test_bad_commands_are_rejected_and_change_nothing(
    instrument, random_events, body, reason
):
    processor = DetectorProcessor(instrument)
    reference = DetectorProcessor(instrument)
    outputs(processor, W0, *random_events)
    outputs(reference, W0, *random_events)
    [response] = processor.handle_command(command(body))
    assert response.value.status == "rejected"
    assert reason in response.value.reason
    got = outputs(processor, W1, *random_events)
    expected = outputs(reference, W1, *random_events)
    assert got.keys() == expected.keys()
    for name, data in expected.items():
        assert sc.identical(got[name], data), name
    assert processor.status_details().model_dump()["commands_rejected"] == 1


def test_commands_for_other_services_are_ignored(processor):
    assert processor.handle_command(command({"action": "reset"}, "monitor_data")) == []


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
    processor = DetectorProcessor(Instrument(name="odd", detectors=(bank,)))
    # Row 2 of the original numbering (ids 18..21, doubled) is now row 0.
    out = outputs(processor, W0, events("odd", [36, 36, 38, 21, 19, 100]))
    pixels = out["detector_data/odd/xy_current"]
    assert pixels["y", 0].values.tolist() == [2, 1, 0, 0]
    assert out["detector_data/odd/plane_current"].sum().value == 3
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
    processor = DetectorProcessor(Instrument(name="folded", detectors=(bank,)))
    # id 6: y=0, x=5 -> tube 1, straw 2
    out = outputs(processor, W0, events("folded", [6, 6]))
    image = out["detector_data/folded/straws_current"]
    assert image.dims == ("straw", "y", "tube")
    assert image["straw", 2]["y", 0]["tube", 1].value == 2
    body = {
        "action": "set_roi",
        "target": "folded",
        "view": "straws",
        "roi": 0,
        "shape": {"kind": "rectangle", "x_min": 1, "x_max": 2, "y_min": 0, "y_max": 1},
    }
    send(processor, body)
    out = outputs(processor, W1, events("folded", [6, 3]))
    assert out["detector_data/folded/roi_0_current"].sum().value == 1


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
