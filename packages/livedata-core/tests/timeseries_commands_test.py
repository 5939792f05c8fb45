import pytest
from pydantic import ValidationError

from ess.livedata.core.timeseries_commands import SetHistoryCaps


def test_caps_may_be_set_alone_or_together():
    body = SetHistoryCaps.model_validate({"target": "motor_x", "length_s": 2})
    assert body == SetHistoryCaps(target="motor_x", length_s=2.0)
    body = SetHistoryCaps.model_validate({"length_s": 86_400, "max_points": 1_000_000})
    assert body.max_points == 1_000_000


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"length_s": 0},
        {"length_s": -1},
        {"length_s": 86_401},
        {"length_s": float("nan")},
        {"length_s": float("inf")},
        {"max_points": 0},
        {"max_points": 1_000_001},
        {"max_points": 1.5},
        {"length_s": 1, "extra": 1},
    ],
)
def test_invalid_caps_are_rejected(fields):
    with pytest.raises(ValidationError):
        SetHistoryCaps.model_validate(fields)
