"""essspectroscopy's Q maps live: the job against the package offline.

A small BIFROST-shaped NeXus file (``geometry_file``: the 45 triplets with
their analysers, the tank and sample rotations, monitors and moderator at
the facility's paths) holds a seeded run as ``NXevent_data`` per triplet.
The live job gets that run as ev44 batches of the unified detector over
several windows; essspectroscopy's pipeline reads it from the file in one
go. Both use the same lookup table (BIFROST's choppers).
"""

import numpy as np
import pytest
import scipp as sc
import scipp.testing

from ess.livedata.core.geometry_files import OVERRIDE_VARIABLE
from ess.livedata.core.job_commands import parse_params
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch, LogSample
from ess.livedata.core.plugins import load_instrument
from ess.livedata.instruments.bifrost.geometry_file import (
    Run,
    triplet_names,
    write_bifrost_file,
)
from ess.livedata.instruments.bifrost.workflows import (
    CUT_UNIT,
    SAMPLE_ANGLE,
    TANK_ANGLE,
)
from ess.livedata.reduction.lookup_table_cache import CACHE_DIR_VARIABLE
from ess.livedata.testing.nexus_files import (
    float64_weights,
    in_windows,
    recorded_batches,
)

DETECTOR = StreamId(StreamKind.DETECTOR_EVENTS, "unified_detector")
PULSES = 21
WINDOWS = 3
QMAP = {"q_edges": {"start": 0.2, "stop": 2.0, "num_bins": 40}}
QMAP["energy_edges"] = {"start": -2.0, "stop": 6.0, "num_bins": 40}
ELASTIC = {
    "axis1": {"axis": "Qx", "start": -2.0, "stop": 2.0, "num_bins": 30},
    "axis2": {"axis": "Qz", "start": -2.0, "stop": 2.0, "num_bins": 30},
}
CUSTOM = {
    "axis1": {"qx": 1.0, "qy": 0.0, "qz": 1.0},
    "axis1_edges": {"start": -2.0, "stop": 2.0, "num_bins": 20},
    "axis2": {"qx": -1.0, "qy": 0.0, "qz": 1.0},
    "axis2_edges": {"start": -2.0, "stop": 2.0, "num_bins": 20},
}
CASES = [("qmap/v1", QMAP), ("elastic_qmap/v1", ELASTIC)]
CASES += [("elastic_qmap_custom/v1", CUSTOM)]


@pytest.fixture(scope="module")
def bifrost_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("geometry") / "bifrost.nxs"
    return write_bifrost_file(path, run=Run(pulses=PULSES, mean_counts=1.5))


