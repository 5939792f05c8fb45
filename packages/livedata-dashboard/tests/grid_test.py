"""Grids: the model and its YAML, the shared store, what a cell shows."""

import os

import numpy as np
import pytest
import scipp as sc
import yaml

from ess.livedata.config import ConfigError
from ess.livedata.core.plugins import load_instrument
from ess.livedata.dashboard import cell_plots, plots
from ess.livedata.dashboard.cell_data import resolve
from ess.livedata.dashboard.correlation import CorrelationOptions, LogBins
from ess.livedata.dashboard.grid_model import (
    Cell,
    CellOptions,
    Grid,
    GridFileError,
    OutputRef,
    grid_from_yaml,
    grid_to_yaml,
    templates,
)
from ess.livedata.dashboard.grid_store import GridStore
from ess.livedata.testing.messages import MONITOR_HISTOGRAM, job_beat, job_id, key

CURRENT = OutputRef.of(MONITOR_HISTOGRAM, "monitor1", "current")
NS = 1_000_000_000


def window(total: float, start_s: float, end_s: float) -> sc.DataArray:
    return sc.DataArray(
        sc.array(dims=["toa"], values=[total / 2, total / 2], unit="counts"),
        coords={
            "toa": sc.linspace("toa", 0.0, 70.0, 3, unit="ms"),
            "start_time": sc.datetime(int(start_s * NS), unit="ns"),
            "end_time": sc.datetime(int(end_s * NS), unit="ns"),
        },
    )


def a_grid(name: str = "Mine", cells: int = 1) -> Grid:
    return Grid(
        name=name,
        cells=tuple(Cell(title=f"cell {i}", outputs=(CURRENT,)) for i in range(cells)),
    )


def test_grid_survives_yaml_and_bad_uploads_say_what_is_wrong():
    grid = Grid(
        name="Mine",
        cells=(
            Cell(
                title="both",
                outputs=(CURRENT, CURRENT.model_copy(update={"source": "monitor2"})),
                plotter="image",
                options=CellOptions(
                    window="last", window_s=30, color_limits=(1, 10), rate=True
                ),
            ),
        ),
    )
    assert grid_from_yaml(grid_to_yaml(grid)) == grid
    with pytest.raises(GridFileError, match=r"^not YAML: "):
        grid_from_yaml("name: [")
    with pytest.raises(GridFileError, match=r"^not a grid: cells\.0\.plotter"):
        grid_from_yaml(
            "name: x\ncells: [{title: t, plotter: pie, outputs: "
            "[{workflow: dummy/monitor_histogram/1, source: m, output: current}]}]"
        )
    with pytest.raises(GridFileError, match="colour limits"):
        grid_from_yaml(
            grid_to_yaml(grid).replace("- 1.0\n    - 10.0", "- 10.0\n    - 1.0")
        )


def test_a_correlation_cell_survives_yaml_and_the_store_and_bad_options_say_why(
    tmp_path,
):
    counts = CURRENT.model_copy(update={"output": "counts_total"})
    cell = Cell(
        title="counts against motion and temperature",
        plotter="correlation",
        outputs=(counts,),
        correlation=CorrelationOptions(
            x=LogBins(log="motion1", bins=20, low=0, high=5),
            y=LogBins(log="temperature"),
            statistic="sum",
        ),
    )
    grid = Grid(name="Mine", cells=(cell,))
    text = grid_to_yaml(grid)
    assert "null" not in text
    assert grid_from_yaml(text) == grid
    GridStore(tmp_path, "dummy", []).save(grid)
    assert GridStore(tmp_path, "dummy", []).grid("Mine") == grid

    for change, why in [
        ({"correlation": None}, r"^not a grid: cells\.0: .*needs correlation options"),
        ({"correlation": {"x": {"log": "m", "low": 1}}}, "both low and high"),
        ({"correlation": {"x": {"log": "m"}, "y": {"log": "m"}}}, "different logs"),
        ({"correlation": {"x": {"log": "m", "bins": 0}}}, r"correlation\.x\.bins"),
        ({"outputs": [counts.model_dump()] * 2}, "exactly one output"),
        ({"plotter": "line"}, "need plotter correlation"),
    ]:
        data = yaml.safe_load(text)
        data["cells"][0].update(change)
        with pytest.raises(GridFileError, match=why):
            grid_from_yaml(yaml.safe_dump(data))


