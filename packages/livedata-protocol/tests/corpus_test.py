"""Every livedata message in the facility's recorded corpus decodes into our
models and re-encodes to the same bytes (JSON) or the same fields (FlatBuffers).

Raw instrument inputs (ev44, f144, monitor da00) are not part of the job
protocol; they are listed so that a new topic kind in the corpus fails here
until someone decides which side of the line it is on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streaming_data_types import deserialise_da00, deserialise_x5f2, serialise_x5f2

from ess.livedata.protocol import (
    Heartbeat,
    JobMessage,
    Response,
    ResultKey,
    RoiColumns,
    RoiGeometry,
    RoiStream,
    ServiceMessage,
    encode_command,
    parse_command,
    polygons_from_columns,
    polygons_to_columns,
    rectangles_from_columns,
    rectangles_to_columns,
)

CORPUS = Path(__file__).parent / "corpus"
RAW_INPUT_KINDS = {"beam_monitor", "detector", "motion"}
ENTRIES = sorted(CORPUS.glob("*/*.json"))


def _kind(path: Path) -> str:
    return path.parent.name


def _payload(path: Path) -> bytes:
    return path.with_suffix(".bin").read_bytes()


def _of_kind(*kinds: str) -> list[Path]:
    return [p for p in ENTRIES if _kind(p) in kinds]


def test_the_corpus_is_complete_and_every_kind_is_handled():
    index = json.loads((CORPUS / "index.json").read_text())
    entries = index["entries"] if isinstance(index, dict) else index
    assert len(ENTRIES) == len(entries) == 86
    handled = {
        "livedata_commands",
        "livedata_responses",
        "livedata_heartbeat",
        "livedata_data",
        "livedata_nicos_data",
        "livedata_roi",
    }
    assert {_kind(p) for p in ENTRIES} == handled | RAW_INPUT_KINDS


@pytest.mark.parametrize("path", _of_kind("livedata_commands"), ids=lambda p: p.stem)
def test_commands_round_trip(path):
    """Equal JSON, and equal bytes for the compact form the dashboard writes;
    NICOS writes ``json.dumps`` style and leaves optional ids out."""
    recorded = json.loads(_payload(path))
    command = parse_command(_payload(path))
    encoded = encode_command(command)
    again = json.loads(encoded)
    assert {k: again[k] for k in recorded} == recorded
    assert all(again[k] is None for k in again.keys() - recorded.keys())
    assert parse_command(encoded) == command
    if b", " not in _payload(path):
        assert encoded == _payload(path)


@pytest.mark.parametrize("path", _of_kind("livedata_responses"), ids=lambda p: p.stem)
def test_responses_round_trip_byte_for_byte(path):
    response = Response.from_bytes(_payload(path))
    assert response.to_bytes() == _payload(path)


@pytest.mark.parametrize("path", _of_kind("livedata_heartbeat"), ids=lambda p: p.stem)
def test_heartbeats_round_trip_through_x5f2(path):
    fields = deserialise_x5f2(_payload(path))._asdict()
    heartbeat = Heartbeat.from_x5f2_fields(**fields)
    assert heartbeat.x5f2_fields() == fields
    reencoded = deserialise_x5f2(serialise_x5f2(**heartbeat.x5f2_fields()))._asdict()
    assert reencoded == fields
    message = heartbeat.status.message
    assert heartbeat.service_id == message.service_id
    assert heartbeat.status.status == message.nicos_status
    expected = ServiceMessage if "-service-" in f"-{path.stem}" else JobMessage
    assert isinstance(message, expected)


@pytest.mark.parametrize("path", _of_kind("livedata_data"), ids=lambda p: p.stem)
def test_results_are_keyed_by_the_result_key(path):
    message = deserialise_da00(_payload(path))
    key = ResultKey.from_source_name(message.source_name)
    assert key.to_source_name() == message.source_name
    assert key.output_name in path.stem
    names = {v.name for v in message.data}
    assert "signal" in names
    assert "time" in names


@pytest.mark.parametrize("path", _of_kind("livedata_nicos_data"), ids=lambda p: p.stem)
def test_nicos_values_are_0d_with_a_start_and_end(path):
    message = deserialise_da00(_payload(path))
    assert path.stem.split("-", 1)[1].startswith(message.source_name)
    variables = {v.name: v for v in message.data}
    assert tuple(variables["signal"].shape) == ()
    assert int(variables["end_time"].data) == int(variables["time"].data)
    assert "start_time" in variables


@pytest.mark.parametrize("path", _of_kind("livedata_roi"), ids=lambda p: p.stem)
def test_roi_requests_round_trip(path):
    message = deserialise_da00(_payload(path))
    stream = RoiStream.from_source_name(message.source_name)
    assert stream.to_source_name() == message.source_name
    variables = {v.name: v for v in message.data}
    columns = RoiColumns(
        tuple(np.asarray(variables["x"].data, dtype=float).tolist()),
        tuple(np.asarray(variables["y"].data, dtype=float).tolist()),
        tuple(np.asarray(variables["roi_index"].data, dtype=int).tolist()),
    )
    assert variables["x"].axes == [stream.geometry.dim]
    if stream.geometry is RoiGeometry.RECTANGLE:
        assert rectangles_to_columns(rectangles_from_columns(columns)) == columns
    else:
        assert polygons_to_columns(polygons_from_columns(columns)) == columns
    assert set(columns.roi_index) <= set(stream.geometry.indices)
