import numpy as np
import scipp as sc
from confluent_kafka import Producer

from ess.livedata.core.commands import CommandResponse
from ess.livedata.core.status import ServiceState, ServiceStatus
from ess.livedata.kafka.clients import ensure_topics
from ess.livedata.kafka.own_topics import Result
from ess.livedata.kafka.schemas.da00 import encode_da00
from ess.livedata.kafka.schemas.x5f2 import encode_x5f2
from ess.livedata.kafka.settings import KafkaSettings
from ess.livedata.testing.processes import Program
from ess.livedata.testing.readers import LivedataReader


def test_program_logs_output_and_stops_with_sigint(tmp_path):
    program = Program(
        "http.server",
        ["--bind", "127.0.0.1", "0"],
        bootstrap_servers="unused:9092",
        log_dir=tmp_path,
    )
    try:
        # http.server handles KeyboardInterrupt and exits with status 0
        assert program.process.poll() is None
    finally:
        code = program.stop(timeout=10)
    assert code in (0, -2)
    assert program.log_path.name == "server.log"


def test_program_wait_reports_exit_code(tmp_path):
    program = Program(
        "json.tool", ["--help"], bootstrap_servers="unused:9092", log_dir=tmp_path
    )
    assert program.wait(timeout=30) == 0
    assert "usage" in program.log()
    program.stop()


def test_reader_decodes_data_status_and_responses(kafka_broker):
    servers = kafka_broker.bootstrap_servers
    topics = [f"readertest_livedata_{k}" for k in ("data", "status", "responses")]
    ensure_topics(KafkaSettings(bootstrap_servers=servers), topics)
    reader = LivedataReader(servers, "readertest")
    try:
        producer = Producer({"bootstrap.servers": servers})
        data = sc.DataArray(sc.array(dims=["x"], values=np.arange(3.0), unit="counts"))
        producer.produce(topics[0], encode_da00("svc/src/current", 5, data))
        status = ServiceStatus(
            service="svc", instrument="readertest", state=ServiceState.RUNNING
        )
        producer.produce(topics[1], encode_x5f2(status))
        response = CommandResponse(command_id="c", service="svc", status="accepted")
        producer.produce(topics[2], response.model_dump_json().encode())
        producer.flush(10)
        reader.wait_for(lambda: reader.responses and reader.status, what="messages")
        reader.wait_for(
            lambda: reader.latest("svc/src/current") is not None, what="data"
        )
        assert sc.identical(reader.latest("svc/src/current").data, data.data)
        assert reader.latest_status("svc").state is ServiceState.RUNNING
        assert [r["command_id"] for r in reader.responses] == ["c"]
    finally:
        reader.close()


def test_reader_counts_a_stopped_worker_again_when_it_runs(kafka_broker):
    servers = kafka_broker.bootstrap_servers
    topics = [f"readerback_livedata_{k}" for k in ("data", "status", "responses")]
    ensure_topics(KafkaSettings(bootstrap_servers=servers), topics)
    reader = LivedataReader(servers, "readerback")
    name = "monitor_data/monitor1/cumulative"  # declared cumulative: parts sum
    worker = ServiceStatus(
        service="monitor_data",
        instrument="readerback",
        state=ServiceState.RUNNING,
        pid=1,
    )

    def publish(counts: float, worker_id: str) -> None:
        data = sc.DataArray(
            sc.array(dims=["x"], values=[counts], unit="counts"),
            coords={
                "start_time": sc.datetime(0, unit="s"),
                "end_time": sc.datetime(1, unit="s"),
            },
        )
        reader.view.add(Result(name, 1, data, worker_id))

    try:
        stopped = worker.model_copy(update={"state": ServiceState.STOPPED})
        reader.view.add(stopped)
        publish(1.0, "other")
        publish(10.0, worker.service_id)
        assert reader.latest(name).values[0] == 1.0
        reader.view.add(worker)
        publish(10.0, worker.service_id)
        assert reader.latest(name).values[0] == 11.0
    finally:
        reader.close()


def test_reader_starts_while_a_topic_does_not_exist_yet(kafka_broker):
    """Without --dev nobody creates the responses topic before a command."""
    servers = kafka_broker.bootstrap_servers
    topics = [f"readerlate_livedata_{k}" for k in ("data", "status")]
    ensure_topics(KafkaSettings(bootstrap_servers=servers), topics)
    reader = LivedataReader(servers, "readerlate")
    try:
        producer = Producer({"bootstrap.servers": servers})
        data = sc.DataArray(sc.array(dims=["x"], values=[1.0], unit="counts"))
        producer.produce(topics[0], encode_da00("svc/src/current", 5, data))
        producer.flush(10)
        reader.wait_for(
            lambda: reader.latest("svc/src/current") is not None, what="data"
        )
    finally:
        reader.close()
