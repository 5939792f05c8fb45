"""da00 adapter: DataArray round trips and the conventions documented in da00.py."""

from __future__ import annotations

import dataclasses

import hypothesis.extra.numpy as npst
import numpy as np
import pytest
import scipp as sc
from hypothesis import given, settings
from hypothesis import strategies as st
from streaming_data_types.dataarray_da00 import Variable, serialise_da00

from ess.livedata.kafka.schemas._da00_writer import serialise
from ess.livedata.kafka.schemas.da00 import decode_da00, encode_da00
from ess.livedata.kafka.schemas.errors import DecodeError

_UNITS = ["counts", "ns", "ms", "angstrom", "K", "mm", "dimensionless", None]
_DTYPES = ["float64", "float32", "int64", "int32"]
_DIMS = ["x", "y", "time"]


def _round_trip(da: sc.DataArray) -> sc.DataArray:
    source, timestamp, decoded = decode_da00(encode_da00("result", 42, da))
    assert (source, timestamp) == ("result", 42)
    return decoded


def _assert_round_tripped(decoded: sc.DataArray, da: sc.DataArray) -> None:
    assert decoded.name == da.name
    assert sc.identical(_values(decoded), _values(da), equal_nan=True)
    if da.variances is None:
        assert decoded.variances is None
    else:
        # Variances travel as standard deviations: exact to a few ulp only.
        eps = np.finfo(da.variances.dtype).eps
        np.testing.assert_allclose(decoded.variances, da.variances, rtol=4 * eps)


def _values(da: sc.DataArray) -> sc.DataArray:
    """``sc.values`` also for integer data, which scipp rejects there."""
    return da if da.variances is None else sc.values(da)


@st.composite
def data_arrays(draw: st.DrawFn) -> sc.DataArray:
    ndim = draw(st.integers(0, 3))
    dims = draw(st.permutations(_DIMS))[:ndim]
    shape = draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim))
    dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
    values = draw(npst.arrays(dtype, shape))
    variances = None
    if dtype.kind == "f" and draw(st.booleans()):
        positive = st.floats(
            0, 2.0**100, width=dtype.itemsize * 8, allow_subnormal=False
        )
        variances = draw(npst.arrays(dtype, shape, elements=positive))
    data = sc.array(
        dims=dims,
        values=values,
        variances=variances,
        unit=draw(st.sampled_from(_UNITS)),
    )
    coords = {}
    for dim, size in zip(dims, shape, strict=True):
        kind = draw(st.sampled_from(["none", "points", "edges"]))
        if kind != "none":
            length = size + (kind == "edges")
            coords[dim] = sc.array(
                dims=[dim],
                values=draw(npst.arrays(np.float64, length)),
                unit=draw(st.sampled_from(_UNITS)),
            )
    if draw(st.booleans()):
        start = draw(st.integers(0, 2**62))
        coords["start_time"] = sc.datetime(start, unit="ns")
        coords["end_time"] = sc.datetime(
            start + draw(st.integers(0, 10**12)), unit="ns"
        )
    name = draw(st.text(st.characters(exclude_categories=["Cs"]), max_size=12))
    return sc.DataArray(data, coords=coords, name=name)


@settings(database=None, deadline=None, max_examples=200)
@given(da=data_arrays())
def test_round_trip_keeps_values_variances_units_dims_coords_and_name(
    da: sc.DataArray,
) -> None:
    _assert_round_tripped(_round_trip(da), da)


def test_bin_edge_coord_round_trips_as_edges() -> None:
    da = sc.DataArray(
        sc.array(dims=["wavelength"], values=[1.0, 2.0, 3.0], unit="counts"),
        coords={"wavelength": sc.linspace("wavelength", 1.0, 4.0, 4, unit="angstrom")},
    )
    decoded = _round_trip(da)
    assert decoded.coords.is_edges("wavelength")
    assert sc.identical(decoded, da)


