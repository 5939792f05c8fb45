"""``--max-lag-s`` and the ``max_lag_s`` configuration key."""

from __future__ import annotations

import pytest

from ess.livedata.config import ConfigError, load_config
from ess.livedata.processing.service import data_group, max_lag_s, service_parser


def parse(*argv: str):
    return service_parser("monitor_data", "test").parse_args(list(argv))


def test_configuration_default_applies_without_the_option():
    assert max_lag_s(parse(), load_config("services")) == 5.0


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["--max-lag-s", "2.5"], 2.5), (["--max-lag-s", "off"], None)],
)
def test_option_overrides_the_configuration(argv, expected):
    assert max_lag_s(parse(*argv), {"max_lag_s": 5}) == expected


def test_null_in_the_configuration_never_skips():
    assert max_lag_s(parse(), {"max_lag_s": None}) is None


@pytest.mark.parametrize("value", [0, -1, "5", True])
def test_invalid_configuration_is_a_config_error(value):
    with pytest.raises(ConfigError, match="max_lag_s"):
        max_lag_s(parse(), {"max_lag_s": value})


@pytest.mark.parametrize("text", ["0", "-3", "soon"])
def test_invalid_option_is_a_usage_error(text, capsys):
    with pytest.raises(SystemExit) as info:
        parse("--max-lag-s", text)
    assert info.value.code == 2
    assert "--max-lag-s" in capsys.readouterr().err


def test_png_keep_defaults_to_100_and_must_be_positive(capsys):
    assert parse().png_keep == 100
    assert parse("--png-keep", "5").png_keep == 5
    for bad in ("0", "many"):
        with pytest.raises(SystemExit):
            parse("--png-keep", bad)
    assert "--png-keep" in capsys.readouterr().err


def test_kafka_workers_share_a_group_and_each_png_instance_has_its_own():
    assert data_group("dummy", "monitor_data", "kafka") == "dummy_monitor_data"
    png = {data_group("dummy", "monitor_data", "png") for _ in range(2)}
    assert len(png) == 2
    assert all(g.startswith("dummy_monitor_data_png_") for g in png)
