"""Axes of the plots the detector views and the workflows viewer draw."""

import numpy as np
import scipp as sc

from ess.livedata.dashboard import plots


def _rate_over_time() -> sc.DataArray:
    times = np.array(["2026-12-07T21:00:00", "2026-12-07T21:00:01"], "datetime64[ns]")
    return sc.DataArray(
        sc.array(dims=["time"], values=[3.0, 4.0], unit="counts/s"),
        coords={"time": sc.array(dims=["time"], values=times, unit="ns")},
    )


def test_a_datetime_axis_is_local_time_not_epoch_nanoseconds():
    data = _rate_over_time()
    bars, steps = plots.histogram(data), plots.step_curve(data)
    for element, axis in ((bars, bars.edges), (steps, steps.dimension_values(0))):
        assert axis.dtype.kind == "M"
        assert element.kdims[0].name == "time (local)"
        local = plots.local_times(data.coords["time"].values)
        # Edges sit half-way between the two points.
        assert axis.min() == local[0] - np.timedelta64(500, "ms")
        assert axis.max() == local[1] + np.timedelta64(500, "ms")


def test_a_numeric_axis_keeps_its_unit_and_edges():
    data = sc.DataArray(
        sc.array(dims=["Q"], values=[1.0, 2.0], unit="counts"),
        coords={"Q": sc.array(dims=["Q"], values=[0.0, 0.1, 0.2], unit="1/angstrom")},
    )
    element = plots.histogram(data)
    assert element.kdims[0].name == "Q [1/Å]"
    np.testing.assert_allclose(element.edges, [0.0, 0.1, 0.2])
    assert element.vdims[0].name == "counts"
