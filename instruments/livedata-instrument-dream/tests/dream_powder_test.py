"""essdiffraction's powder reduction live: the job against the package offline.

A small DREAM-shaped NeXus file (a 32-strip high-resolution bank with flat
detector numbers as in the facility's files, the cave monitor, source and
sample) holds a seeded run as ``NXevent_data``. The live job gets that run as
ev44 batches over several windows; essdiffraction's pipeline reads it from
the file in one go. Both use the same lookup table (BC240 choppers). A
second file of the same structure, another seeded run, is the vanadium run.
"""

import numpy as np
import pytest
import scipp as sc
import scipp.testing

from ess.livedata.core.geometry_files import DATA_DIR_VARIABLE, OVERRIDE_VARIABLE
from ess.livedata.core.job_commands import parse_params
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import load_instrument
from ess.livedata.reduction.lookup_table_cache import CACHE_DIR_VARIABLE
from ess.livedata.testing.nexus_files import (
    Bank,
    Component,
    NexusEvents,
    PixelBank,
    bank_positions,
    float64_weights,
    in_windows,
    recorded_batches,
    write_nexus_file,
)

BANK = StreamId(StreamKind.DETECTOR_EVENTS, "high_resolution_detector")
CAVE = StreamId(StreamKind.MONITOR_EVENTS, "monitor_cave")
PULSES = 21
WINDOWS = 3
SHAPE = (40, 32)  # other x strip, strips fastest: esssdiffraction folds by strip
VANADIUM = "vanadium_run.nxs"
WITH_VANADIUM = "powder_reduction_with_vanadium/v1"


def small_dream_file(path, mean: float = 2.0, seed: int = 3):
    """A backscattering panel 1.2 m behind the sample, ``mean`` counts a
    pixel on average, 40,000 cave-monitor events."""
    panel = Bank(
        BANK.name,
        first_id=1,
        shape=SHAPE,
        pixel_size=0.01,
        rotation_deg=180.0,
        direction=(0.2, 0.0, -1.0),
        distance_mm=1200.0,
    )
    flat = PixelBank(
        BANK.name, panel.detector_number.ravel(), bank_positions(panel).reshape(-1, 3)
    )
    counts = np.random.default_rng(seed).poisson(mean, flat.detector_number.size)
    write_nexus_file(
        path,
        [flat],
        monitors=[Component(CAVE.name, (0.0, 0.0, -2.0))],
        source=Component("source", (0.0, 0.0, -76.55)),
        events=NexusEvents(
            pulses=PULSES,
            detector_counts={BANK.name: counts},
            monitor_counts={CAVE.name: 40_000},
        ),
        seed=seed,
    )
    return path


