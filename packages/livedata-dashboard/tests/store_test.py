import threading

import scipp as sc

from ess.livedata.core.commands import Command, CommandResponse, ResponseStatus
from ess.livedata.core.status import ServiceState, ServiceStatus
from ess.livedata.dashboard import store as store_module
from ess.livedata.dashboard.store import LiveStore


def spectrum(total: float) -> sc.DataArray:
    return sc.DataArray(sc.array(dims=["toa"], values=[total], unit="counts"))


def status(pid: int = 1, **counters: int) -> ServiceStatus:
    return ServiceStatus(
        service="monitor_data",
        instrument="dummy",
        state=ServiceState.RUNNING,
        host="h",
        pid=pid,
        counters=counters,
    )


def test_keeps_newest_result_per_name_with_increasing_serial(store):
    store.put_result("a/x/current", 1, spectrum(1))
    store.put_result("a/y/current", 2, spectrum(2))
    first = store.result("a/x/current").serial
    store.put_result("a/x/current", 3, spectrum(3))
    newest = store.result("a/x/current")
    assert newest.timestamp_ns == 3
    assert newest.data.values[0] == 3
    assert newest.serial > first
    assert set(store.results("a/x")) == {"a/x/current"}
    assert store.result("unknown") is None


def test_result_count_is_bounded(store, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_RESULTS", 3)
    for i in range(5):
        store.put_result(f"out{i}", i, spectrum(i))
    assert list(store.results()) == ["out2", "out3", "out4"]


def test_heartbeats_keep_latest_two_and_ignore_older_ones(store):
    store.put_status(status(messages_received=10), sent_s=100)
    store.put_status(status(messages_received=30), sent_s=102)
    store.put_status(status(messages_received=5), sent_s=90)  # replayed
    (health,) = store.services().values()
    assert health.latest.status.counters["messages_received"] == 30
    assert health.previous.status.counters["messages_received"] == 10


def test_instances_are_kept_apart(store):
    store.put_status(status(pid=1), sent_s=1)
    store.put_status(status(pid=2), sent_s=1)
    assert len(store.services()) == 2


def test_responses_attach_only_to_commands_sent_from_here(store, clock):
    command = Command(service="monitor_data", body={"action": "reset"})
    store.record_command(command)
    assert store.command(command.command_id).sent_s == clock.now
    store.put_response(
        CommandResponse(
            command_id="someone-else", service="x", status=ResponseStatus.ACCEPTED
        )
    )
    assert store.command("someone-else") is None
    response = CommandResponse(
        command_id=command.command_id,
        service="monitor_data",
        status=ResponseStatus.REJECTED,
        reason="no",
    )
    store.put_response(response)
    assert store.command(command.command_id).response == response


def test_commands_are_bounded(store, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_COMMANDS", 2)
    commands = [Command(service="s", body={"action": "reset"}) for _ in range(3)]
    for command in commands:
        store.record_command(command)
    assert store.command(commands[0].command_id) is None
    assert store.command(commands[2].command_id) is not None


def test_broker_health_starts_unknown(store, clock):
    assert store.broker().checked_s == 0
    store.set_broker(False, "down")
    assert store.broker().reachable is False
    assert store.broker().checked_s == clock.now


def test_concurrent_writers_and_readers():
    store = LiveStore()
    errors: list[BaseException] = []

    def write(prefix: str) -> None:
        for i in range(2000):
            store.put_result(f"{prefix}/{i % 50}", i, spectrum(i))
            store.put_status(status(pid=hash(prefix) % 1000), sent_s=i)

    def read() -> None:
        try:
            for _ in range(2000):
                for result in store.results().values():
                    assert result.data.sizes == {"toa": 1}
                store.services()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(p,)) for p in "abc"]
    threads += [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(store.results()) == 150


def stamped(total: int, end_s: int) -> sc.DataArray:
    data = spectrum(total)
    data.coords["start_time"] = sc.datetime(0, unit="s")
    data.coords["end_time"] = sc.datetime(end_s, unit="s")
    return data


def test_workers_parts_are_combined_until_one_stops(store):
    name = "detector_data/panel_0/toa_cumulative"
    store.put_result(name, 1, stamped(1, 1), worker=status(pid=1).service_id)
    store.put_result(name, 1, stamped(10, 1), worker=status(pid=2).service_id)
    assert store.result(name).data.values[0] == 11
    store.put_status(status(pid=2).model_copy(update={"state": "stopped"}), 5)
    assert store.result(name).data.values[0] == 11  # until the next update
    store.put_result(name, 2, stamped(3, 2), worker=status(pid=1).service_id)
    assert store.result(name).data.values[0] == 3


def test_worker_that_runs_again_under_its_id_counts_again(store):
    name = "detector_data/panel_0/toa_cumulative"
    a, b = status(pid=1), status(pid=2)
    store.put_status(b.model_copy(update={"state": "stopped"}), 5)
    store.put_status(b, 4)  # replayed from before the stop: still stopped
    store.put_result(name, 1, stamped(1, 1), worker=a.service_id)
    store.put_result(name, 1, stamped(10, 1), worker=b.service_id)
    assert store.result(name).data.values[0] == 1
    store.put_status(b, 6)  # restarted with the same host and pid
    store.put_result(name, 2, stamped(20, 2), worker=b.service_id)
    assert store.result(name).data.values[0] == 21
