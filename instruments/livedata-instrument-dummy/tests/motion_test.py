import numpy as np
import pytest
import scipp as sc

from ess.livedata.core.log_values import LatestLogValues
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import LogSample
from ess.livedata.instruments.dummy.motion import PANEL, PANEL_Z_LOG, panel_positions
from ess.livedata.instruments.dummy.plugin import make_instrument


@pytest.fixture(scope="module")
def instrument():
    return make_instrument()


@pytest.fixture(scope="module")
def nominal(instrument):
    return instrument.detector(PANEL).geometry.coords["position"]


def test_panel_moves_along_z_only(nominal):
    moved = panel_positions(nominal, sc.scalar(25.0, unit="mm"))
    assert moved.unit == nominal.unit
    assert moved.dims == nominal.dims
    shift = moved.values - nominal.values
    np.testing.assert_allclose(shift[..., :2], 0.0)
    np.testing.assert_allclose(shift[..., 2], 0.025)


def test_no_motor_value_yet_leaves_nominal_positions(nominal):
    positions = panel_positions(nominal, None)
    assert sc.identical(positions, nominal)
    assert positions is not nominal


def test_array_value_is_refused(nominal):
    with pytest.raises(ValueError, match="scalar"):
        panel_positions(nominal, sc.array(dims=["index"], values=[1.0], unit="m"))


def test_positions_follow_latest_motor_value_at_the_data_time(instrument, nominal):
    logs = LatestLogValues(instrument.logs)
    stream = StreamId(StreamKind.LOG, PANEL_Z_LOG)
    for t, z in [(100, 0.01), (200, -0.02)]:
        logs.update(Message(t, stream, LogSample(t, z)))
    assert logs.value_at(PANEL_Z_LOG, 99) is None
    z = [
        panel_positions(nominal, logs.value_at(PANEL_Z_LOG, t)).values[0, 0, 2]
        for t in (150, 250)
    ]
    distance = nominal.values[0, 0, 2]
    assert z == pytest.approx([distance + 0.01, distance - 0.02])