@pytest.fixture(scope="module")
def dream_file(tmp_path_factory):
    return small_dream_file(tmp_path_factory.mktemp("geometry") / "dream.nxs")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Where the vanadium run lies, as ``LIVEDATA_DATA_DIR``."""
    path = tmp_path_factory.mktemp("data")
    small_dream_file(path / VANADIUM, mean=6.0, seed=4)
    return path


@pytest.fixture(scope="module")
def dream(dream_file, data_dir, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DATA_DIR_VARIABLE, str(data_dir))
        patch.setenv(OVERRIDE_VARIABLE, str(dream_file))
        patch.setenv(CACHE_DIR_VARIABLE, str(tmp_path_factory.mktemp("tables")))
        yield load_instrument("dream")


def windows(path, count: int):
    streams = {stream: recorded_batches(path, stream.name) for stream in (BANK, CAVE)}
    return in_windows(streams, count)


def powder_job(dream, key="powder_reduction/v1", **params):
    spec = dream.workflow_specs[key]
    factory = dream.workflow_factories()[key]
    job = factory(parse_params(spec, params), (BANK,))
    job.wait()  # built in the background
    return job


def offline(dream_file, vanadium_file=None, **params):
    """essdiffraction reading the whole run from the file; float64 weights as
    live (scippnexus loads them as float32)."""
    import scippnexus as snx

    from ess.livedata.instruments.dream.reduction import (
        TARGETS,
        VANADIUM_TARGETS,
        lookup_table_setting,
        powder_workflow,
        with_vanadium,
    )
    from ess.livedata.instruments.dream.workflows import PowderParams
    from ess.livedata.reduction.lookup_table_cache import LookupTableCache
    from ess.powder.types import CaveMonitor
    from ess.reduce.nexus.types import NeXusData, SampleRun

    params = PowderParams.model_validate(params)
    setting = lookup_table_setting(params.instrument_configuration)
    table = LookupTableCache().get(setting).table
    workflow = powder_workflow(dream_file, BANK.name, True, table, params)
    targets = TARGETS
    if vanadium_file is not None:
        workflow = with_vanadium(workflow, vanadium_file, table)
        targets = VANADIUM_TARGETS
    for component in (snx.NXdetector, CaveMonitor):
        key = NeXusData[component, SampleRun]
        workflow[key] = float64_weights(workflow.compute(key))
    results = workflow.compute(list(targets.values()))
    return {name: results[key] for name, key in targets.items()}


PARAMS = {"dspacing_bins": 100, "two_theta_bins": 20, "two_theta_min": 2.0}


def test_live_job_over_windows_equals_essdiffraction_offline(dream, dream_file):
    job = powder_job(dream, **PARAMS)
    for window in windows(dream_file, WINDOWS):
        job.accumulate(window)
    live = job.finalize()
    expected = offline(dream_file, **PARAMS)
    assert set(live) == {
        "focussed_data_dspacing",
        "focussed_data_dspacing_two_theta",
        "focussed_data_tof",
    }
    for name, result in live.items():
        sc.testing.assert_allclose(
            result, expected[name], rtol=sc.scalar(1e-12), equal_nan=True
        )
    focussed = live["focussed_data_dspacing"]
    assert np.count_nonzero(np.nan_to_num(focussed.values)) > 10
    assert focussed.coords["dspacing"].unit == "angstrom"
    assert focussed.unit == "dimensionless"


def test_with_vanadium_live_over_windows_equals_essdiffraction_offline(
    dream, dream_file, data_dir
):
    """The vanadium run named bare, found in the data directory."""
    job = powder_job(dream, WITH_VANADIUM, **PARAMS, vanadium_file=VANADIUM)
    for window in windows(dream_file, WINDOWS):
        job.accumulate(window)
    live = job.finalize()
    expected = offline(dream_file, data_dir / VANADIUM, **PARAMS)
    assert set(live) == set(expected)
    assert {"i_of_dspacing", "i_of_dspacing_two_theta", "i_of_tof"} < set(live)
    for name, result in live.items():
        sc.testing.assert_allclose(
            result, expected[name], rtol=sc.scalar(1e-12), equal_nan=True
        )
    spec = dream.workflow_specs[WITH_VANADIUM]
    units = {output.name: output.unit for output in spec.output_specs}
    assert all(units[name] == str(result.unit) for name, result in live.items())
    # Divided by another run: not the focussed data, and where the vanadium
    # saw nothing the bin is masked rather than infinite.
    normalised = live["i_of_dspacing"]
    focussed = live["focussed_data_dspacing"]
    assert "zero_vanadium" in normalised.masks
    valid = ~normalised.masks["zero_vanadium"].values & (focussed.values > 0)
    assert valid.sum() > 10
    assert not np.allclose(normalised.values[valid], focussed.values[valid])
    assert np.isfinite(normalised.values[valid]).all()
    assert normalised.coords["dspacing"].unit == "angstrom"
    assert live["i_of_tof"].coords["tof"].unit == "us"


def test_a_missing_vanadium_run_refuses_the_job_in_one_line(dream):
    spec = dream.workflow_specs[WITH_VANADIUM]
    factory = dream.workflow_factories()[WITH_VANADIUM]
    params = parse_params(spec, {"vanadium_file": "no_such_run.nxs"})
    with pytest.raises(ValueError, match=r"vanadium run no_such_run\.nxs not found"):
        factory(params, (BANK,))


def test_outputs_have_units_and_a_job_binds_one_bank(dream, dream_file):
    job = powder_job(dream, **PARAMS)
    job.accumulate(windows(dream_file, WINDOWS)[0])
    results = job.finalize()
    assert results["focussed_data_tof"].coords["tof"].unit == "us"
    two_theta = results["focussed_data_dspacing_two_theta"]
    assert two_theta.dims == ("dspacing", "two_theta")  # as the facility's
    assert two_theta.coords["two_theta"].unit == "rad"
    assert two_theta.unit == "dimensionless"
    spec = dream.workflow_specs["powder_reduction/v1"]
    factory = dream.workflow_factories()["powder_reduction/v1"]
    other = StreamId(StreamKind.DETECTOR_EVENTS, "mantle_detector")
    with pytest.raises(ValueError, match="one bank per job"):
        factory(parse_params(spec, {}), (BANK, other))


def test_a_powder_job_runs_on_the_stand_in_geometry_and_fake_data(tmp_path):
    """The demo's case: banks shaped like their layout, fake powder events."""
    from ess.livedata.ess.stand_in import on_stand_in_geometry
    from ess.livedata.fake.detectors import PixelSampler, draw_events

    with (
        pytest.MonkeyPatch.context() as patch,
        on_stand_in_geometry("dream", tmp_path) as loaded,
    ):
        patch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "tables"))
        bank = StreamId(StreamKind.DETECTOR_EVENTS, "endcap_forward_detector")
        shapes = loaded.fake_data_shapes()
        sampler = PixelSampler(
            loaded.instrument.detector(bank.name),
            shapes,
            loaded.instrument.sample_position,
        )
        spec = loaded.workflow_specs["powder_reduction/v1"]
        job = loaded.workflow_factories()["powder_reduction/v1"](
            parse_params(spec, PARAMS), (bank,)
        )
        job.wait()
        rng = np.random.default_rng(2)
        pixel_id, toa = draw_events(sampler, shapes.detector_toa, 50_000, rng)
        job.accumulate(
            {
                bank: [
                    EventBatch(
                        reference_time=np.array([0], dtype=np.int64),
                        reference_time_index=np.array([0], dtype=np.int32),
                        time_of_arrival=toa,
                        pixel_id=pixel_id,
                    )
                ]
            }
        )
        focussed = job.finalize()["focussed_data_dspacing"]
    assert np.nansum(focussed.values) > 0
