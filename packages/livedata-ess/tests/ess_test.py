"""Stream tables, their mapping, layout views and stand-in placement."""

from __future__ import annotations

import numpy as np
import pytest

from ess.livedata.core.fake_shapes import DEFAULT_FAKE_DATA_SHAPES
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.streams import Topology
from ess.livedata.ess.geometry import StandIn
from ess.livedata.ess.instrument import (
    BankPlan,
    EssInstrument,
    binned_view,
    is_ess_instrument,
    layout_view,
)
from ess.livedata.ess.mapping import ess_stream_mapping
from ess.livedata.ess.tables import parse_tables


def raw_tables(**overrides) -> dict:
    bank = {
        "name": "front",
        "title": "Front",
        "prod": {"topic": "x_detector_front", "sources": ["x"]},
        "dev": {"topic": "x_detector", "sources": ["front"]},
        "detector_number": {"first": 1, "count": 24, "from_geometry_file": True},
        "layout": {"wire": 2, "module": 3, "strip": 4},
    }
    back = {
        **bank,
        "name": "back",
        "prod": {"topic": "x_detector_back", "sources": ["x"]},
        "dev": {"topic": "x_detector", "sources": ["back"]},
    }
    raw = {
        "name": "x",
        "title": "X",
        "peak_event_rate": 1e6,
        "dev_log_topic": "x_motion",
        "detectors": [bank, back],
        "monitors": [
            {
                "name": "m0",
                "title": "M0",
                "prod": {"topic": "x_beam_monitor", "sources": ["cbm1"]},
                "dev": {"topic": "x_beam_monitor", "sources": ["monitor1"]},
            }
        ],
        "logs": [
            {
                "name": "slit/value",
                "topic": "x_motion",
                "source": "X:S.RBV",
                "unit": "mm",
            }
        ],
        "geometry": None,
    }
    return {**raw, **overrides}


def test_banks_sharing_a_source_name_are_told_apart_by_topic():
    mapping = ess_stream_mapping(parse_tables(raw_tables()), Topology.PRODUCTION)
    assert mapping.resolve("x_detector_front", "x") == StreamId(
        StreamKind.DETECTOR_EVENTS, "front"
    )
    assert mapping.resolve("x_detector_back", "x") == StreamId(
        StreamKind.DETECTOR_EVENTS, "back"
    )
    assert mapping.resolve("x_motion", "X:S.RBV") == StreamId(
        StreamKind.LOG, "slit/value"
    )


def test_dev_logs_arrive_under_their_names_on_the_dev_log_topic():
    mapping = ess_stream_mapping(parse_tables(raw_tables()), Topology.DEV)
    assert mapping.resolve("x_motion", "slit/value") == StreamId(
        StreamKind.LOG, "slit/value"
    )
    assert mapping.resolve("x_beam_monitor", "monitor1") == StreamId(
        StreamKind.MONITOR_EVENTS, "m0"
    )


def test_one_pair_routed_to_two_streams_is_refused():
    raw = raw_tables()
    raw["logs"].append({**raw["logs"][0], "name": "other"})
    with pytest.raises(ValueError, match="routes both to"):
        ess_stream_mapping(parse_tables(raw), Topology.PRODUCTION)


def test_layout_view_merges_adjacent_dims_and_sums_the_others():
    table = parse_tables(raw_tables()).bank("front")
    view = layout_view(table, "v", ("strip", ("wire", "module")))
    assert view.fold == {"detector_number": {"wire_module": 6, "strip": 4}}
    assert view.transpose == ("strip", "wire_module")
    assert view.sum == ()
    view = layout_view(table, "v", ("strip", "module"))
    assert view.sum == ("wire",)


def test_layout_view_refuses_dims_that_are_not_adjacent():
    table = parse_tables(raw_tables()).bank("front")
    with pytest.raises(ValueError, match="not adjacent"):
        layout_view(table, "v", ("module", ("wire", "strip")))


def test_stand_in_cylinder_puts_pixels_at_its_radius_in_layout_order():
    table = parse_tables(raw_tables()).bank("front")
    spec = StandIn("cylinder", across=("module",), along=("strip",), size=(1.5, 1.0))
    positions = spec.positions(table)
    assert positions.shape == (24, 3)
    radius = np.hypot(positions[:, 0], positions[:, 2])
    # wire (the slowest dim) is the depth: the second half lies further out.
    assert np.allclose(radius[:12], 1.5)
    assert np.allclose(radius[12:], 1.5 + spec.depth)
    # strip is the fastest dim and runs along y.
    assert np.all(np.diff(positions[:4, 1]) > 0)


def two_banks(numbers_from_file: bool, **overrides) -> EssInstrument:
    """Banks ``front`` (numbers 1..24) and ``back`` (25..48) on one panel
    stand-in; ``overrides`` go to :func:`raw_tables`."""
    raw = raw_tables(**overrides)
    for bank in raw["detectors"]:
        bank["detector_number"] = {
            **bank["detector_number"],
            "from_geometry_file": numbers_from_file,
        }
    raw["detectors"][1]["detector_number"]["first"] = 25
    panel = StandIn("panel", across=("module",), along=("strip",), centre=(0, 0, 2))
    plan = BankPlan(views=(), stand_in=panel)
    return EssInstrument(
        tables=parse_tables(raw),
        banks={"front": plan, "back": plan},
        fake_shapes=DEFAULT_FAKE_DATA_SHAPES,
    )


def test_without_geometry_files_banks_are_their_numbers_placed_in_code():
    instrument = two_banks(numbers_from_file=False).instrument()
    back = instrument.detector("back")
    assert back.detector_number.values.tolist() == list(range(25, 49))
    assert back.detector_number.dtype == "int32"
    positions = back.geometry.coords["position"].values
    assert positions.shape == (24, 3)
    assert np.allclose(positions[:, 2], 2.0 + 0.005 * (np.arange(24) // 12))
    assert np.all(np.diff(positions[:4, 1]) > 0)  # strip runs along y
    assert is_ess_instrument(instrument)


def test_numbers_from_a_file_need_a_declared_file():
    with pytest.raises(ValueError, match="none is declared"):
        two_banks(numbers_from_file=True).instrument()


def test_binned_view_sums_square_bins_of_a_square_layout():
    raw = raw_tables()
    raw["detectors"][0]["layout"] = {"dim_0": 4, "dim_1": 6}
    with pytest.raises(ValueError, match="no square"):
        binned_view(parse_tables(raw).bank("front"), "v", ("x", "y"), ("y", "x"), 2)
    raw["detectors"][0]["layout"] = {"dim_0": 4, "dim_1": 4}
    raw["detectors"][0]["detector_number"]["count"] = 16
    view = binned_view(parse_tables(raw).bank("front"), "v", ("x", "y"), ("y", "x"), 2)
    assert view.fold == {"detector_number": {"x": 2, "x_bin": 2, "y": 2, "y_bin": 2}}
    assert view.sum == ("x_bin", "y_bin")
    assert view.transpose == ("y", "x")
