"""da00 serialisation that copies each array once.

``streaming_data_types.serialise_da00`` starts a 1 KiB builder that doubles
as it fills, flattens every array (a copy), turns it into ``bytes`` (a copy)
before writing it into the builder, and copies the finished buffer twice: a
1000 x 1000 int64 image took ~35 ms. Here the builder is sized up front and
arrays go straight from numpy into it. The bytes written are the same as
``serialise_da00`` writes (tested), since a FlatBuffers layout does not
depend on how the builder grew.

Nor does it depend on the values: with defaults forced, a message's bytes
are the same for every message of one layout (source name, and per variable
its name, unit, label, source, axes, dtype and shape) except for the
timestamp and the data arrays. A service publishes the same small outputs
every window, so a small message is built once per layout and then copied
with its timestamp and arrays written in place: ~10 us instead of ~150 us of
FlatBuffers calls in Python per message, and still the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import flatbuffers
import numpy as np
import streaming_data_types.fbschemas.dataarray_da00.da00_Variable as VariableBuffer
from streaming_data_types.dataarray_da00 import (
    FILE_IDENTIFIER,
    Variable,
    create_optional_string,
    get_dtype,
    to_buffer,
)
from streaming_data_types.fbschemas.dataarray_da00 import da00_DataArray

_OVERHEAD_BYTES = 1024
"""Builder room beyond the arrays: tables, strings, vtables, alignment."""
_TEMPLATE_MAX_BYTES = 1 << 16
"""Messages with more array bytes are built each time: the copy dominates."""
_TEMPLATES_MAX = 1024
_DATA_SLOT = 4 + 2 * 7  # vtable entry of da00_Variable.data (field 7)
_TIMESTAMP_SLOT = 4 + 2 * 1  # vtable entry of da00_DataArray.timestamp (field 1)
_INT64 = struct.Struct("<q")


@dataclass(frozen=True, slots=True)
class _Template:
    """A built message and where its timestamp and arrays are."""

    payload: bytes
    timestamp_at: int
    data_at: tuple[int, ...]

    @classmethod
    def of(cls, payload: bytes) -> _Template:
        root = da00_DataArray.da00_DataArray.GetRootAs(payload, 0)
        variables = [root.Data(i)._tab for i in range(root.DataLength())]
        return cls(
            payload,
            root._tab.Pos + root._tab.Offset(_TIMESTAMP_SLOT),
            tuple(v.Vector(v.Offset(_DATA_SLOT)) for v in variables),
        )

    def fill(self, timestamp_ns: int, buffers: list[np.ndarray]) -> bytes:
        out = bytearray(self.payload)
        _INT64.pack_into(out, self.timestamp_at, timestamp_ns)
        for at, buffer in zip(self.data_at, buffers, strict=True):
            raw = _raw_bytes(buffer)
            out[at : at + raw.size] = memoryview(raw)
        return bytes(out)


_templates: dict[tuple[object, ...], _Template] = {}


def serialise(source_name: str, timestamp_ns: int, variables: list[Variable]) -> bytes:
    """The da00 message of ``variables``, as ``serialise_da00`` would write it."""
    if not variables:
        raise ValueError("da00 needs at least one variable")
    buffers = [to_buffer(v.data) for v in variables]
    if sum(b.nbytes for b in buffers) > _TEMPLATE_MAX_BYTES:
        return _build(source_name, timestamp_ns, variables, buffers)
    layout = (source_name, *map(_layout, variables, buffers))
    template = _templates.get(layout)
    if template is None:
        template = _Template.of(_build(source_name, 0, variables, buffers))
        if len(_templates) >= _TEMPLATES_MAX:
            _templates.clear()
        _templates[layout] = template
    return template.fill(timestamp_ns, buffers)


def _layout(variable: Variable, buffer: np.ndarray) -> tuple[object, ...]:
    """What fixes a variable's bytes apart from its array's values (a
    string's value fixes its length, so it is part of the layout)."""
    data = variable.data
    kind = buffer.dtype.str if isinstance(data, np.ndarray) else data
    if isinstance(data, int | float):
        kind = type(data)
    return (
        variable.name,
        variable.unit,
        variable.label,
        variable.source,
        tuple(variable.axes),
        kind,
        buffer.shape,
    )


def _build(
    source_name: str,
    timestamp_ns: int,
    variables: list[Variable],
    buffers: list[np.ndarray],
) -> bytes:
    builder = flatbuffers.Builder(
        sum(b.nbytes for b in buffers) + _OVERHEAD_BYTES * (len(variables) + 1)
    )
    builder.ForceDefaults(True)
    packed = [
        _pack(builder, variable, buffer)
        for variable, buffer in zip(variables, buffers, strict=True)
    ]
    da00_DataArray.StartDataVector(builder, len(packed))
    for offset in reversed(packed):
        builder.PrependUOffsetTRelative(offset)
    data_offset = builder.EndVector()
    source_offset = builder.CreateString(source_name)
    da00_DataArray.Start(builder)
    da00_DataArray.AddSourceName(builder, source_offset)
    da00_DataArray.AddTimestamp(builder, timestamp_ns)
    da00_DataArray.AddData(builder, data_offset)
    builder.Finish(da00_DataArray.End(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(memoryview(builder.Bytes)[builder.Head() :])


def _pack(builder: flatbuffers.Builder, variable: Variable, buffer: np.ndarray) -> int:
    """``Variable.pack`` with the array written in one copy."""
    source_offset = create_optional_string(builder, variable.source)
    label_offset = create_optional_string(builder, variable.label)
    unit_offset = create_optional_string(builder, variable.unit)
    name_offset = builder.CreateString(variable.name)
    shape_offset = builder.CreateNumpyVector(np.asarray(buffer.shape))
    data_offset = _byte_vector(builder, buffer)
    axes = [builder.CreateString(axis) for axis in variable.axes]
    VariableBuffer.StartAxesVector(builder, len(axes))
    for axis in reversed(axes):
        builder.PrependUOffsetTRelative(axis)
    axes_offset = builder.EndVector()
    VariableBuffer.Start(builder)
    VariableBuffer.AddName(builder, name_offset)
    if unit_offset is not None:
        VariableBuffer.AddUnit(builder, unit_offset)
    if label_offset is not None:
        VariableBuffer.AddLabel(builder, label_offset)
    if source_offset is not None:
        VariableBuffer.AddSource(builder, source_offset)
    VariableBuffer.AddDataType(builder, get_dtype(variable.data))
    VariableBuffer.AddAxes(builder, axes_offset)
    VariableBuffer.AddShape(builder, shape_offset)
    VariableBuffer.AddData(builder, data_offset)
    return VariableBuffer.End(builder)


def _byte_vector(builder: flatbuffers.Builder, array: np.ndarray) -> int:
    """A ubyte vector of ``array``'s bytes in C order, copied once (da00
    takes native little-endian dtypes only, see ``get_dtype``)."""
    raw = _raw_bytes(array)
    builder.StartVector(1, raw.size, 1)
    builder.head -= raw.size
    builder.Bytes[builder.head : builder.head + raw.size] = memoryview(raw)
    builder.vectorNumElems = raw.size
    return builder.EndVector()


def _raw_bytes(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)
