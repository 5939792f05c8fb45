"""esssans's I(Q) run live: the job against esssans reading the same run offline.

A small LOKI-shaped NeXus file (``rear_bank_file``: the rear bank's
4 x 56 x 7 straws with 8 pixels each) holds a seeded run as ``NXevent_data``.
The live job gets that run as ev44 batches over several windows; esssans's
pipeline reads it from the file in one go. Both use the same lookup table.
"""

import numpy as np
import pytest
import scipp as sc
import scipp.testing

from ess.livedata.core.geometry_files import OVERRIDE_VARIABLE
from ess.livedata.core.job_commands import parse_params
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import load_instrument
from ess.livedata.instruments.loki.geometry import REAR
from ess.livedata.instruments.loki.rear_bank_file import write_rear_bank_file
from ess.livedata.kafka.schemas.da00 import decode_da00, encode_da00
from ess.livedata.reduction.lookup_table_cache import CACHE_DIR_VARIABLE
from ess.livedata.testing.nexus_files import (
    NexusEvents,
    float64_weights,
    in_windows,
    recorded_batches,
)

REAR_STREAM = StreamId(StreamKind.DETECTOR_EVENTS, "loki_detector_0")
INCIDENT = StreamId(StreamKind.MONITOR_EVENTS, "beam_monitor_m1")
TRANSMISSION = StreamId(StreamKind.MONITOR_EVENTS, "beam_monitor_m3")
PIXELS_PER_STRAW = 8
PULSES = 28
WINDOWS = 4


def small_loki_file(path):
    """8 pixels a straw, a per-pixel count pattern and both monitors' events."""
    counts = np.random.default_rng(7).poisson(3.0, 4 * 56 * 7 * PIXELS_PER_STRAW)
    events = NexusEvents(
        pulses=PULSES,
        detector_counts={REAR.name: counts},
        monitor_counts={INCIDENT.name: 60_000, TRANSMISSION.name: 30_000},
    )
    return write_rear_bank_file(path, PIXELS_PER_STRAW, events)


@pytest.fixture(scope="module")
def loki_file(tmp_path_factory):
    return small_loki_file(tmp_path_factory.mktemp("geometry") / "loki.nxs")


@pytest.fixture(scope="module")
def loki(loki_file, tmp_path_factory):
    """LOKI reading ``loki_file``; lookup tables cached for the module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(OVERRIDE_VARIABLE, str(loki_file))
        patch.setenv(CACHE_DIR_VARIABLE, str(tmp_path_factory.mktemp("tables")))
        yield load_instrument("loki")


def windows(path, count: int):
    """The run's pulses split into ``count`` consecutive windows."""
    streams = {
        stream: recorded_batches(path, stream.name)
        for stream in (REAR_STREAM, INCIDENT, TRANSMISSION)
    }
    return in_windows(streams, count)


def i_of_q_job(loki, **params):
    spec = loki.workflow_specs["i_of_q/v2"]
    job = loki.workflow_factories()["i_of_q/v2"](
        parse_params(spec, params), (REAR_STREAM,)
    )
    job.wait()  # built in the background
    return job


def offline(loki_file, **params):
    """esssans reading the whole run from the file, as a scientist would.

    scippnexus loads event weights as float32; live events weigh float64
    (as the facility's live path), so the loaded run gets float64 weights
    and the results can agree to double precision.
    """
    import scippnexus as snx

    from ess.livedata.instruments.loki.reduction import (
        LOOKUP_TABLE,
        TARGETS,
        sans_workflow,
    )
    from ess.livedata.instruments.loki.workflows import SansParams
    from ess.livedata.reduction.lookup_table_cache import LookupTableCache
    from ess.reduce.nexus.types import NeXusData, SampleRun
    from ess.sans.types import Incident, Transmission

    table = LookupTableCache().get(LOOKUP_TABLE).table
    workflow = sans_workflow(
        loki_file, REAR.name, True, table, SansParams.model_validate(params)
    )
    for component in (snx.NXdetector, Incident, Transmission):
        key = NeXusData[component, SampleRun]
        workflow[key] = float64_weights(workflow.compute(key))
    results = workflow.compute(list(TARGETS.values()))
    return {name: results[key] for name, key in TARGETS.items()}


@pytest.mark.parametrize("mode", ["current_run", "constant"])
def test_live_job_over_windows_equals_esssans_offline(loki, loki_file, mode):
    job = i_of_q_job(loki, transmission_mode=mode)
    for window in windows(loki_file, WINDOWS):
        job.accumulate(window)
    live = job.finalize()
    expected = offline(loki_file, transmission_mode=mode)
    assert set(live) == {"i_of_q", "transmission_fraction"}
    for name, result in live.items():
        assert np.isfinite(result.values).any(), name
        sc.testing.assert_allclose(result, expected[name], rtol=sc.scalar(1e-12))
    assert np.count_nonzero(live["i_of_q"].values) > live["i_of_q"].sizes["Q"] // 2


def test_outputs_have_units_and_reset_starts_over(loki, loki_file):
    job = i_of_q_job(loki)
    first, *rest = windows(loki_file, WINDOWS)
    job.accumulate(first)
    once = job.finalize()
    assert once["i_of_q"].unit == "dimensionless"
    assert once["i_of_q"].coords["Q"].unit == "1/angstrom"
    assert once["transmission_fraction"].coords["wavelength"].unit == "angstrom"
    assert once["i_of_q"].variances is not None
    for window in rest:
        job.accumulate(window)
    assert not sc.identical(job.finalize()["i_of_q"], once["i_of_q"])
    job.clear()
    job.accumulate(first)
    sc.testing.assert_identical(job.finalize()["i_of_q"], once["i_of_q"])


def test_transmission_is_the_monitor_ratio(loki, loki_file):
    """Doubling the transmission monitor's events doubles the fraction."""
    single, double = i_of_q_job(loki), i_of_q_job(loki)
    for window in windows(loki_file, 2):
        single.accumulate(window)
        double.accumulate({**window, TRANSMISSION: window[TRANSMISSION] * 2})
    np.testing.assert_allclose(
        double.finalize()["transmission_fraction"].values,
        2 * single.finalize()["transmission_fraction"].values,
        rtol=1e-12,
    )


def test_a_job_binds_one_bank(loki):
    spec = loki.workflow_specs["i_of_q/v2"]
    factory = loki.workflow_factories()["i_of_q/v2"]
    other = StreamId(StreamKind.DETECTOR_EVENTS, "loki_detector_1")
    with pytest.raises(ValueError, match="one bank per job"):
        factory(parse_params(spec, {}), (REAR_STREAM, other))


def test_outputs_can_be_published_as_da00(loki, loki_file):
    """da00 carries the coords along the data's dims (I(Q)'s wavelength band,
    a coord of its own dim, stays behind)."""
    job = i_of_q_job(loki, q_scale="log")
    job.accumulate(windows(loki_file, WINDOWS)[0])
    for name, data in job.finalize().items():
        _, _, decoded = decode_da00(encode_da00(name, 0, data))
        aligned = {c for c, v in data.coords.items() if set(v.dims) <= set(data.dims)}
        assert set(decoded.coords) == aligned, name
        np.testing.assert_array_equal(decoded.values, data.values)
