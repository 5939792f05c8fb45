import pytest
import scipp as sc

from ess.livedata.core.commands import CommandResponse
from ess.livedata.core.message import StreamKind
from ess.livedata.core.status import ServiceState, ServiceStatus
from ess.livedata.kafka.own_topics import (
    LivedataView,
    Result,
    decode_record,
    kind_of_topic,
)
from ess.livedata.kafka.schemas import DecodeError, encode_da00, encode_x5f2
from ess.livedata.kafka.worker_header import worker_headers
from ess.livedata.protocol import MonitorStatus, ServiceName

CURRENT = "monitor_data/monitor1/current"


def part(counts: list[int], start_s: int, end_s: int) -> sc.DataArray:
    return sc.DataArray(
        sc.array(dims=["toa"], values=counts, unit="counts", dtype="float64"),
        coords={
            "start_time": sc.datetime(start_s * 10**9, unit="ns"),
            "end_time": sc.datetime(end_s * 10**9, unit="ns"),
        },
    )


def status(service_id_pid: int, **details) -> ServiceStatus:
    return ServiceStatus(
        service="monitor_data",
        instrument="dummy",
        state=ServiceState.RUNNING,
        pid=service_id_pid,
        details=details,
    )


@pytest.mark.parametrize(
    ("topic", "kind"),
    [
        ("dummy_livedata_data", StreamKind.LIVEDATA_DATA),
        ("dummy_livedata_status", StreamKind.LIVEDATA_STATUS),
        ("dummy_livedata_responses", StreamKind.LIVEDATA_RESPONSES),
        ("dummy_detector", None),
    ],
)
def test_topics_are_told_apart_by_suffix(topic, kind):
    assert kind_of_topic(topic) is kind


def test_records_decode_to_typed_items_with_their_worker():
    payload = encode_da00(CURRENT, 7, part([1, 2], 0, 1))
    result = decode_record(StreamKind.LIVEDATA_DATA, payload, worker_headers("w1"))
    assert isinstance(result, Result)
    assert (result.name, result.timestamp_ns, result.worker) == (CURRENT, 7, "w1")
    beat = decode_record(StreamKind.LIVEDATA_STATUS, encode_x5f2(status(1)))
    assert isinstance(beat, ServiceStatus)
    response = CommandResponse(command_id="c", service="s", status="accepted")
    payload = response.model_dump_json().encode()
    assert decode_record(StreamKind.LIVEDATA_RESPONSES, payload) == response


def test_a_bad_response_is_a_decode_error():
    with pytest.raises(DecodeError, match="invalid command response"):
        decode_record(StreamKind.LIVEDATA_RESPONSES, b'{"command_id": 1}')


def test_view_combines_workers_parts_by_declared_temporality():
    view = LivedataView()
    view.add(Result(CURRENT, 0, part([1, 2], 0, 1), "w1"))
    view.add(Result(CURRENT, 0, part([10, 20], 0, 1), "w2"))
    assert view.latest(CURRENT).values.tolist() == [11, 22]
    assert len(view.results[CURRENT]) == 2
    assert view.names() == [CURRENT]


def test_view_reads_typed_status_of_the_newest_heartbeat():
    view = LivedataView()
    view.add(status(1, ledger={"monitor1": {"received": 3, "counted": 3}}))
    view.add(status(2, ledger={"monitor1": {"received": 5, "counted": 5}}))
    assert len(view.workers("monitor_data")) == 2
    details = view.details(ServiceName.MONITOR_DATA)
    assert isinstance(details, MonitorStatus)
    assert details.ledger["monitor1"].received == 5
    assert view.details(ServiceName.TIMESERIES) is None
