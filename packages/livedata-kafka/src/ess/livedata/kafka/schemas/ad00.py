"""ad00 area-detector images to and from :class:`scipp.DataArray`.

ad00 has neither dimension names nor units: decoded images get dims
``dim_0``, ``dim_1``, ... in the order of the stored shape and unit counts.
The ad00 id field is written as 0 and not decoded; attributes are ignored.
"""

from __future__ import annotations

import scipp as sc
from streaming_data_types.area_detector_ad00 import get_payload_data, serialise_ad00
from streaming_data_types.fbschemas.area_detector_ad00.ad00_ADArray import (
    ad00_ADArray,
)
from streaming_data_types.fbschemas.area_detector_ad00.DType import DType

from ._boundary import bounded, expect_schema, reraise_as_decode_error
from ._dtypes import NUMERIC_DTYPES, scipp_compatible
from .errors import DecodeError


def decode_ad00(payload: bytes) -> tuple[str, int, sc.DataArray]:
    """Source name, timestamp (ns) and image of an ad00 message.

    Raises
    ------
    DecodeError
        If the payload is not ad00, is malformed, or holds a string.
    """
    expect_schema(payload, "ad00")
    with reraise_as_decode_error("ad00"):
        root = bounded(ad00_ADArray.GetRootAs(payload, 0))
        if root.DataType() == DType.c_string:
            raise DecodeError("ad00 payload without image", "data is a string")
        values = scipp_compatible(get_payload_data(root))
        dims = [f"dim_{i}" for i in range(values.ndim)]
        image = sc.DataArray(sc.array(dims=dims, values=values, unit="counts"))
        return root.SourceName().decode(), root.Timestamp(), image


def encode_ad00(source_name: str, timestamp_ns: int, image: sc.DataArray) -> bytes:
    """Serialise an image as ad00, as the fake producers and tests need.

    Raises
    ------
    ValueError
        If the image holds anything ad00 cannot carry: a unit other than
        counts, variances, coords, masks, or a non-numeric dtype.
    """
    if image.unit != sc.units.counts or image.dtype not in NUMERIC_DTYPES:
        raise ValueError(
            f"ad00 carries numeric counts, not {image.dtype}[{image.unit}]"
        )
    if image.variances is not None or image.coords or image.masks:
        raise ValueError("ad00 cannot carry variances, coords or masks")
    return serialise_ad00(source_name, 0, timestamp_ns, image.values)
