import numpy as np
import pytest
import scipp as sc
from pydantic import ValidationError

from ess.livedata.dashboard import correlation
from ess.livedata.dashboard.correlation import Correlator, LogBins, LogTimeline

S = 1_000_000_000


def counts(value: float) -> sc.DataArray:
    return sc.DataArray(sc.scalar(value, unit="counts"))


def spectrum(values: list[float]) -> sc.DataArray:
    toa = sc.array(dims=["toa"], values=np.arange(len(values) + 1.0), unit="ms")
    return sc.DataArray(
        sc.array(dims=["toa"], values=values, unit="counts"), coords={"toa": toa}
    )


def motor(correlator: Correlator, points: list[tuple[int, float]], log="x") -> None:
    times, values = zip(*points, strict=True)
    correlator.add_log(log, np.array(times) * S, np.array(values), sc.Unit("mm"))


def test_mean_counts_per_window_in_fixed_bins_with_outputs_per_bin():
    c = Correlator([LogBins(log="x", bins=2, low=0, high=10)])
    motor(c, [(0, 1.0), (10, 7.0), (20, 7.0)])
    for t, value in [(1, 10), (2, 20), (11, 5), (12, 7), (13, 9)]:
        c.add_output(t * S, counts(value))
    hist = c.histogram()
    assert hist.dims == ("x",)
    assert hist.unit == sc.Unit("counts")
    assert hist.coords["x"].unit == sc.Unit("mm")
    np.testing.assert_array_equal(hist.coords["x"].values, [0, 5, 10])
    np.testing.assert_array_equal(hist.values, [15, 7])
    np.testing.assert_array_equal(hist.coords["outputs"].values, [2, 3])
    assert c.paired == 5


def test_sum_statistic_and_values_outside_a_fixed_range_are_counted():
    c = Correlator([LogBins(log="x", bins=2, low=0, high=10)], statistic="sum")
    motor(c, [(0, 1.0), (10, 12.0), (20, 12.0)])
    c.add_output(1 * S, counts(10))
    c.add_output(2 * S, counts(20))
    c.add_output(11 * S, counts(5))
    np.testing.assert_array_equal(c.histogram().values, [30, 0])
    assert (c.paired, c.outside) == (2, 1)


def test_previous_and_linear_values_at_the_output_time():
    timeline = LogTimeline()
    timeline.add(np.array([10, 0]) * S, np.array([20.0, 0.0]))
    assert timeline.value_at(5 * S, "previous") == 0.0
    assert timeline.value_at(5 * S, "linear") == 10.0
    assert timeline.value_at(15 * S, "linear") == 20.0
    assert timeline.value_at(-1, "previous") is None


def test_output_waits_for_a_late_log_point_then_ignores_later_ones():
    c = Correlator([LogBins(log="x", bins=3, low=0, high=3)])
    motor(c, [(0, 0.5)])
    c.add_output(5 * S, counts(7))
    assert (c.pending, c.paired) == (1, 0)  # the log may still move before 5 s
    motor(c, [(4, 1.5)])  # late, out of order: before 5 s, arrives now
    assert c.pending == 1
    motor(c, [(6, 2.5)])
    assert (c.pending, c.paired) == (0, 1)
    np.testing.assert_array_equal(c.histogram().coords["outputs"].values, [0, 1, 0])
    motor(c, [(3, 2.5)])  # too late: the output at 5 s is binned already
    np.testing.assert_array_equal(c.histogram().coords["outputs"].values, [0, 1, 0])


def test_out_of_order_and_repeated_outputs_count_once():
    c = Correlator([LogBins(log="x", bins=2, low=0, high=2)])
    motor(c, [(0, 0.5), (10, 1.5), (20, 1.5)])
    c.add_output(12 * S, counts(4))
    c.add_output(3 * S, counts(1))
    c.add_output(3 * S, counts(1))  # re-published window
    np.testing.assert_array_equal(c.histogram().coords["outputs"].values, [1, 1])


def test_a_window_newer_data_replaces_while_it_waits():
    c = Correlator([LogBins(log="x", bins=1, low=0, high=2)])
    motor(c, [(0, 0.5)])
    c.add_output(5 * S, counts(3))
    c.add_output(5 * S, counts(8))  # the other worker's part combined in
    motor(c, [(6, 0.5)])
    np.testing.assert_array_equal(c.histogram().values, [8])


def test_output_without_log_after_it_is_binned_after_the_wait():
    c = Correlator([LogBins(log="x", bins=1, low=0, high=2)], max_wait_ns=10 * S)
    motor(c, [(0, 1.0)])
    c.add_output(1 * S, counts(3))
    c.add_output(11 * S, counts(3))
    assert c.paired == 0
    c.add_output(12 * S, counts(3))
    assert (c.paired, c.pending) == (1, 2)


