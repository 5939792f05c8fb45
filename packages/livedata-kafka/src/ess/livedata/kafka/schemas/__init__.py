"""ESS FlatBuffers schemas (ev44, f144, da00, x5f2, ad00) to and from livedata types.

Every decoder raises only :class:`DecodeError` for bad input, whatever the
bytes; encoders raise ValueError for values their schema cannot carry.
"""

from .ad00 import decode_ad00, encode_ad00
from .da00 import decode_da00, encode_da00
from .errors import DecodeError
from .ev44 import decode_ev44, encode_ev44
from .f144 import decode_f144, encode_f144
from .registry import DECODERS, decode, schema_id
from .x5f2 import decode_x5f2, encode_x5f2

__all__ = [
    "DECODERS",
    "DecodeError",
    "decode",
    "decode_ad00",
    "decode_da00",
    "decode_ev44",
    "decode_f144",
    "decode_x5f2",
    "encode_ad00",
    "encode_da00",
    "encode_ev44",
    "encode_f144",
    "encode_x5f2",
    "schema_id",
]
