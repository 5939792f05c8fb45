"""UpstreamDecoder: (topic, source name, schema) to logical streams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipp as sc

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch, LogSample
from ess.livedata.core.streams import InputStreamKey, StreamMapping
from ess.livedata.kafka.decoders import UpstreamDecoder
from ess.livedata.kafka.livedata_topics import decode_roi
from ess.livedata.kafka.schemas import DecodeError, encode_da00, encode_ev44
from ess.livedata.kafka.schemas.f144 import encode_f144
from ess.livedata.protocol import RoiGeometry

_MAPPING = StreamMapping(
    instrument="x",
    inputs={
        InputStreamKey("x_detector", "bank_a"): StreamId(
            StreamKind.DETECTOR_EVENTS, "panel"
        ),
        InputStreamKey("x_monitor", "mon_a"): StreamId(
            StreamKind.MONITOR_EVENTS, "monitor1"
        ),
        InputStreamKey("x_commands", ""): StreamId(StreamKind.LIVEDATA_COMMANDS, ""),
    },
    outputs={
        StreamKind.LIVEDATA_COMMANDS: "x_commands",
        StreamKind.LIVEDATA_ROI: "x_roi",
    },
)
ROI_CORPUS = Path(__file__).parents[2] / "livedata-protocol/tests/corpus/livedata_roi"


def _events(
    source: str, pulse: int = 1_700_000_000_000_000_000, pixels: bool = True
) -> bytes:
    batch = EventBatch(
        reference_time=np.array([pulse], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=np.array([5, 6], dtype=np.int32),
        pixel_id=np.array([1, 2] if pixels else [], dtype=np.int32),
    )
    return encode_ev44(source, batch)


def test_events_get_their_logical_stream_and_pulse_time() -> None:
    decoder = UpstreamDecoder(_MAPPING)
    for pulse in (10, 20):  # the second resolution is the remembered one
        message = decoder.decode("x_detector", _events("bank_a", pulse), 0)
        assert message.stream == StreamId(StreamKind.DETECTOR_EVENTS, "panel")
        assert message.timestamp == pulse
        assert message.value.size == 2


def test_detector_events_without_pixel_ids_are_rejected_monitor_ones_not() -> None:
    decoder = UpstreamDecoder(_MAPPING)
    with pytest.raises(DecodeError) as info:
        decoder.decode("x_detector", _events("bank_a", pixels=False), 0)
    assert info.value.reason == "detector events without pixel ids"
    message = decoder.decode("x_monitor", _events("mon_a", pixels=False), 0)
    assert message.value.size == 2


def test_monitor_histogram_becomes_monitor_counts() -> None:
    histogram = sc.DataArray(
        sc.array(dims=["t"], values=[1.0, 2.0], unit="counts"),
        coords={"t": sc.array(dims=["t"], values=[0.0, 1.0, 2.0], unit="ms")},
    )
    payload = encode_da00("mon_a", 7, histogram)
    message = UpstreamDecoder(_MAPPING).decode("x_monitor", payload, 0)
    assert message.stream == StreamId(StreamKind.MONITOR_COUNTS, "monitor1")
    assert message.timestamp == 7


def test_commands_pass_through_as_bytes_with_the_broker_time() -> None:
    message = UpstreamDecoder(_MAPPING).decode("x_commands", b"{}", 99)
    assert message.stream.kind is StreamKind.LIVEDATA_COMMANDS
    assert (message.timestamp, message.value) == (99, b"{}")


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("x_detector", _events("bank_b"), "unknown source"),
        ("x_monitor", _events("bank_a"), "unknown source"),
        ("x_detector", encode_f144("bank_a", LogSample(1, 2.0)), "unexpected schema"),
    ],
)
def test_unknown_streams_and_schemas_are_rejected_every_time(
    topic: str, payload: bytes, reason: str
) -> None:
    decoder = UpstreamDecoder(_MAPPING)
    for _ in range(2):
        with pytest.raises(DecodeError) as info:
            decoder.decode(topic, payload, 0)
        assert info.value.reason == reason


def test_remembered_streams_are_bounded() -> None:
    mapping = StreamMapping(
        instrument="x",
        inputs={InputStreamKey("x_any", ""): StreamId(StreamKind.DETECTOR_EVENTS, "d")},
        outputs={StreamKind.LIVEDATA_COMMANDS: "x_commands"},
    )
    decoder = UpstreamDecoder(mapping)
    decoder._MAX_REMEMBERED = 3
    for i in range(10):
        assert decoder.decode("x_any", _events(f"s{i}"), 0).stream.name == "d"
    assert len(decoder._streams) == 3


def test_roi_requests_decode_to_their_job_geometry_and_columns() -> None:
    decoder = UpstreamDecoder(_MAPPING)
    payload = (ROI_CORPUS / "043-roi_rectangle-2rois.bin").read_bytes()
    message = decoder.decode("x_roi", payload, 7)
    assert message.stream == StreamId(StreamKind.LIVEDATA_ROI, "")
    assert message.timestamp == 7
    request = message.value
    assert request.stream.geometry is RoiGeometry.RECTANGLE
    assert request.stream.job_id.source_name == "panel_0"
    assert request.data.coords["roi_index"].values.tolist() == [0, 0, 1, 1]
    cleared = decode_roi((ROI_CORPUS / "057-roi_polygon-cleared.bin").read_bytes())
    assert cleared.stream.geometry is RoiGeometry.POLYGON
    assert cleared.data.sizes == {"vertex": 0}


def test_roi_request_with_a_name_that_is_no_roi_stream_is_rejected() -> None:
    payload = encode_da00("panel_0/not-a-roi", 0, sc.DataArray(sc.scalar(1.0)))
    with pytest.raises(DecodeError) as info:
        decode_roi(payload)
    assert info.value.reason == "invalid ROI stream name"


def test_stream_counts_are_the_facilitys_stream_stats_since_last_taken() -> None:
    decoder = UpstreamDecoder(_MAPPING)
    for _ in range(3):
        decoder.decode("x_detector", _events("bank_a"), 0)
    decoder.decode("x_monitor", _events("mon_a", pixels=False), 0)
    with pytest.raises(DecodeError):
        decoder.decode("x_detector", _events("bank_b"), 0)
    decoder.decode("x_commands", b"{}", 0)  # commands are no data stream
    stats = decoder.stream_counts.take()
    assert stats.window_seconds >= 0
    assert [s.model_dump() for s in stats.streams] == [
        {"topic": "x_detector", "source_name": "bank_a", "stream": "panel", "count": 3},
        # Unmapped pairs are dropped, and reported with no stream.
        {"topic": "x_detector", "source_name": "bank_b", "stream": None, "count": 1},
        {
            "topic": "x_monitor",
            "source_name": "mon_a",
            "stream": "monitor1",
            "count": 1,
        },
    ]
    assert decoder.stream_counts.take().streams == []
