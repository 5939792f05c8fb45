"""The codec table of livedata's own topics reads and writes the facility's
corpus; the view keeps what readers show."""

import json
from pathlib import Path

import pytest
import scipp as sc

from ess.livedata.kafka.livedata_topics import (
    LivedataTopic,
    LivedataView,
    NicosValue,
    ResultMessage,
    RoiRequest,
    decode_record,
    encode_record,
    topic_of,
)
from ess.livedata.kafka.schemas.da00 import decode_da00
from ess.livedata.kafka.schemas.errors import DecodeError
from ess.livedata.protocol import (
    Heartbeat,
    JobState,
    MonitorStatus,
    Response,
    ResultKey,
    RoiColumns,
    ServiceState,
    WorkflowConfig,
    rectangles_from_columns,
)
from ess.livedata.testing.messages import (
    heartbeat,
    job_beat,
    job_id,
    key,
    service_beat,
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
    elif isinstance(message, RoiRequest):
        assert message.stream.to_source_name() == expected["source_name"]
    elif isinstance(message, NicosValue):
        assert message.device == expected["source_name"]
        assert message.data.ndim == 0
    else:
        assert message.model_dump(mode="json", exclude_unset=True) == expected
    assert topic_of(message) is topic


@pytest.mark.parametrize(
    ("topic", "path"), RECORDED, ids=lambda p: getattr(p, "stem", p)
)
def test_every_recorded_message_re_encodes_to_an_equivalent_one(topic, path):
    message = decode_record(topic, path.read_bytes())
    payload, headers = encode_record(message)
    assert headers == []  # the facility's records carry none, nor do ours
    again = decode_record(topic, payload)
    if isinstance(message, Heartbeat):
        assert payload == path.read_bytes()
    elif isinstance(message, ResultMessage | RoiRequest | NicosValue):
        assert sc.identical(again.data, message.data)
        assert decode_da00(payload)[:2] == decode_da00(path.read_bytes())[:2]
    else:
        assert again == message


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


def test_a_result_names_its_worker_in_a_header_both_ways():
    result = ResultMessage(key(job_id()), 7, part([1.0], 0, 1), "dummy:monitor_data:a")
    payload, headers = encode_record(result)
    again = decode_record(LivedataTopic.DATA, payload, headers)
    assert (again.key, again.timestamp_ns, again.worker) == (
        result.key,
        7,
        result.worker,
    )
    assert sc.identical(again.data, result.data)


def part(counts: list[float], start_s: int, end_s: int) -> sc.DataArray:
    """A spectrum stamped as the services stamp results (int64 ns)."""
    return sc.DataArray(
        sc.array(dims=["toa"], values=counts, unit="counts"),
        coords={
            "start_time": sc.scalar(start_s * 10**9, unit="ns"),
            "end_time": sc.scalar(end_s * 10**9, unit="ns"),
        },
    )


def test_of_topic_tells_our_topics_apart_by_suffix():
    assert LivedataTopic.of_topic("dummy_livedata_nicos_data") is (
        LivedataTopic.NICOS_DATA
    )
    assert LivedataTopic.of_topic("dummy_livedata_data") is LivedataTopic.DATA
    assert LivedataTopic.of_topic("dummy_detector") is None


def test_view_combines_workers_parts_by_declared_temporality():
    view = LivedataView()
    cumulative = key(job_id(), "cumulative")
    for worker, counts in (("a", 1.0), ("b", 10.0)):
        view.add(
            ResultMessage(
                cumulative, 0, part([counts], 0, 1), f"dummy:monitor_data:{worker}"
            )
        )
    assert view.result(cumulative).values.tolist() == [11.0]
    assert view.latest("monitor_histogram/monitor1/cumulative").values.tolist() == [
        11.0
    ]
    assert len(view.parts[cumulative]) == 2
    assert view.names() == ["monitor_histogram/monitor1/cumulative"]


def test_a_stopped_worker_leaves_the_combination():
    view = LivedataView()
    cumulative = key(job_id(), "cumulative")
    view.add(heartbeat(service_beat("b", ServiceState.STOPPED)))
    for worker, counts in (("a", 1.0), ("b", 10.0)):
        view.add(
            ResultMessage(
                cumulative, 0, part([counts], 0, 1), f"dummy:monitor_data:{worker}"
            )
        )
    assert view.result(cumulative).values.tolist() == [1.0]


def test_short_name_finds_the_job_that_published_last():
    view = LivedataView()
    old, new = key(job_id(number="old")), key(job_id(number="new"))
    view.add(ResultMessage(new, 0, part([2.0], 0, 1)))
    view.add(ResultMessage(old, 0, part([1.0], 0, 1)))
    view.add(ResultMessage(new, 0, part([3.0], 1, 2)))
    assert view.key_of("monitor_histogram/monitor1/current") == new
    assert view.latest("monitor_histogram/monitor1/current").values.tolist() == [3.0]
    assert view.latest("monitor_histogram/monitor2/current") is None


def test_service_heartbeats_carry_typed_status_counters_and_version():
    view = LivedataView()
    extras = {
        "ledger": {"monitor1": {"received": 5, "counted": 5}},
        "binning": {"monitor1": {"toa_min": 0, "toa_max": 71, "bins": 100}},
        "counters": {"kafka_messages": 3},
        "version": "1.2",
    }
    view.add(heartbeat(service_beat("a", **extras), process_id=42))
    view.add(heartbeat(job_beat(job_id(), JobState.ACTIVE)))
    report = view.latest_report("monitor_data")
    assert isinstance(report.details, MonitorStatus)
    assert report.details.ledger["monitor1"].received == 5
    assert report.details.binning["monitor1"].bins == 100
    assert (report.counters, report.version, report.pid) == (
        {"kafka_messages": 3},
        "1.2",
        42,
    )
    assert [r.service_id for r in view.workers("monitor_data")] == [
        "dummy:monitor_data:a"
    ]
    assert list(view.jobs()) == [job_id()]


def test_a_heartbeat_of_a_service_without_contract_has_the_common_details():
    view = LivedataView()
    view.add(heartbeat(service_beat("a", service="other", data_lag_s=0.5)))
    assert view.latest_report("other").details.data_lag_s == 0.5


def test_view_keeps_responses_and_the_newest_nicos_value():
    view = LivedataView()
    view.add(Response(message_id="m", device="all", response="ACK"))
    for total in (1.0, 2.0):
        view.add(NicosValue("monitor1_counts_total", 0, sc.DataArray(sc.scalar(total))))
    assert [r.message_id for r in view.responses] == ["m"]
    assert view.nicos["monitor1_counts_total"].data.value == 2.0


def test_a_nicos_value_that_is_not_0d_is_a_decode_error():
    payload, _ = encode_record(ResultMessage(key(job_id()), 0, part([1.0], 0, 1)))
    with pytest.raises(DecodeError, match="not 0-d"):
        decode_record(LivedataTopic.NICOS_DATA, payload)