@pytest.mark.parametrize("time_unit", ["ns", "us", "s"])
def test_time_window_and_datetime_coord_round_trip(time_unit: str) -> None:
    times = sc.datetimes(dims=["time"], values=[1_700_000_000, 5, 6], unit=time_unit)
    da = sc.DataArray(
        sc.array(dims=["time"], values=[1.0, 2.0, 3.0], unit="K"),
        coords={
            "time": times,
            "start_time": sc.datetime(1_700_000_000_000_000_000, unit="ns"),
            "end_time": sc.datetime(1_700_000_001_000_000_000, unit="ns"),
        },
        name="temperature",
    )
    decoded = _round_trip(da)
    assert sc.identical(decoded, da)
    assert decoded.coords["start_time"].dtype == sc.DType.datetime64
    assert decoded.coords["end_time"].unit == "ns"
    assert decoded.coords["time"].unit == time_unit


def test_scalar_data_and_coords_keep_their_dtype() -> None:
    da = sc.DataArray(
        sc.scalar(np.float32(2.5), variance=np.float32(0.25), unit="counts"),
        coords={"index": sc.scalar(np.int32(3), unit=None), "label": sc.scalar("abc")},
    )
    decoded = _round_trip(da)
    assert sc.identical(decoded, da)
    assert decoded.dtype == sc.DType.float32
    assert decoded.coords["index"].dtype == sc.DType.int32


def test_empty_name_stays_empty() -> None:
    da = sc.DataArray(sc.array(dims=["x"], values=[1, 2]))
    assert _round_trip(da).name == ""


@pytest.mark.parametrize(
    "da",
    [
        sc.DataArray(
            sc.array(dims=["x"], values=[1.0]),
            masks={"m": sc.array(dims=["x"], values=[True])},
        ),
        sc.DataArray(sc.array(dims=["x"], values=[True])),
        sc.DataArray(
            sc.array(dims=["x"], values=[1.0]),
            coords={"x": sc.array(dims=["x"], values=["a"])},
        ),
        sc.DataArray(
            sc.array(dims=["x"], values=[1.0]),
            coords={"x": sc.array(dims=["x"], values=[1.0], variances=[1.0])},
        ),
        sc.DataArray(
            sc.array(dims=["x"], values=[1.0]), coords={"errors": sc.scalar(1)}
        ),
        sc.DataArray(sc.vectors(dims=["x"], values=[[1.0, 2.0, 3.0]])),
    ],
    ids=["masks", "bool", "string array", "coord variances", "reserved", "vectors"],
)
def test_content_da00_cannot_carry_raises_value_error(da: sc.DataArray) -> None:
    with pytest.raises(ValueError, match=r"da00|reserved"):
        encode_da00("result", 0, da)


def _foreign(*variables: Variable) -> bytes:
    return serialise_da00("efu", 7, list(variables))


def test_small_unsigned_ints_widen_and_python_scalars_become_0d() -> None:
    payload = _foreign(
        Variable(
            name="signal", data=np.array([1, 2], np.uint16), axes=["x"], unit="counts"
        ),
        Variable(name="total", data=5),
        Variable(name="rate", data=2.5),
        Variable(name="mode", data="fast"),
    )
    _, timestamp, decoded = decode_da00(payload)
    assert timestamp == 7
    expected = sc.DataArray(
        sc.array(dims=["x"], values=np.array([1, 2], np.int32), unit="counts"),
        coords={
            "total": sc.scalar(5, unit=None),
            "rate": sc.scalar(2.5, unit=None),
            "mode": sc.scalar("fast"),
        },
    )
    assert sc.identical(decoded, expected)


def test_errors_variable_becomes_variances() -> None:
    payload = _foreign(
        Variable(name="signal", data=np.array([1.0, 2.0]), axes=["x"]),
        Variable(name="errors", data=np.array([0.5, 3.0]), axes=["x"]),
    )
    _, _, decoded = decode_da00(payload)
    np.testing.assert_array_equal(decoded.variances, [0.25, 9.0])


