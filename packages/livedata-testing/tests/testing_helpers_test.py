import numpy as np
import scipp as sc
from confluent_kafka import Producer

from ess.livedata.kafka.clients import ensure_topics
from ess.livedata.kafka.livedata_topics import (
    LivedataTopic,
    NicosValue,
    ResultMessage,
    encode_record,
    topic_of,
)
from ess.livedata.kafka.settings import KafkaSettings
from ess.livedata.protocol import Response, ServiceState
from ess.livedata.testing.messages import heartbeat, job_id, key, service_beat
from ess.livedata.testing.processes import Program
from ess.livedata.testing.readers import READ, LivedataReader


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


def publish(servers: str, instrument: str, *messages) -> None:
    producer = Producer({"bootstrap.servers": servers})
    for message in messages:
        payload, headers = encode_record(message)
        producer.produce(topic_of(message).of(instrument), payload, headers=headers)
    producer.flush(10)


def test_reader_decodes_data_heartbeats_responses_and_nicos_values(kafka_broker):
    servers = kafka_broker.bootstrap_servers
    topics = [topic.of("readertest") for topic in READ]
    ensure_topics(KafkaSettings(bootstrap_servers=servers), topics)
    reader = LivedataReader(servers, "readertest")
    try:
        data = sc.DataArray(sc.array(dims=["x"], values=np.arange(3.0), unit="counts"))
        total = sc.DataArray(sc.scalar(3.0, unit="counts"))
        publish(
            servers,
            "readertest",
            ResultMessage(key(job_id()), 5, data),
            heartbeat(service_beat("a", counters={"assigned_partitions": 2})),
            Response(message_id="m", device="monitor1", response="ACK"),
            NicosValue("monitor1_counts_total", 5, total),
        )
        reader.wait_for(
            lambda: reader.responses and reader.reports and reader.view.nicos,
            what="messages",
        )
        name = "monitor_histogram/monitor1/current"
        reader.wait_for(lambda: reader.latest(name) is not None, what="data")
        assert sc.identical(reader.latest(name).data, data.data)
        assert [d.values.tolist() for d in reader.data[name]] == [[0, 1, 2]]
        report = reader.latest_report("monitor_data")
        assert report.state is ServiceState.RUNNING
        assert report.counters == {"assigned_partitions": 2}
        assert [r.message_id for r in reader.responses] == ["m"]
        assert reader.view.nicos["monitor1_counts_total"].data.value == 3.0
    finally:
        reader.close()


def test_reader_counts_a_stopped_worker_again_when_it_runs(kafka_broker):
    servers = kafka_broker.bootstrap_servers
    reader = LivedataReader(servers, "readerback")
    cumulative = key(job_id(), "cumulative")  # declared cumulative: parts sum
    name = "monitor_histogram/monitor1/cumulative"
    worker = "dummy:monitor_data:w1"

    def add_part(counts: float, worker_id: str) -> None:
        data = sc.DataArray(
            sc.array(dims=["x"], values=[counts], unit="counts"),
            coords={
                "start_time": sc.scalar(0, unit="ns"),
                "end_time": sc.scalar(10**9, unit="ns"),
            },
        )
        reader.view.add(ResultMessage(cumulative, 1, data, worker_id))

    try:
        reader.view.add(heartbeat(service_beat("w1", ServiceState.STOPPED)))
        add_part(1.0, "dummy:monitor_data:other")
        add_part(10.0, worker)
        assert reader.latest(name).values[0] == 1.0
        reader.view.add(heartbeat(service_beat("w1")))
        add_part(10.0, worker)
        assert reader.latest(name).values[0] == 11.0
    finally:
        reader.close()


def test_reader_starts_while_a_topic_does_not_exist_yet(kafka_broker):
    """Without --dev nobody creates the responses topic before a command."""
    servers = kafka_broker.bootstrap_servers
    topics = [
        LivedataTopic.DATA.of("readerlate"),
        LivedataTopic.HEARTBEAT.of("readerlate"),
    ]
    ensure_topics(KafkaSettings(bootstrap_servers=servers), topics)
    reader = LivedataReader(servers, "readerlate")
    try:
        data = sc.DataArray(sc.array(dims=["x"], values=[1.0], unit="counts"))
        publish(servers, "readerlate", ResultMessage(key(job_id()), 5, data))
        reader.wait_for(
            lambda: reader.latest("monitor_histogram/monitor1/current") is not None,
            what="data",
        )
    finally:
        reader.close()
