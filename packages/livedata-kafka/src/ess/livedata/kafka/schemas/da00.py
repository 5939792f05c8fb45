"""da00 data-array messages to and from :class:`scipp.DataArray`.

da00 carries a flat list of named variables (values, axes, shape, unit,
label). A DataArray is mapped onto it with these conventions, shared with the
ESS event formation units and scipp/esslivedata:

- The data is the variable named ``signal``; each coord is a variable named
  after the coord. Bin-edge coords need nothing special: they are one longer
  than the data along their dim, and scipp recognises them as edges again.
- Variances travel as standard deviations in a variable named ``errors``
  (da00 has no variances field). They come back as ``errors**2``, so they
  round-trip to within a few ulp, not bit-exactly.
- ``DataArray.name`` is the ``label`` of the signal variable (absent when
  the name is empty).
- datetime64 variables are int64 counts since the Unix epoch with unit
  ``datetime64[<unit>]``, e.g. ``datetime64[ns]``. The time window a result
  covers is just two 0-D datetime64 coords, ``start_time`` and ``end_time``.
- 0-D string variables use da00's ``c_string`` type. da00 cannot carry
  string arrays, bools, masks, vectors or coord variances: encoding them
  raises ValueError rather than silently dropping content.
- On decode, 8/16-bit and unsigned integers are widened to int32/int64
  (scipp has no such dtypes), all coords come back aligned, and variables
  whose dims are not a subset of the signal's dims are dropped: da00 allows
  them (event formation units send per-frame variables next to frame-
  integrated data) but a DataArray cannot hold them.
"""

from __future__ import annotations

import numpy as np
import scipp as sc
from streaming_data_types.dataarray_da00 import Variable, from_buffer
from streaming_data_types.fbschemas.dataarray_da00.da00_DataArray import (
    da00_DataArray,
)
from streaming_data_types.fbschemas.dataarray_da00.da00_Variable import (
    da00_Variable,
)

from ._boundary import bounded, expect_schema, reraise_as_decode_error
from ._da00_writer import serialise
from ._dtypes import NUMERIC_DTYPES, scipp_compatible
from .errors import DecodeError

SIGNAL = "signal"
ERRORS = "errors"
_DATETIME_PREFIX = "datetime64["


def encode_da00(source_name: str, timestamp_ns: int, data: sc.DataArray) -> bytes:
    """Serialise a DataArray as da00 with the conventions of this module.

    Raises
    ------
    ValueError
        If ``data`` has masks, a coord named ``signal`` or ``errors``, coord
        variances, or a dtype da00 cannot carry.
    """
    if data.masks:
        raise ValueError(f"da00 cannot carry masks {list(data.masks)}")
    # Read once: each pass over a scipp coords dict costs ~10 us per coord.
    coords = list(data.coords.items())
    reserved = {SIGNAL, ERRORS} & {name for name, _ in coords}
    if reserved:
        raise ValueError(f"coord names {sorted(reserved)} are reserved in da00")
    label = data.name or None
    if data.variances is None:
        variables = [_to_da00(SIGNAL, data.data, label=label)]
    else:
        variables = [
            _to_da00(SIGNAL, sc.values(data.data), label=label),
            _to_da00(ERRORS, sc.stddevs(data.data)),
        ]
    for name, coord in coords:
        if coord.variances is not None:
            raise ValueError(f"da00 cannot carry variances of coord {name!r}")
        variables.append(_to_da00(name, coord))
    return serialise(source_name, timestamp_ns, variables)


def decode_da00(payload: bytes) -> tuple[str, int, sc.DataArray]:
    """Source name, timestamp (ns) and DataArray of a da00 message.

    Raises
    ------
    DecodeError
        If the payload is not da00, is malformed, has no ``signal`` variable,
        or its variables do not form a DataArray.
    """
    expect_schema(payload, "da00")
    with reraise_as_decode_error("da00"):
        root = bounded(da00_DataArray.GetRootAs(payload, 0))
        source_name = root.SourceName().decode()
        variables: dict[str, sc.Variable] = {}
        name = ""
        for i in range(root.DataLength()):
            fb_variable = bounded(root.Data(i))
            var_name = fb_variable.Name().decode()
            if var_name in variables:
                raise DecodeError("malformed da00 payload", f"two {var_name!r}")
            variables[var_name] = _to_scipp(fb_variable)
            if var_name == SIGNAL and fb_variable.Label() is not None:
                name = fb_variable.Label().decode()
        return source_name, root.Timestamp(), _assemble(variables, name)


def _assemble(variables: dict[str, sc.Variable], name: str) -> sc.DataArray:
    if SIGNAL not in variables:
        raise DecodeError("da00 payload without signal", repr(list(variables)))
    signal = variables.pop(SIGNAL)
    errors = variables.pop(ERRORS, None)
    if errors is not None:
        signal.variances = (errors**2).transpose(signal.dims).values
    dims = set(signal.dims)
    coords = {k: v for k, v in variables.items() if set(v.dims) <= dims}
    return sc.DataArray(signal, coords=coords, name=name)


def _to_da00(name: str, var: sc.Variable, *, label: str | None = None) -> Variable:
    unit = _unit_name(var.unit)
    if var.dtype == sc.DType.string and var.ndim == 0:
        return Variable(name=name, data=var.value, unit=unit, label=label)
    if var.dtype == sc.DType.datetime64:
        values = var.values.astype(np.int64)
        unit = f"{_DATETIME_PREFIX}{unit}]"
    elif var.dtype in NUMERIC_DTYPES:
        values = var.values
    else:
        raise ValueError(f"da00 cannot carry {var.ndim}-D {var.dtype} {name!r}")
    return Variable(name=name, data=values, axes=list(var.dims), unit=unit, label=label)


def _unit_name(unit: sc.Unit | None) -> str | None:
    """``str(unit)``, remembered: scipp formats a unit in 5-20 us."""
    try:
        return _UNIT_NAMES[unit]
    except KeyError:
        name = None if unit is None else str(unit)
        if len(_UNIT_NAMES) < _UNIT_NAMES_MAX:
            _UNIT_NAMES[unit] = name
        return name


_UNIT_NAMES: dict[sc.Unit | None, str | None] = {}
_UNIT_NAMES_MAX = 256


def _to_scipp(fb_variable: da00_Variable) -> sc.Variable:
    """A da00 variable as a scipp Variable; a copy, not a view into the payload."""
    values = from_buffer(fb_variable)  # str for c_string, else a typed view
    axes = [fb_variable.Axes(i).decode() for i in range(fb_variable.AxesLength())]
    unit = None if fb_variable.Unit() is None else fb_variable.Unit().decode()
    if isinstance(values, str):
        if axes:
            raise DecodeError("malformed da00 payload", "string variable with axes")
        return sc.scalar(values, unit=unit)
    # 0-D values have no axes; their stored shape is not reliable (the library
    # records a Python int as 8 bytes of shape [8]).
    values = values.reshape(fb_variable.ShapeAsNumpy() if axes else ())
    if unit is not None and unit.startswith(_DATETIME_PREFIX) and unit.endswith("]"):
        unit = unit[len(_DATETIME_PREFIX) : -1]
        dtype = sc.DType.datetime64
    else:
        dtype = None
    return sc.array(dims=axes, values=scipp_compatible(values), unit=unit, dtype=dtype)