@pytest.fixture(scope="module")
def bifrost(bifrost_file, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(OVERRIDE_VARIABLE, str(bifrost_file))
        patch.setenv(CACHE_DIR_VARIABLE, str(tmp_path_factory.mktemp("tables")))
        yield load_instrument("bifrost")


def unified_batches(path) -> list[EventBatch]:
    """Per pulse, the events of all 45 triplets as one batch (the ev44
    adapter merges the triplet sources into the unified detector)."""
    triplets = [recorded_batches(path, name) for name in triplet_names()]
    return [
        EventBatch(
            reference_time=pulse[0].reference_time,
            reference_time_index=np.array([0], dtype=np.int32),
            time_of_arrival=np.concatenate([b.time_of_arrival for b in pulse]),
            pixel_id=np.concatenate([b.pixel_id for b in pulse]),
        )
        for pulse in zip(*triplets, strict=True)
    ]


def windows(path, count: int):
    return in_windows({DETECTOR: unified_batches(path)}, count)


def cut_job(bifrost, key: str, params: dict):
    spec = bifrost.workflow_specs[key]
    job = bifrost.workflow_factories()[key](parse_params(spec, params), (DETECTOR,))
    job.wait()  # built in the background
    return job


def offline(bifrost_file, key: str, params: dict) -> sc.DataArray:
    """essspectroscopy reading the whole run from the file; float64 weights
    as live (scippnexus loads them as float32)."""
    import scippnexus as snx

    from ess.bifrost.live import CutData
    from ess.livedata.instruments.bifrost.reduction import (
        LOOKUP_TABLE,
        cut_axes,
        cut_workflow,
    )
    from ess.livedata.reduction.lookup_table_cache import LookupTableCache
    from ess.reduce.nexus.types import NeXusData, SampleRun

    validated = parse_params(load_instrument("bifrost").workflow_specs[key], params)
    table = LookupTableCache().get(LOOKUP_TABLE).table
    workflow = cut_workflow(bifrost_file, table, cut_axes(validated))
    events = NeXusData[snx.NXdetector, SampleRun]
    workflow[events] = float64_weights(workflow.compute(events))
    return workflow.compute(CutData[SampleRun])


@pytest.mark.parametrize(("key", "params"), CASES)
def test_live_job_over_windows_equals_essspectroscopy_offline(
    bifrost, bifrost_file, key, params
):
    job = cut_job(bifrost, key, params)
    for window in windows(bifrost_file, WINDOWS):
        job.accumulate(window)
    live = job.finalize()
    expected = offline(bifrost_file, key, params)
    assert set(live) == {"cut_data"}
    sc.testing.assert_allclose(live["cut_data"], expected, rtol=sc.scalar(1e-12))
    cut = live["cut_data"]
    assert cut.dims[0] == "arc"
    assert cut.sizes["arc"] == 5
    assert np.count_nonzero(cut.values) > 20
    assert cut.unit == sc.Unit(CUT_UNIT)


def test_the_custom_map_names_its_axes_after_the_vectors(bifrost, bifrost_file):
    job = cut_job(bifrost, "elastic_qmap_custom/v1", CUSTOM)
    job.accumulate(windows(bifrost_file, WINDOWS)[0])
    cut = job.finalize()["cut_data"]
    assert set(cut.dims) == {"arc", "Q_(1.0,0.0,1.0)", "Q_(-1.0,0.0,1.0)"}
    assert cut.coords["Q_(1.0,0.0,1.0)"].unit == "1/angstrom"


def test_the_sample_rotation_reading_rotates_the_elastic_map(bifrost, bifrost_file):
    """The file says a3 = 30°; a reading of 120° turns Q by 90° about the
    vertical, so Qx and Qz counts move to other bins."""
    window = windows(bifrost_file, 1)[0]
    as_filed = cut_job(bifrost, "elastic_qmap/v1", ELASTIC)
    as_filed.accumulate(window)
    rotated = cut_job(bifrost, "elastic_qmap/v1", ELASTIC)
    rotated.accumulate({**window, SAMPLE_ANGLE: [LogSample(time=1, value=120.0)]})
    before = as_filed.finalize()["cut_data"]
    after = rotated.finalize()["cut_data"]
    assert after.sum().value == pytest.approx(before.sum().value)
    assert not np.allclose(after.values, before.values)


def test_a_tank_reading_equal_to_the_file_changes_nothing(bifrost, bifrost_file):
    window = windows(bifrost_file, 1)[0]
    as_filed = cut_job(bifrost, "qmap/v1", QMAP)
    as_filed.accumulate(window)
    read = cut_job(bifrost, "qmap/v1", QMAP)
    read.accumulate({**window, TANK_ANGLE: [LogSample(time=1, value=10.0)]})
    sc.testing.assert_allclose(
        read.finalize()["cut_data"], as_filed.finalize()["cut_data"]
    )


def test_invalid_parameters_and_sources_are_refused(bifrost):
    spec = bifrost.workflow_specs["elastic_qmap/v1"]
    same = {**ELASTIC, "axis2": {**ELASTIC["axis2"], "axis": "Qx"}}
    with pytest.raises(ValueError, match="different Q components"):
        parse_params(spec, same)
    factory = bifrost.workflow_factories()["qmap/v1"]
    other = StreamId(StreamKind.DETECTOR_EVENTS, "elsewhere")
    with pytest.raises(ValueError, match="unified_detector only"):
        factory(parse_params(bifrost.workflow_specs["qmap/v1"], {}), (other,))


def counted_by_hand(path, region: dict) -> int:
    """Events whose id lies in the region: arc ``a`` (0-based), ids
    ``1 + a*2700 + tube*900 + position`` for position in [start, stop)."""
    ids = np.concatenate([b.pixel_id for b in unified_batches(path)])
    arc = ["2.7 meV", "3.2 meV", "3.8 meV", "4.4 meV", "5.0 meV"].index(region["arc"])
    position = (ids - 1 - arc * 2700) % 900
    in_arc = (ids - 1) // 2700 == arc
    inside = (position >= region["pixel_start"]) & (position < region["pixel_stop"])
    return int(np.count_nonzero(in_arc & inside))


def test_the_ratemeter_counts_its_region_per_window_and_since_start(
    bifrost, bifrost_file
):
    region = {"arc": "3.2 meV", "pixel_start": 150, "pixel_stop": 420}
    spec = bifrost.workflow_specs["detector_ratemeter/v1"]
    job = bifrost.workflow_factories()["detector_ratemeter/v1"](
        parse_params(spec, {"region": region}), (DETECTOR,)
    )
    job.wait()
    per_window = []
    for window in windows(bifrost_file, WINDOWS):
        job.accumulate(window)
        results = job.finalize()
        per_window.append(results["detector_region_counts"].value)
    total = results["detector_region_counts_cumulative"]
    assert total.value == counted_by_hand(bifrost_file, region) > 0
    assert sum(per_window) == total.value
    assert min(per_window) > 0
    assert total.variance == total.value
    assert total.unit == "counts"