def test_outputs_before_the_first_log_point_are_unpaired():
    c = Correlator([LogBins(log="x")])
    motor(c, [(5, 1.0), (6, 1.0)])
    c.add_output(1 * S, counts(3))
    assert (c.paired, c.unpaired) == (0, 1)
    assert c.histogram() is None


def test_two_logs_make_an_image_with_y_then_x():
    c = Correlator(
        [
            LogBins(log="x", bins=2, low=0, high=2),
            LogBins(log="t", bins=3, low=0, high=3),
        ]
    )
    motor(c, [(0, 0.5), (10, 1.5), (20, 1.5)])
    c.add_log("t", np.array([0, 20]) * S, np.array([2.5, 2.5]), sc.Unit("K"))
    c.add_output(1 * S, counts(4))
    c.add_output(11 * S, counts(6))
    hist = c.histogram()
    assert hist.dims == ("t", "x")
    assert hist.coords["t"].unit == sc.Unit("K")
    np.testing.assert_array_equal(hist.values[2], [4, 6])
    assert np.isnan(hist.values[:2]).all()


def test_spectra_against_a_log_give_an_image_of_mean_spectra():
    c = Correlator([LogBins(log="x", bins=2, low=0, high=2)])
    motor(c, [(0, 0.5), (10, 1.5), (20, 1.5)])
    c.add_output(1 * S, spectrum([1, 2, 3]))
    c.add_output(2 * S, spectrum([3, 4, 5]))
    c.add_output(11 * S, spectrum([0, 0, 9]))
    hist = c.histogram()
    assert hist.dims == ("toa", "x")
    assert hist.coords["toa"].unit == sc.Unit("ms")
    np.testing.assert_array_equal(hist.values.T, [[2, 3, 4], [0, 0, 9]])


def test_rebinned_spectrum_starts_over():
    c = Correlator([LogBins(log="x", bins=1, low=0, high=2)])
    motor(c, [(0, 0.5), (10, 0.5)])
    c.add_output(1 * S, spectrum([1, 2, 3]))
    c.add_output(2 * S, spectrum([1, 2]))
    assert c.paired == 1
    assert c.histogram().sizes == {"toa": 2, "x": 1}


def test_two_logs_with_a_spectrum_are_refused():
    c = Correlator([LogBins(log="x"), LogBins(log="t")])
    with pytest.raises(ValueError, match="scalar output"):
        c.add_output(1, spectrum([1.0]))


def test_automatic_range_grows_by_merging_bins_and_keeps_totals():
    c = Correlator([LogBins(log="x", bins=10)], statistic="sum")
    rng = np.random.default_rng(1)
    positions = [1.0, 1.0, 1.2, *rng.uniform(-300, 500, size=200)]
    motor(c, [(t, p) for t, p in enumerate(positions)] + [(len(positions), 0.0)])
    for t in range(len(positions)):
        c.add_output(t * S, counts(1))
    hist = c.histogram()
    edges = hist.coords["x"].values
    assert hist.sizes == {"x": 10}
    assert edges[0] <= min(positions)
    assert edges[-1] > max(positions)
    assert hist.values.sum() == len(positions) == hist.coords["outputs"].sum().value
    # Each position is in the bin its edges say.
    expected, _ = np.histogram(positions, bins=edges)
    np.testing.assert_array_equal(hist.coords["outputs"].values, expected)


def test_one_position_is_one_bin_until_the_motor_moves():
    c = Correlator([LogBins(log="x", bins=10)])
    motor(c, [(0, 3.0), (10, 3.0)])
    c.add_output(1 * S, counts(1))
    hist = c.histogram()
    assert hist.sizes == {"x": 1}
    assert hist.coords["x"].values[0] < 3.0 < hist.coords["x"].values[1]


def test_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(correlation, "MAX_REMEMBERED", 100)
    monkeypatch.setattr(correlation, "MAX_LOG_POINTS", 50)
    c = Correlator([LogBins(log="x", bins=8)], max_pending=20)
    for t in range(1000):
        c.add_output(t * S, counts(1))  # no log yet: all would wait
    assert c.pending <= 21
    c.add_log("x", np.arange(1000) * S, np.arange(1000.0), None)
    assert len(c.logs["x"].times) == 50
    assert len(c._binned) == 100
    assert c.histogram().sizes == {"x": 8}


def test_bins_need_both_limits_in_order():
    with pytest.raises(ValidationError, match="both low and high"):
        LogBins(log="x", low=1.0)
    with pytest.raises(ValidationError, match="greater than low"):
        LogBins(log="x", low=1.0, high=1.0)
