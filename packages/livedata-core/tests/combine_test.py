import pytest
import scipp as sc
from loop_test import SumProcessor, build_loop

from ess.livedata.core.combine import (
    ANONYMOUS,
    STALE_AFTER_NS,
    WINDOWS_KEPT,
    OutputCombiner,
)
from ess.livedata.core.status import worker_service_id

SECOND = 1_000_000_000
CURRENT = "detector_data/panel_0/current"
CUMULATIVE = "detector_data/panel_0/cumulative"


def part(counts: list[int], start_s: int, end_s: int, name="panel_0") -> sc.DataArray:
    """An image part as the services stamp it: ``start_time``/``end_time`` in ns."""
    return sc.DataArray(
        sc.array(dims=["x"], values=counts, unit="counts", dtype="int64"),
        coords={
            "x": sc.arange("x", len(counts) + 1.0, unit="mm"),
            "start_time": sc.datetime(start_s * SECOND, unit="ns"),
            "end_time": sc.datetime(end_s * SECOND, unit="ns"),
        },
        name=name,
    )


def window(data: sc.DataArray) -> tuple[int, int]:
    return tuple(
        int(data.coords[c].value.astype("int64")) // SECOND
        for c in ("start_time", "end_time")
    )


@pytest.mark.parametrize("name", [CURRENT, CUMULATIVE, "x/y/roi_rectangle"])
def test_one_worker_reads_as_without_combining(name):
    combiner = OutputCombiner()
    for i in range(3):
        data = part([i, 1], 0 if "cumulative" in name else i, i + 1)
        assert combiner.add(name, "A", data) is data


@pytest.mark.parametrize("name", [CURRENT, CUMULATIVE])
def test_messages_without_worker_are_one_worker_newest_wins(name):
    combiner = OutputCombiner()
    combiner.add(name, ANONYMOUS, part([5, 5], 0, 2))
    older_window = part([1, 1], 0, 1)  # even going back in data time
    assert combiner.add(name, ANONYMOUS, older_window) is older_window


def test_current_sums_the_workers_parts_of_the_newest_window():
    combiner = OutputCombiner()
    combiner.add(CURRENT, "A", part([1, 2], 0, 1))
    both = combiner.add(CURRENT, "B", part([10, 20], 0, 1))
    assert both.values.tolist() == [11, 22]
    assert window(both) == (0, 1)
    assert both.name == "panel_0"
    assert sc.identical(both.coords["x"], part([0, 0], 0, 1).coords["x"])


def facility_part(counts: list[int], start_s: int, end_s: int) -> sc.DataArray:
    """A part as the facility stamps it: int64 ns ``start_time``, ``time``
    and ``end_time``."""
    data = part(counts, start_s, end_s)
    for coord, s in (("start_time", start_s), ("end_time", end_s), ("time", end_s)):
        data.coords[coord] = sc.scalar(s * SECOND, unit="ns")
    return data


def test_parts_stamped_in_int64_ns_are_summed_over_their_span():
    combiner = OutputCombiner()
    combiner.add(CUMULATIVE, "A", facility_part([1, 2], 0, 1))
    both = combiner.add(CUMULATIVE, "B", facility_part([10, 20], 1, 2))
    assert both.values.tolist() == [11, 22]
    assert [both.coords[c].value for c in ("start_time", "end_time", "time")] == [
        0,
        2 * SECOND,
        2 * SECOND,
    ]


def test_current_shows_the_newest_window_every_worker_has_reached():
    combiner = OutputCombiner()
    combiner.add(CURRENT, "A", part([1, 2], 0, 1))
    combiner.add(CURRENT, "B", part([10, 20], 0, 1))
    # A is a window ahead: the display stays at the window both have.
    ahead = combiner.add(CURRENT, "A", part([3, 4], 1, 2))
    assert ahead.values.tolist() == [11, 22]
    assert window(ahead) == (0, 1)
    both = combiner.add(CURRENT, "B", part([30, 40], 1, 2))
    assert both.values.tolist() == [33, 44]
    assert window(both) == (1, 2)


def test_worker_consistently_a_window_behind_is_summed():
    combiner = OutputCombiner()
    combiner.add(CURRENT, "A", part([1, 1], 0, 1))
    for t in range(1, 10):
        combiner.add(CURRENT, "A", part([1, 1], t, t + 1))
        shown = combiner.add(CURRENT, "B", part([10, 10], t - 1, t))
        assert shown.values.tolist() == [11, 11]
        assert window(shown) == (t - 1, t)


def test_worker_that_joins_ahead_waits_for_the_others_window():
    combiner = OutputCombiner()
    combiner.add(CURRENT, "A", part([1, 1], 0, 1))
    joined = combiner.add(CURRENT, "C", part([5, 5], 1, 2))
    assert joined.values.tolist() == [1, 1]
    assert combiner.add(CURRENT, "A", part([2, 2], 1, 2)).values.tolist() == [7, 7]


def test_only_the_last_windows_are_kept_per_worker():
    combiner = OutputCombiner()
    for t in range(WINDOWS_KEPT + 1):
        combiner.add(CURRENT, "A", part([1, 1], t, t + 1))
    # A no longer keeps window (0, 1): B's part of it is all there is.
    lagging = part([10, 10], 0, 1)
    assert combiner.add(CURRENT, "B", lagging).values.tolist() == [10, 10]
    caught_up = combiner.add(CURRENT, "B", part([10, 10], 1, 2))
    assert caught_up.values.tolist() == [11, 11]
    assert window(caught_up) == (1, 2)


