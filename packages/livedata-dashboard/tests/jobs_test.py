from ess.livedata.dashboard.jobs import RESEND_STOP_AFTER_S, STALE_AFTER_S, JobTable
from ess.livedata.protocol import JobState
from ess.livedata.testing.messages import MONITOR_HISTOGRAM, job_beat, job_id


def test_a_running_job_is_adopted_as_the_current_generation(clock):
    table = JobTable(clock)
    table.heartbeat(job_beat(job_id("monitor1")), clock.now)
    assert table.current(MONITOR_HISTOGRAM, "monitor1") == job_id("monitor1")
    assert table.current(MONITOR_HISTOGRAM, "monitor2") is None
    (row,) = table.rows()
    assert row.current
    assert row.state is JobState.ACTIVE


def test_a_stopped_job_is_not_adopted(clock):
    table = JobTable(clock)
    table.heartbeat(job_beat(job_id(), JobState.STOPPED), clock.now)
    assert table.current(MONITOR_HISTOGRAM, "monitor1") is None


def test_a_heartbeat_replayed_from_long_ago_is_not_adopted(clock):
    table = JobTable(clock)
    table.heartbeat(job_beat(job_id()), clock.now - STALE_AFTER_S - 1)
    assert table.current(MONITOR_HISTOGRAM, "monitor1") is None
    (row,) = table.rows()
    assert row.stale


def test_a_live_current_job_is_not_displaced_but_a_dead_one_is(clock):
    table = JobTable(clock)
    table.heartbeat(job_beat(job_id(number="a")), clock.now)
    table.heartbeat(job_beat(job_id(number="b")), clock.now)
    assert table.current(MONITOR_HISTOGRAM, "monitor1") == job_id(number="a")
    clock.now += STALE_AFTER_S + 1
    table.heartbeat(job_beat(job_id(number="b")), clock.now)
    assert table.current(MONITOR_HISTOGRAM, "monitor1") == job_id(number="b")


def test_start_makes_one_new_number_current_and_the_old_jobs_unwanted(clock):
    table = JobTable(clock)
    old = job_id("monitor1", "old")
    table.heartbeat(job_beat(old), clock.now)
    started, replaced = table.start(MONITOR_HISTOGRAM, ["monitor1", "monitor2"])
    assert len({job.job_number for job in started}) == 1
    assert replaced == [old]
    assert table.current(MONITOR_HISTOGRAM, "monitor1") == started[0]
    # The replaced job's later heartbeats do not bring it back.
    table.heartbeat(job_beat(old), clock.now + 1)
    assert table.current(MONITOR_HISTOGRAM, "monitor1") == started[0]


def test_stopped_jobs_are_no_longer_current(clock):
    table = JobTable(clock)
    table.heartbeat(job_beat(job_id("monitor1")), clock.now)
    table.heartbeat(job_beat(job_id("monitor2")), clock.now)
    assert sorted(j.source_name for j in table.stop(MONITOR_HISTOGRAM)) == [
        "monitor1",
        "monitor2",
    ]
    assert table.current_jobs(MONITOR_HISTOGRAM) == []


def test_stops_are_resent_only_to_jobs_still_heartbeating(clock):
    table = JobTable(clock)
    table.heartbeat(job_beat(job_id("monitor1")), clock.now)
    table.heartbeat(job_beat(job_id("monitor2")), clock.now)
    table.stop(MONITOR_HISTOGRAM)
    assert table.due_stops() == []
    clock.now += RESEND_STOP_AFTER_S
    table.heartbeat(job_beat(job_id("monitor1")), clock.now)
    table.heartbeat(job_beat(job_id("monitor2"), JobState.STOPPED), clock.now)
    assert table.due_stops() == [job_id("monitor1")]
    assert table.due_stops() == []  # not again before another interval


def test_replayed_heartbeats_do_not_override_newer_ones(clock):
    table = JobTable(clock)
    table.heartbeat(job_beat(job_id(), JobState.STOPPED), clock.now)
    table.heartbeat(job_beat(job_id()), clock.now - 5)
    (row,) = table.rows()
    assert row.state is JobState.STOPPED
