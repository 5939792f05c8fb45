"""essreflectometry's ESTIA reduction live: the job against the package offline.

An ESTIA-shaped NeXus file (``geometry_file``: the multiblade detector
with flat detector numbers as in the facility's file, the detector arm's and
the sample's rotation logs, source, sample and beam monitor) holds a seeded
run as ``NXevent_data``. The live job gets that run as ev44 batches over
several windows; essreflectometry's pipeline reads it from the file in one
go. Both use the same lookup table (the bare ESS source).
"""

import numpy as np
import pytest
import scipp as sc
import scipp.testing

from ess.livedata.core.geometry_files import OVERRIDE_VARIABLE
from ess.livedata.core.job_commands import parse_params
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import load_instrument
from ess.livedata.instruments.estia.geometry_file import LAYOUT, write_estia_file
from ess.livedata.instruments.estia.workflows import DETECTOR
from ess.livedata.reduction.lookup_table_cache import CACHE_DIR_VARIABLE
from ess.livedata.testing.nexus_files import (
    NexusEvents,
    float64_weights,
    in_windows,
    recorded_batches,
)

PULSES = 21
WINDOWS = 3
KEY = "reflectometry_reduction/v1"
PARAMS = {"q_bins": 100, "theta_bins": 30, "wavelength_bins": 40}


@pytest.fixture(scope="module")
def estia_file(tmp_path_factory):
    """Half a count a pixel on average: about 49,000 events."""
    pixels = LAYOUT["strip"] * LAYOUT["blade"] * LAYOUT["wire"]
    counts = np.random.default_rng(5).poisson(0.5, pixels)
    return write_estia_file(
        tmp_path_factory.mktemp("geometry") / "estia.nxs",
        events=NexusEvents(pulses=PULSES, detector_counts={DETECTOR.name: counts}),
    )


@pytest.fixture(scope="module")
def estia(estia_file, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(OVERRIDE_VARIABLE, str(estia_file))
        patch.setenv(CACHE_DIR_VARIABLE, str(tmp_path_factory.mktemp("tables")))
        yield load_instrument("estia")


def windows(path, count: int):
    return in_windows({DETECTOR: recorded_batches(path, DETECTOR.name)}, count)


def reflectometry_job(estia, **params):
    spec = estia.workflow_specs[KEY]
    job = estia.workflow_factories()[KEY](parse_params(spec, params), (DETECTOR,))
    job.wait()  # built in the background
    return job


def offline(estia_file, **params):
    """essreflectometry reading the whole run from the file; float64 weights
    as live (scippnexus loads them as float32)."""
    import scippnexus as snx

    from ess.livedata.instruments.estia.reduction import (
        LOOKUP_TABLE,
        TARGETS,
        estia_workflow,
    )
    from ess.livedata.instruments.estia.workflows import ReflectometryParams
    from ess.livedata.reduction.lookup_table_cache import LookupTableCache
    from ess.reduce.nexus.types import NeXusData, SampleRun

    params = ReflectometryParams.model_validate(params)
    table = LookupTableCache().get(LOOKUP_TABLE).table
    workflow = estia_workflow(estia_file, table, params)
    key = NeXusData[snx.NXdetector, SampleRun]
    workflow[key] = float64_weights(workflow.compute(key))
    results = workflow.compute(list(TARGETS.values()))
    return {name: results[key] for name, key in TARGETS.items()}


def test_live_job_over_windows_equals_essreflectometry_offline(estia, estia_file):
    job = reflectometry_job(estia, **PARAMS)
    for window in windows(estia_file, WINDOWS):
        job.accumulate(window)
    live = job.finalize()
    expected = offline(estia_file, **PARAMS)
    assert set(live) == {"i_of_wavelength", "i_of_q", "i_of_theta_wavelength"}
    for name, result in live.items():
        sc.testing.assert_allclose(result, expected[name], rtol=sc.scalar(1e-12))
    image = live["i_of_theta_wavelength"]
    assert np.count_nonzero(image.values) > 100
    assert image.unit == "counts/uA"
    # I(λ) is I(θ, λ) summed over θ; I(Q) holds what falls in its Q range.
    sc.testing.assert_allclose(live["i_of_wavelength"].sum(), image.sum())
    assert 0 < live["i_of_q"].sum().value <= image.sum().value


def test_outputs_have_units_and_the_job_binds_the_multiblade_detector(
    estia, estia_file
):
    job = reflectometry_job(estia, **PARAMS)
    job.accumulate(windows(estia_file, WINDOWS)[0])
    results = job.finalize()
    assert results["i_of_q"].coords["Q"].unit == "1/angstrom"
    assert results["i_of_wavelength"].coords["wavelength"].unit == "angstrom"
    image = results["i_of_theta_wavelength"]
    assert image.dims == ("theta", "wavelength")
    assert image.coords["theta"].unit == "deg"
    spec = estia.workflow_specs[KEY]
    units = {output.name: output.unit for output in spec.output_specs}
    assert all(units[name] == str(result.unit) for name, result in results.items())
    monitor = StreamId(StreamKind.DETECTOR_EVENTS, "cbm1")
    with pytest.raises(ValueError, match="multiblade_detector only"):
        estia.workflow_factories()[KEY](parse_params(spec, {}), (monitor,))


def test_masked_strips_take_their_events_out(estia, estia_file):
    """The strip (y index) limits reach the package's masks."""
    whole = reflectometry_job(estia, **PARAMS)
    half = reflectometry_job(estia, **PARAMS, y_index_max=31)
    for window in windows(estia_file, WINDOWS):
        whole.accumulate(window)
        half.accumulate(window)
    total = whole.finalize()["i_of_wavelength"].sum().value
    part = half.finalize()["i_of_wavelength"].sum().value
    assert 0.3 * total < part < 0.7 * total
