"""A toast in every open session when a job fails, once per failure.

A job's heartbeat says ``error`` for as long as it stays failed; a session
tells its user once, when it first sees the failure (also if it opened after
it), and again only if the job recovers and fails anew.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import panel as pn

from ess.livedata.protocol import JobId, JobState

from .jobs import JobRow
from .store import LiveStore

Notify = Callable[[str], None]


def failure_text(row: JobRow) -> str:
    """What the toast says: which job, on which source, and why."""
    reason = row.message or "no reason given"
    return f"Job {row.workflow.name} on {row.job_id.source_name} failed: {reason}"


class FailureTracker:
    """Which failed jobs this session has been told about."""

    def __init__(self) -> None:
        self._told: set[JobId] = set()

    def new_failures(self, rows: Iterable[JobRow]) -> list[JobRow]:
        """Jobs in error now that were not in error when last asked."""
        failed = {
            row.job_id: row
            for row in rows
            if row.state is JobState.ERROR and not row.stale
        }
        new = [row for job, row in failed.items() if job not in self._told]
        self._told = set(failed)
        return new


def _toast(text: str) -> None:
    """An error toast that stays until closed: a failed job needs action."""
    notifications = pn.state.notifications
    if notifications is not None:
        notifications.error(text, duration=0)


class JobFailureAlerts:
    """One session's failure toasts; :meth:`update` runs every tick."""

    def __init__(self, store: LiveStore, notify: Notify = _toast) -> None:
        self._store = store
        self._notify = notify
        self._tracker = FailureTracker()

    def update(self, _now_s: float) -> None:
        for row in self._tracker.new_failures(self._store.jobs.rows()):
            self._notify(failure_text(row))
