import time

import numpy as np
import pytest
import scipp as sc
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from PIL import Image

from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.processing.outputs import stamp
from ess.livedata.processing.png_sink import PngSink, plot
from ess.livedata.protocol import JobId, ResultKey, WorkflowId

SECOND = 1_000_000_000


def message(name: str, data: sc.DataArray, t: int) -> Message:
    """A result named ``workflow/source/output``, under its result key."""
    workflow, source, output = name.split("/")
    key = ResultKey(
        workflow_id=WorkflowId(instrument="dummy", name=workflow, version=1),
        job_id=JobId(source_name=source, job_number="n-1"),
        output_name=output,
    )
    stream = StreamId(StreamKind.LIVEDATA_DATA, key.to_source_name())
    return Message(t, stream, stamp(data, t - SECOND, t))


def spectrum() -> sc.DataArray:
    counts = np.exp(-0.5 * ((np.arange(100) - 40) / 8) ** 2) * 1000
    return sc.DataArray(
        sc.array(dims=["toa"], values=counts, unit="counts"),
        coords={"toa": sc.linspace("toa", 0.0, 71.0, 101, unit="ms")},
    )


def image() -> sc.DataArray:
    y, x = np.mgrid[0:64, 0:64]
    counts = 1 + 500 * np.exp(-((x - 32) ** 2 + (y - 30) ** 2) / 50)
    return sc.DataArray(
        sc.array(dims=["y", "x"], values=counts, unit="counts"),
        coords={
            "x": sc.linspace("x", -0.32, 0.32, 65, unit="m"),
            "y": sc.linspace("y", -0.32, 0.32, 65, unit="m"),
        },
    )


def assert_readable(path):
    with Image.open(path) as picture:
        assert picture.size == (700, 450)
        pixels = np.asarray(picture.convert("L"), dtype=float)
    # A blank or single-colour image has (almost) no spread.
    assert pixels.std() > 20
    assert (pixels < 128).mean() > 0.01


def test_spectrum_and_image_are_written_with_latest(tmp_path):
    sink = PngSink(tmp_path, keep=100)
    t = 1_700_000_000 * SECOND
    sink.publish_messages(
        [
            message("monitor_histogram/monitor1/current", spectrum(), t),
            message("panel_0_plane/panel_0/current", image(), t),
        ]
    )
    sink.close()
    for folder in (
        "monitor_histogram/monitor1/current",
        "panel_0_plane/panel_0/current",
    ):
        files = sorted((tmp_path / folder).iterdir())
        assert [f.name for f in files] == ["20231114T221320.000000Z.png", "latest.png"]
        for f in files:
            assert_readable(f)
    assert sink.written == 2


def test_newest_update_of_an_output_wins_when_the_writer_is_behind(tmp_path):
    sink = PngSink(tmp_path, keep=100)
    t = 1_700_000_000 * SECOND
    updates = [message("wf/src/out", spectrum(), t + i * SECOND) for i in range(20)]
    sink.publish_messages(updates)
    sink.close()
    written = sorted(p.name for p in (tmp_path / "wf/src/out").iterdir())
    assert sink.written + sink.superseded == 20
    assert written[-2] == "20231114T221339.000000Z.png"  # the last update
    assert written[-1] == "latest.png"


def test_only_the_newest_files_of_each_output_are_kept(tmp_path):
    sink = PngSink(tmp_path, keep=3)
    t = 1_700_000_000 * SECOND
    for i in range(5):
        sink.publish_messages(
            [
                message("wf/src/a", spectrum(), t + i * SECOND),
                message("wf/src/b", spectrum(), t + i * SECOND),
            ]
        )
        sink.close()  # draws this update before the next one supersedes it
        sink = PngSink(tmp_path, keep=3)
    sink.close()
    for output in ("a", "b"):
        names = sorted(p.name for p in (tmp_path / "wf/src" / output).iterdir())
        assert names == [
            "20231114T221322.000000Z.png",
            "20231114T221323.000000Z.png",
            "20231114T221324.000000Z.png",
            "latest.png",
        ]


def test_keep_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="at least 1"):
        PngSink(tmp_path, keep=0)


@pytest.fixture
def stockholm_time(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Stockholm")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def history(start_ns: int, seconds: int, step_s: int) -> sc.DataArray:
    times = start_ns + np.arange(0, seconds + 1, step_s) * SECOND
    return sc.DataArray(
        sc.array(dims=["time"], values=np.sin(np.arange(times.size) / 10), unit="mm"),
        coords={"time": sc.datetimes(dims=["time"], values=times, unit="ns")},
    )


def overlapping(boxes) -> list:
    return [
        (a, b)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a.x0 < b.x1 and b.x0 < a.x1
    ]


@pytest.mark.usefixtures("stockholm_time")
@pytest.mark.parametrize("seconds", [30, 90, 600, 6 * 3600, 3 * 86400])
def test_time_axis_labels_are_local_and_do_not_collide(seconds):
    t0 = 1_700_000_000 * SECOND  # 2023-11-14 22:13:20 UTC, 23:13:20 in Stockholm
    data = history(t0, seconds, max(1, seconds // 300))
    data = stamp(data, t0 + (seconds - 1) * SECOND, t0 + seconds * SECOND)
    fig = plot(data, "timeseries/motor_x/history")
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    assert isinstance(ax.xaxis.get_major_locator(), AutoDateLocator)
    assert isinstance(ax.xaxis.get_major_formatter(), ConciseDateFormatter)
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.get_xticklabels() if t.get_text()]
    assert len(labels) >= 3
    assert overlapping([t.get_window_extent(renderer) for t in labels]) == []
    texts = " ".join(t.get_text() for t in labels)
    if seconds == 600:  # local time, not UTC: the hour shown is 23, not 22
        assert "23:15" in texts
        assert "22:15" not in texts


@pytest.mark.usefixtures("stockholm_time")
def test_history_title_gives_its_span_not_the_last_window():
    t0 = 1_700_000_000 * SECOND
    data = stamp(history(t0, 600, 2), t0 + 599 * SECOND, t0 + 600 * SECOND)
    title = plot(data, "timeseries/motor_x/history").axes[0].get_title()
    assert title.splitlines() == [
        "timeseries/motor_x/history",
        "301 points, 2023-11-14 23:13:20 to 23:23:20 CET (10 min 0 s)",
    ]
