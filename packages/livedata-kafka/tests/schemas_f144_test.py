"""f144 adapter: scalar and array round trips, NaN, unsupported values."""

from __future__ import annotations

import hypothesis.extra.numpy as npst
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ess.livedata.core.payloads import LogSample
from ess.livedata.kafka.schemas.f144 import decode_f144, encode_f144

_DTYPES = [
    np.int8,
    np.uint8,
    np.int16,
    np.uint16,
    np.int32,
    np.uint32,
    np.int64,
    np.uint64,
    np.float32,
    np.float64,
]


@settings(database=None, deadline=None)
@given(
    values=st.sampled_from(_DTYPES).flatmap(
        lambda dtype: npst.arrays(dtype, st.integers(0, 20))
    ),
    time=st.integers(-(2**63), 2**63 - 1),
    source=st.text(min_size=1, max_size=20),
)
def test_array_round_trip_keeps_dtype_values_and_time(
    values: np.ndarray, time: int, source: str
) -> None:
    decoded_source, sample = decode_f144(encode_f144(source, LogSample(time, values)))
    assert decoded_source == source
    assert sample.time == time
    assert sample.value.dtype == values.dtype
    np.testing.assert_array_equal(sample.value, values)


@settings(database=None, deadline=None)
@given(
    value=st.sampled_from(_DTYPES).flatmap(
        lambda dtype: npst.from_dtype(np.dtype(dtype))
    )
)
def test_scalar_round_trip_keeps_value(value: np.generic) -> None:
    _, sample = decode_f144(encode_f144("temp", LogSample(0, np.asarray(value))))
    assert isinstance(sample.value, int | float)
    np.testing.assert_array_equal(np.asarray(sample.value, dtype=value.dtype), value)


@pytest.mark.parametrize("value", [1.5, -3, float("nan")])
def test_python_scalars_round_trip(value: float) -> None:
    _, sample = decode_f144(encode_f144("temp", LogSample(12, value)))
    np.testing.assert_equal(sample.value, value)
    assert sample.time == 12


def test_nan_in_arrays_passes_through() -> None:
    values = np.array([1.0, np.nan, 3.0])
    _, sample = decode_f144(encode_f144("temp", LogSample(1, values)))
    np.testing.assert_array_equal(sample.value, values)


@pytest.mark.parametrize(
    "value",
    [True, np.zeros((2, 2)), np.array(["a"]), "text"],
    ids=["bool", "2-D", "string array", "string"],
)
def test_values_f144_cannot_carry_raise_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="f144 cannot carry"):
        encode_f144("temp", LogSample(0, value))  # type: ignore[arg-type]
