import numpy as np
import scipp as sc
from PIL import Image

from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.processing.outputs import stamp
from ess.livedata.processing.png_sink import PngSink

SECOND = 1_000_000_000


def message(name: str, data: sc.DataArray, t: int) -> Message:
    return Message(
        t, StreamId(StreamKind.LIVEDATA_DATA, name), stamp(data, t - SECOND, t)
    )


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
    sink = PngSink(tmp_path)
    t = 1_700_000_000 * SECOND
    sink.publish_messages(
        [
            message("monitor_data/monitor1/current", spectrum(), t),
            message("detector_data/panel_0/xy_current", image(), t),
        ]
    )
    sink.close()
    for folder in ("monitor_data/monitor1/current", "detector_data/panel_0/xy_current"):
        files = sorted((tmp_path / folder).iterdir())
        assert [f.name for f in files] == ["20231114T221320.000000Z.png", "latest.png"]
        for f in files:
            assert_readable(f)
    assert sink.written == 2


def test_newest_update_of_an_output_wins_when_the_writer_is_behind(tmp_path):
    sink = PngSink(tmp_path)
    t = 1_700_000_000 * SECOND
    updates = [message("svc/src/out", spectrum(), t + i * SECOND) for i in range(20)]
    sink.publish_messages(updates)
    sink.close()
    written = sorted(p.name for p in (tmp_path / "svc/src/out").iterdir())
    assert sink.written + sink.superseded == 20
    assert written[-2] == "20231114T221339.000000Z.png"  # the last update
    assert written[-1] == "latest.png"
