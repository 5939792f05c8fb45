from itertools import takewhile

import numpy as np
import pytest

from ess.livedata.core.instrument import LogStream
from ess.livedata.fake.logs import Drift, Motor, Toggle, behaviour_for, log_samples
from ess.livedata.instruments.dummy.plugin import make_instrument
from ess.livedata.services.fake_logdata import main

S = 1_000_000_000
START = 1_700_000_000 * S
MINUTES = 5


@pytest.fixture(scope="module")
def produced() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Five minutes of the dummy's logs: times (ns) and values per stream."""
    logs = make_instrument().logs
    samples = takewhile(
        lambda item: item[1].time < START + MINUTES * 60 * S,
        log_samples(logs, seed=4, start_ns=START),
    )
    by_name: dict[str, list] = {log.name: [] for log in logs}
    for log, sample in samples:
        by_name[log.name].append((sample.time, sample.value))
    return {
        name: (np.array([t for t, _ in pairs]), np.array([v for _, v in pairs]))
        for name, pairs in by_name.items()
    }


@pytest.mark.parametrize(
    ("unit", "kind", "scale"),
    [
        ("mm", Motor, 1000.0),
        ("m", Motor, 1.0),
        ("deg", Motor, 1.0),
        ("rad", Motor, np.pi / 180),
        ("K", Drift, 1.0),
        ("A", Drift, 1.0),
        (None, Toggle, None),
    ],
)
def test_behaviour_follows_declared_unit(unit, kind, scale):
    behaviour = behaviour_for(LogStream("x", "x", unit=unit))
    assert isinstance(behaviour, kind)
    if scale is not None:
        assert behaviour.scale == pytest.approx(scale)


def test_every_stream_starts_at_start_and_is_in_time_order(produced):
    for times, _ in produced.values():
        assert times[0] == START
        assert (np.diff(times) > 0).all()


def test_motor_moves_at_10_hz_and_rests_at_1_hz_in_its_unit(produced):
    for name, low, high in (("motor_x", -50, 50), ("panel_0_z", -0.05, 0.05)):
        times, values = produced[name]
        steps = np.diff(times)
        assert set(steps.tolist()) == {S // 10, S}
        moved = np.diff(values) != 0
        assert (steps[moved] == S // 10).all()
        assert (~moved[steps == S]).all()
        overshoot = 0.02 * (high - low)
        assert low - overshoot <= values.min()
        assert values.max() <= high + overshoot
        assert values.max() - values.min() > (high - low) / 5
        assert moved.sum() > 100


def test_temperature_drifts_at_1_hz_near_room_temperature(produced):
    times, values = produced["temperature"]
    assert (np.diff(times) == S).all()
    assert len(times) == MINUTES * 60
    assert np.abs(values - 295).max() < 5
    assert np.diff(values).std() > 0


def test_shutter_toggles_rarely_sent_on_change_and_kept_alive(produced):
    times, values = produced["shutter"]
    assert values.dtype == np.int64
    assert set(values.tolist()) == {0, 1}
    assert np.diff(times).max() <= 10 * S
    changes = times[1:][np.diff(values) != 0]
    assert len(changes) == pytest.approx(MINUTES * 60 / 20, abs=4)
    assert (np.diff(changes) >= 15 * S).all()
    assert (np.diff(changes) <= 25 * S).all()


def test_samples_are_reproducible_from_the_seed():
    logs = make_instrument().logs

    def first(seed):
        samples = log_samples(logs, seed=seed, start_ns=START)
        return [next(samples) for _ in range(200)]

    assert first(4) == first(4)
    assert first(4) != first(5)


def test_cli_has_no_event_rate_options():
    with pytest.raises(SystemExit) as exit_info:
        main(["--instrument", "dummy", "--events-per-pulse", "10"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["--instrument", "dummy", "--seconds", "0"])
    assert exit_info.value.code == 2