def test_dummy_templates_cover_monitors_detectors_logs_and_reduction():
    grids = {g.name: g for g in templates(load_instrument("dummy"))}
    assert list(grids) == ["Monitors", "Detectors", "Logs", "Reduction"]
    assert [c.plotter for c in grids["Logs"].cells][:1] == ["timeseries"]
    correlation = grids["Monitors"].cells[-1]  # the dummy's plugin adds it
    assert correlation.plotter == "correlation"
    assert correlation.outputs[0].path == "monitor_histogram/monitor1/counts_total"
    assert correlation.correlation.logs() == "motion1"
    images = [c for c in grids["Detectors"].cells if c.plotter == "image"]
    assert {c.outputs[0].workflow for c in images} == {
        "dummy/panel_0_xy/1",
        "dummy/panel_0_plane/1",
        "dummy/tubes_1_tubes/1",
        "dummy/tubes_1_mantle/1",
        "dummy/area_panel_xy/1",
    }


def test_a_change_reaches_another_process_and_survives_a_restart(tmp_path):
    loaded = load_instrument("dummy")
    first = GridStore(tmp_path, "dummy", templates(loaded))
    second = GridStore(tmp_path, "dummy", templates(loaded), clock=lambda: 1e9)
    assert first.grids()[0].name == "Monitors"  # templates until saved
    version = second.version
    first.save(a_grid(cells=3))
    first.remember_job(MONITOR_HISTOGRAM, ["monitor1"], {"toa_edges": {"num_bins": 5}})
    # The other process notices on its next poll (the clock makes it due).
    os.utime(first.path, ns=(1, 1))
    second._checked_s = float("-inf")
    second.poll()
    assert second.version > version
    assert len(second.grid("Mine").cells) == 3
    restarted = GridStore(tmp_path, "dummy", templates(loaded))
    assert len(restarted.grid("Mine").cells) == 3
    config = restarted.job_config(MONITOR_HISTOGRAM)
    assert config.params == {"toa_edges": {"num_bins": 5}}
    restarted.delete("Mine")
    assert restarted.grid("Mine") is None
    assert restarted.grid("Monitors") is not None


def test_a_broken_state_file_stops_the_start_with_one_line(tmp_path):
    (tmp_path / "dummy.yaml").write_text("grids: [{name: ''}]")
    with pytest.raises(ConfigError, match=r"dummy\.yaml is not a valid state"):
        GridStore(tmp_path, "dummy", [])


def test_windows_cumulative_last_seconds_and_rate(store, clock):
    job = job_id()
    store.put_job(job_beat(job), clock.now)
    last = CellOptions(window="last", window_s=10)
    assert resolve(store, CURRENT, last, clock.now) is None
    # Recording starts once a cell asked for the output.
    for i in range(3):
        clock.now += 4 if i else 0
        store.put_result(key(job), i, window(10, clock.now - 1, clock.now))
    shown = resolve(store, CURRENT, last, clock.now)
    assert (shown.parts, plots.total(shown.data)) == (3, 30)
    clock.now += 3  # the first window left the last 10 s
    assert resolve(store, CURRENT, last, clock.now).parts == 2
    rate = resolve(store, CURRENT, CellOptions(rate=True), clock.now)
    assert rate.data.unit == sc.Unit("counts/s")
    assert plots.total(rate.data) == pytest.approx(10)
    cumulative = CellOptions(window="cumulative")
    assert resolve(store, CURRENT, cumulative, clock.now).shown.output == "current"
    store.put_result(key(job, "cumulative"), 9, window(99, 0, clock.now))
    shown = resolve(store, CURRENT, cumulative, clock.now)
    assert (shown.shown.output, plots.total(shown.data)) == ("cumulative", 99)
    # The caption carries the window's end, for a browser to age it itself.
    cell = Cell(title="c", outputs=(CURRENT,))
    caption = cell_plots.caption_html(cell, [shown], clock.now + 2)
    assert f'data-end-time="{clock.now:.3f}"' in caption
    assert 'data-age="2.0"' in caption


def test_time_series_are_local_datetimes_and_downsampled(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Stockholm")
    import time

    time.tzset()
    try:
        utc = np.array(["2026-07-01T10:00:00"], dtype="datetime64[ns]")
        assert str(plots.local_times(utc)[0]).startswith("2026-07-01T12:00:00")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    times = np.arange(100_000).astype("datetime64[s]").astype("datetime64[ns]")
    values = np.zeros(100_000)
    values[54_321] = 7.0
    kept_times, kept = cell_plots.downsample(times, values)
    assert len(kept) <= cell_plots.MAX_POINTS
    assert kept.max() == 7.0
    assert np.all(np.diff(kept_times.astype(np.int64)) > 0)


def test_value_captions_name_counts_only_for_counts():
    assert plots.value_label(sc.Unit("counts")) == "counts"
    assert plots.value_label(sc.units.dimensionless) == "value"
    assert plots.value_label(sc.Unit("mm")) == "value [mm]"
