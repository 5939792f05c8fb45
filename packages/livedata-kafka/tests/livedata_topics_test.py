"""The decoder table of livedata's own topics reads the facility's corpus."""

import json
from pathlib import Path

import pytest

from ess.livedata.kafka.livedata_topics import (
    LivedataTopic,
    ResultMessage,
    RoiRequest,
    decode_record,
    encode_heartbeat,
)
from ess.livedata.kafka.schemas.errors import DecodeError
from ess.livedata.protocol import (
    Heartbeat,
    Response,
    ResultKey,
    RoiColumns,
    WorkflowConfig,
    rectangles_from_columns,
)

CORPUS = Path(__file__).parents[2] / "livedata-protocol" / "tests" / "corpus"
"""The facility's recorded messages (see SOURCE.md there)."""

RECORDED = [
    (topic, path)
    for topic in LivedataTopic
    for path in sorted((CORPUS / topic.value).glob("*.bin"))
]


def recorded(path: Path) -> dict:
    return json.loads(path.with_suffix(".json").read_text())["decoded"]


@pytest.mark.parametrize(
    ("topic", "path"), RECORDED, ids=lambda p: getattr(p, "stem", p)
)
def test_every_recorded_message_of_our_topics_decodes(topic, path):
    message = decode_record(topic, path.read_bytes())
    expected = recorded(path)
    if isinstance(message, ResultMessage):
        parsed = expected["source_name_parsed"]["value"]
        assert message.key == ResultKey.model_validate(parsed)
        assert message.timestamp_ns == expected["timestamp_ns"]
    elif isinstance(message, Heartbeat):
        assert message.service_id == expected["service_id"]
        assert encode_heartbeat(message) == path.read_bytes()
    elif isinstance(message, RoiRequest):
        assert message.stream.to_source_name() == expected["source_name"]
    else:
        assert message.model_dump(mode="json", exclude_unset=True) == expected


def test_the_corpus_covers_every_topic_the_table_decodes():
    assert {topic for topic, _ in RECORDED} == set(LivedataTopic)


def test_a_recorded_roi_request_reads_back_as_rectangles():
    path = CORPUS / "livedata_roi" / "043-roi_rectangle-2rois.bin"
    request = decode_record(LivedataTopic.ROI, path.read_bytes())
    coords = request.data.coords
    columns = RoiColumns(
        tuple(coords["x"].values),
        tuple(coords["y"].values),
        tuple(coords["roi_index"].values),
    )
    assert sorted(rectangles_from_columns(columns)) == [0, 1]


def test_commands_decode_to_their_kind():
    path = next((CORPUS / "livedata_commands").glob("009-*.bin"))
    assert isinstance(
        decode_record(LivedataTopic.COMMANDS, path.read_bytes()), WorkflowConfig
    )
    response = next((CORPUS / "livedata_responses").glob("*.bin"))
    assert isinstance(
        decode_record(LivedataTopic.RESPONSES, response.read_bytes()), Response
    )


@pytest.mark.parametrize("topic", list(LivedataTopic))
def test_garbage_is_a_decode_error(topic):
    with pytest.raises(DecodeError):
        decode_record(topic, b"\x00garbage{")


def test_a_da00_not_named_by_a_result_key_is_a_decode_error():
    path = CORPUS / "livedata_roi" / "043-roi_rectangle-2rois.bin"
    with pytest.raises(DecodeError, match="result key"):
        decode_record(LivedataTopic.DATA, path.read_bytes())
