"""Failure toasts: one per failure, in every session, again only after a recovery."""

from ess.livedata.dashboard.job_alerts import JobFailureAlerts
from ess.livedata.dashboard.jobs import STALE_AFTER_S
from ess.livedata.protocol import JobMessage, JobState
from ess.livedata.testing.messages import job_id


def beat(job, state: JobState, error: str | None = None) -> JobMessage:
    return JobMessage(
        state=state, job_id=job, workflow_id="dummy/always_fails/1", error=error
    )


def sessions(store, n: int) -> list[tuple[JobFailureAlerts, list[str]]]:
    made = []
    for _ in range(n):
        told: list[str] = []
        made.append((JobFailureAlerts(store, notify=told.append), told))
    return made


def test_each_session_is_told_once_per_failure(store, clock):
    job = job_id("panel_0")
    opened = sessions(store, 2)
    store.put_job(beat(job, JobState.ACTIVE), clock.now)
    for alerts, _ in opened:
        alerts.update(clock.now)
    for _ in range(3):  # the job keeps heartbeating its error
        clock.now += 1
        store.put_job(beat(job, JobState.ERROR, "failed by design"), clock.now)
        for alerts, _ in opened:
            alerts.update(clock.now)
    for _, told in opened:
        assert told == ["Job always_fails on panel_0 failed: failed by design"]


def test_a_session_opened_later_is_told_and_a_new_failure_tells_again(store, clock):
    job = job_id("panel_0")
    store.put_job(beat(job, JobState.ERROR, "boom"), clock.now)
    [(alerts, told)] = sessions(store, 1)
    alerts.update(clock.now)
    clock.now += 1
    store.put_job(beat(job, JobState.ACTIVE), clock.now)  # reset: recovered
    alerts.update(clock.now)
    clock.now += 1
    store.put_job(beat(job, JobState.ERROR, "boom"), clock.now)
    alerts.update(clock.now)
    assert told == ["Job always_fails on panel_0 failed: boom"] * 2


def test_a_long_gone_failure_is_not_news(store, clock):
    store.put_job(beat(job_id("panel_0"), JobState.ERROR, "old"), clock.now)
    clock.now += STALE_AFTER_S + 1
    [(alerts, told)] = sessions(store, 1)
    alerts.update(clock.now)
    assert told == []
