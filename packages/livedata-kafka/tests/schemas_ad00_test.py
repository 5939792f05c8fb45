"""ad00 adapter: image round trips, dtype widening and what ad00 cannot carry."""

from __future__ import annotations

import hypothesis.extra.numpy as npst
import numpy as np
import pytest
import scipp as sc
from hypothesis import given, settings
from hypothesis import strategies as st
from streaming_data_types.area_detector_ad00 import serialise_ad00

from ess.livedata.kafka.schemas.ad00 import decode_ad00, encode_ad00
from ess.livedata.kafka.schemas.errors import DecodeError


@settings(database=None, deadline=None)
@given(
    values=npst.arrays(
        st.sampled_from([np.int32, np.int64, np.float32, np.float64]),
        npst.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=6),
    ),
    timestamp=st.integers(-(2**63), 2**63 - 1),
)
def test_round_trip_keeps_values_shape_dtype_and_timestamp(
    values: np.ndarray, timestamp: int
) -> None:
    image = sc.DataArray(
        sc.array(dims=["dim_0", "dim_1"], values=values, unit="counts")
    )
    source, decoded_timestamp, decoded = decode_ad00(
        encode_ad00("cam", timestamp, image)
    )
    assert (source, decoded_timestamp) == ("cam", timestamp)
    assert sc.identical(decoded, image, equal_nan=True)


def test_dims_follow_the_stored_shape_whatever_the_encoded_names() -> None:
    image = sc.DataArray(sc.zeros(dims=["y", "x"], shape=[2, 3], unit="counts"))
    _, _, decoded = decode_ad00(encode_ad00("cam", 0, image))
    assert decoded.sizes == {"dim_0": 2, "dim_1": 3}


def test_unsigned_camera_pixels_widen_without_loss() -> None:
    values = np.array([[0, 65535], [1, 2]], dtype=np.uint16)
    _, _, decoded = decode_ad00(serialise_ad00("cam", 1, 5, values))
    assert decoded.dtype == sc.DType.int32
    np.testing.assert_array_equal(decoded.values, values)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("a string", "ad00 payload without image"),
        (np.array([[2**63]], dtype=np.uint64), "uint64 value beyond int64 range"),
    ],
)
def test_data_scipp_cannot_hold_is_rejected(data: object, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_ad00(serialise_ad00("cam", 1, 5, data))
    assert info.value.reason == reason


@pytest.mark.parametrize(
    "image",
    [
        sc.DataArray(sc.zeros(dims=["y", "x"], shape=[1, 1], unit="m")),
        sc.DataArray(
            sc.zeros(dims=["y", "x"], shape=[1, 1], unit="counts", with_variances=True)
        ),
        sc.DataArray(
            sc.zeros(dims=["y", "x"], shape=[1, 1], unit="counts"),
            coords={"x": sc.arange("x", 1)},
        ),
        sc.DataArray(sc.array(dims=["x"], values=[True], unit="counts")),
    ],
    ids=["unit", "variances", "coords", "bool"],
)
def test_content_ad00_cannot_carry_raises_value_error(image: sc.DataArray) -> None:
    with pytest.raises(ValueError, match="ad00"):
        encode_ad00("cam", 0, image)
