import threading

from ess.livedata.dashboard import store as store_module
from ess.livedata.protocol import ServiceState
from ess.livedata.testing.messages import (
    MONITOR_HISTOGRAM,
    job_beat,
    job_id,
    key,
    service_beat,
    spectrum,
)


def test_results_of_the_current_generation_only(store, clock):
    old, new = job_id(number="old"), job_id(number="new")
    store.put_job(job_beat(old), clock.now)
    store.put_result(key(old), 1, spectrum(1))
    store.put_result(key(new), 2, spectrum(2))
    assert store.result(MONITOR_HISTOGRAM, "monitor1", "current").timestamp_ns == 1
    store.jobs.start(MONITOR_HISTOGRAM, ["monitor1"])
    assert store.result(MONITOR_HISTOGRAM, "monitor1", "current") is None
    assert store.result(MONITOR_HISTOGRAM, "monitor2", "current") is None


def test_newest_result_per_key_with_increasing_serial(store, clock):
    job = job_id()
    store.put_job(job_beat(job), clock.now)
    store.put_result(key(job), 1, spectrum(1))
    first = store.result(MONITOR_HISTOGRAM, "monitor1", "current").serial
    store.put_result(key(job, "cumulative"), 2, spectrum(2))
    store.put_result(key(job), 3, spectrum(3))
    newest = store.result(MONITOR_HISTOGRAM, "monitor1", "current")
    assert newest.timestamp_ns == 3
    assert newest.data.values[0] == 3
    assert newest.serial > first
    assert store.serial == newest.serial  # what sessions watch to redraw
    assert set(store.outputs(MONITOR_HISTOGRAM, "monitor1")) == {
        "current",
        "cumulative",
    }


def test_result_count_is_bounded(store, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_RESULTS", 3)
    for i in range(5):
        store.put_result(key(job_id(), f"out{i}"), i, spectrum(i))
    assert [k.output_name for k in store._results] == ["out2", "out3", "out4"]


def test_heartbeats_keep_latest_two_per_worker_and_ignore_older_ones(store):
    store.put_service(service_beat(counters={"messages_received": 10}), sent_s=100)
    store.put_service(service_beat(counters={"messages_received": 30}), sent_s=102)
    store.put_service(service_beat(counters={"messages_received": 5}), sent_s=90)
    store.put_service(service_beat("w2"), sent_s=1)
    health = store.services()["dummy:monitor_data:w1"]
    assert health.latest.status.model_extra["counters"]["messages_received"] == 30
    assert health.previous.status.model_extra["counters"]["messages_received"] == 10
    assert len(store.services()) == 2
    assert store.latest_service("monitor_data").worker_id == "w1"


W1, W2 = "dummy:monitor_data:w1", "dummy:monitor_data:w2"
"""Workers' ids: the service's contract says cumulative outputs sum."""


def test_a_stopped_worker_leaves_the_combination(store, clock):
    job = job_id()
    store.put_job(job_beat(job), clock.now)
    store.put_service(service_beat("w1"), 1)
    store.put_service(service_beat("w2"), 1)
    store.put_result(key(job, "cumulative"), 1, spectrum(1, 5), W1)
    store.put_result(key(job, "cumulative"), 1, spectrum(2, 5), W2)
    both = store.result(MONITOR_HISTOGRAM, "monitor1", "cumulative")
    assert both.data.values[0] == 3
    store.put_service(service_beat("w2", ServiceState.STOPPED), 2)
    store.put_result(key(job, "cumulative"), 1, spectrum(4, 6), W1)
    alone = store.result(MONITOR_HISTOGRAM, "monitor1", "cumulative")
    assert alone.data.values[0] == 4


def test_concurrent_writers_and_readers(store, clock):
    job = job_id()
    store.put_job(job_beat(job), clock.now)

    def write(n: int) -> None:
        for i in range(200):
            store.put_result(key(job, f"o{n}"), i, spectrum(i))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for _ in range(200):
        store.outputs(MONITOR_HISTOGRAM, "monitor1")
    for t in threads:
        t.join()
    outputs = store.outputs(MONITOR_HISTOGRAM, "monitor1")
    assert {n: r.timestamp_ns for n, r in outputs.items()} == {
        f"o{n}": 199 for n in range(4)
    }