def test_variables_outside_the_signal_dims_are_dropped() -> None:
    payload = _foreign(
        Variable(name="signal", data=np.array([1.0, 2.0]), axes=["x"]),
        Variable(name="frame_total", data=np.array([3, 4, 5]), axes=["frame"]),
    )
    _, _, decoded = decode_da00(payload)
    assert set(decoded.coords) == set()


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ([Variable(name="other", data=np.array([1.0]), axes=["x"])], "without signal"),
        (
            [
                Variable(name="signal", data=np.array([1.0]), axes=["x"]),
                Variable(name="signal", data=np.array([2.0]), axes=["x"]),
            ],
            "malformed",
        ),
        (
            [
                Variable(name="signal", data=np.array([1.0, 2.0]), axes=["x"]),
                Variable(name="x", data=np.array([1.0, 2.0, 3.0, 4.0]), axes=["x"]),
            ],
            "malformed",
        ),
        (
            [
                Variable(name="signal", data=np.array([1, 2]), axes=["x"]),
                Variable(name="errors", data=np.array([1.0, 1.0]), axes=["x"]),
            ],
            "malformed",
        ),
        (
            [
                Variable(name="signal", data=np.array([2**63], np.uint64), axes=["x"]),
            ],
            "uint64",
        ),
        (
            [
                Variable(
                    name="signal", data=np.array([1.0]), axes=["x"], unit="no-such-unit"
                )
            ],
            "malformed",
        ),
    ],
    ids=[
        "no signal",
        "duplicate",
        "coord too long",
        "int with errors",
        "uint64 overflow",
        "bad unit",
    ],
)
def test_variables_that_form_no_data_array_are_rejected(
    variables: list[Variable], reason: str
) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_da00(_foreign(*variables))


@st.composite
def da00_variables(draw: st.DrawFn) -> list[Variable]:
    """Variables as the library takes them, arrays possibly 0-D, empty or
    non-contiguous, so the writer's layout is compared on every input kind."""
    variables = []
    for index in range(draw(st.integers(1, 4))):
        dtype = np.dtype(draw(st.sampled_from([*_DTYPES, "uint8", "int16"])))
        shape = draw(st.lists(st.integers(0, 5), min_size=0, max_size=3))
        values = draw(npst.arrays(dtype, shape))
        if values.ndim == 2 and draw(st.booleans()):
            values = values.T
        data = draw(st.sampled_from([values, "a string", 7, 2.5]))
        axes = [f"d{i}" for i in range(np.ndim(data))] if np.ndim(data) else None
        variables.append(
            Variable(
                name=f"v{index}",
                data=data,
                axes=axes,
                unit=draw(st.sampled_from(_UNITS)),
                label=draw(st.sampled_from([None, "label"])),
                source=draw(st.sampled_from([None, "source"])),
            )
        )
    return variables


@settings(database=None, deadline=None, max_examples=200)
@given(variables=da00_variables(), timestamp=st.integers(0, 2**63 - 1))
def test_writer_writes_the_bytes_serialise_da00_writes(
    variables: list[Variable], timestamp: int
) -> None:
    expected = serialise_da00("source", timestamp, variables)
    assert serialise("source", timestamp, variables) == expected


@settings(database=None, deadline=None, max_examples=100)
@given(
    variables=da00_variables(),
    timestamps=st.tuples(st.integers(-(2**63), 2**63 - 1), st.integers(0, 2**62)),
    seed=st.integers(0, 2**32 - 1),
)
def test_writer_reusing_a_layout_writes_the_new_values_and_timestamp(
    variables: list[Variable], timestamps: tuple[int, int], seed: int
) -> None:
    """The second message of a layout is a filled-in copy of the first."""
    rng = np.random.default_rng(seed)
    again = [dataclasses.replace(v, data=_other_values(v.data, rng)) for v in variables]
    serialise("source", timestamps[0], variables)
    expected = serialise_da00("source", timestamps[1], again)
    assert serialise("source", timestamps[1], again) == expected


def _other_values(data: object, rng: np.random.Generator) -> object:
    if not isinstance(data, np.ndarray):
        return data
    raw = rng.integers(0, 256, data.nbytes, dtype=np.uint8)
    return raw.view(data.dtype).reshape(data.shape)


def test_large_image_round_trips() -> None:
    image = sc.DataArray(
        sc.array(dims=["y", "x"], values=np.arange(10**6).reshape(1000, 1000)),
        coords={"x": sc.arange("x", 1001.0, unit="mm")},
    )
    assert sc.identical(_round_trip(image), image)