@pytest.mark.parametrize(
    "start_time",
    [
        sc.datetimes(dims=["t"], values=[0, 1], unit="ns"),
        sc.scalar(0.0, unit="m"),
        sc.scalar(0.5, unit="ns"),
    ],
)
@pytest.mark.parametrize("name", [CURRENT, CUMULATIVE])
def test_malformed_window_is_no_window(name, start_time):
    combiner = OutputCombiner()
    combiner.add(name, "A", part([1, 1], 0, 1))
    odd = part([5, 5], 0, 1)
    odd.coords["start_time"] = start_time
    odd.coords["end_time"] = start_time
    # A part that cannot be placed in a window is shown alone, never summed.
    assert combiner.add(name, "B", odd) is odd
    assert combiner.add(name, "A", part([2, 2], 0, 1)).values.tolist() == [2, 2]


def test_cumulative_sums_each_workers_newest_over_their_joint_span():
    combiner = OutputCombiner()
    combiner.add(CUMULATIVE, "A", part([1, 1], 0, 1))
    combiner.add(CUMULATIVE, "B", part([5, 0], 1, 2))
    total = combiner.add(CUMULATIVE, "A", part([2, 3], 0, 3))
    assert total.values.tolist() == [7, 3]
    assert window(total) == (0, 3)


def test_roi_spectra_sum_over_workers():
    combiner = OutputCombiner()
    name = "detector_data/panel_0/roi_spectra_current"
    combiner.add(name, "A", part([1, 2], 0, 1))
    assert combiner.add(name, "B", part([3, 4], 0, 1)).values.tolist() == [4, 6]


def test_non_count_outputs_take_the_newest_of_any_worker():
    combiner = OutputCombiner()
    name = "detector_data/panel_0/roi_rectangle"
    combiner.add(name, "A", part([1, 2], 0, 1))
    newest = part([1, 2], 0, 1)
    assert combiner.add(name, "B", newest) is newest


def test_stopped_worker_leaves_the_sum_at_the_next_update():
    combiner = OutputCombiner()
    combiner.add(CUMULATIVE, "A", part([1, 1], 0, 1))
    assert combiner.add(CUMULATIVE, "B", part([2, 2], 0, 1)).values.tolist() == [3, 3]
    combiner.depart("B")
    alone = part([4, 4], 0, 2)
    assert combiner.add(CUMULATIVE, "A", alone) is alone
    # A stray message of B after it stopped (e.g. a replayed backlog) is ignored.
    assert combiner.add(CUMULATIVE, "B", part([9, 9], 0, 2)) is alone


def test_stopped_worker_that_runs_again_under_its_id_counts_again():
    combiner = OutputCombiner()
    combiner.depart("B")
    combiner.add(CUMULATIVE, "A", part([1, 1], 0, 1))
    assert combiner.add(CUMULATIVE, "B", part([9, 9], 0, 1)).values.tolist() == [1, 1]
    combiner.add(CUMULATIVE, "A", part([2, 2], 0, 2))
    combiner.arrive("B")  # e.g. a container restart: pid 1 again, same host
    assert combiner.add(CUMULATIVE, "B", part([5, 5], 2, 3)).values.tolist() == [7, 7]


def test_when_all_workers_stopped_their_last_results_stay():
    combiner = OutputCombiner()
    combiner.add(CUMULATIVE, "A", part([1, 1], 0, 1))
    combiner.depart("A")
    combiner.depart("B")
    assert combiner.add(CUMULATIVE, "B", part([2, 2], 0, 1)).values.tolist() == [3, 3]


def test_restarted_worker_replaces_the_stopped_one():
    combiner = OutputCombiner()
    combiner.add(CUMULATIVE, "host:1", part([100, 100], 0, 10))
    combiner.depart("host:1")
    restarted = part([1, 0], 12, 13)
    assert combiner.add(CUMULATIVE, "host:2", restarted) is restarted


def test_silent_worker_leaves_the_sum_once_others_are_far_ahead_in_data_time():
    combiner = OutputCombiner()
    combiner.add(CUMULATIVE, "A", part([1, 1], 0, 1))
    combiner.add(CUMULATIVE, "B", part([2, 2], 0, 1))
    within = 1 + STALE_AFTER_NS // SECOND
    assert combiner.add(CUMULATIVE, "A", part([3, 3], 0, within)).values.tolist() == [
        5,
        5,
    ]
    beyond = part([4, 4], 0, within + 1)
    assert combiner.add(CUMULATIVE, "A", beyond) is beyond
    # B publishing again (it was lagging, not gone) counts again.
    back = combiner.add(CUMULATIVE, "B", part([2, 2], 0, within + 1))
    assert back.values.tolist() == [6, 6]


def test_parts_that_cannot_be_added_show_the_newest_alone():
    combiner = OutputCombiner()
    combiner.add(CURRENT, "A", part([1, 2], 0, 1))
    rebinned = part([1, 2, 3], 0, 1)
    assert combiner.add(CURRENT, "B", rebinned) is rebinned


def test_forget_drops_a_name():
    combiner = OutputCombiner()
    combiner.add(CURRENT, "A", part([1, 2], 0, 1))
    combiner.forget(CURRENT)
    only = part([5, 5], 0, 1)
    assert combiner.add(CURRENT, "B", only) is only


def test_data_is_tagged_with_the_service_id_of_the_heartbeats():
    loop, *_ = build_loop(SumProcessor(), worker_id="w-1")
    assert loop.current_status().service_id == "dummy:test:w-1"
    assert worker_service_id("dummy", "test", "w-1") == loop.service_id
