"""Start, reconfigure, reset and stop jobs of a workflow, as one user action each.

A start gives every chosen source a job of one new job number and stops the
jobs it replaces, so reconfiguring is starting again with new parameters
(PROTOCOL.md section 4). Reset and stop address the current job of each
source by job id, whether this process started it or adopted it from its
heartbeats after a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ess.livedata.protocol import (
    JobAction,
    JobCommand,
    JobId,
    Schedule,
    WorkflowConfig,
    WorkflowId,
)

from .commands import CommandSender
from .jobs import JobTable


class JobControl:
    """The job commands of one dashboard process, shared by its sessions."""

    def __init__(
        self,
        jobs: JobTable,
        sender: CommandSender,
        remember: Callable[[WorkflowId, Sequence[str], Mapping[str, Any]], None]
        | None = None,
    ) -> None:
        self._jobs = jobs
        self._sender = sender
        self._remember = remember
        """Keeps what each start sent, so it outlives a dashboard restart."""

    def start(
        self,
        workflow: WorkflowId,
        sources: Iterable[str],
        params: Mapping[str, Any] | None = None,
        aux_source_names: Mapping[str, str] | None = None,
        schedule: Schedule | None = None,
    ) -> list[str]:
        """Start ``workflow`` on ``sources``; returns the message ids to follow
        (the stops of replaced jobs, if any, then the start)."""
        started, replaced = self._jobs.start(workflow, sources)
        followed = []
        if replaced:
            followed.append(self._act(JobAction.STOP, workflow, replaced, "replace"))
        configs = [
            WorkflowConfig(
                identifier=workflow,
                job_id=job,
                schedule=schedule or Schedule(),
                aux_source_names=dict(aux_source_names or {}),
                params=dict(params or {}),
            )
            for job in started
        ]
        followed.append(
            self._sender.send(configs, f"start {workflow.name}", len(configs))
        )
        if self._remember is not None:
            self._remember(workflow, [job.source_name for job in started], params or {})
        return followed

    def reset(self, workflow: WorkflowId, sources: Iterable[str] | None = None) -> str:
        """Clear the accumulated data of the current jobs of ``workflow`` (on
        ``sources``, or all)."""
        jobs = self._jobs.current_jobs(workflow)
        if sources is not None:
            wanted = set(sources)
            jobs = [job for job in jobs if job.source_name in wanted]
        return self._act(JobAction.RESET, workflow, jobs)

    def act(self, job: JobId, action: JobAction) -> str:
        """Reset or stop one job chosen from a job table."""
        workflow = self._jobs.workflow_of(job)
        if action is JobAction.STOP:
            self._jobs.unwant(job)
        command = JobCommand(job_id=job, action=action)
        name = workflow.name if workflow is not None else job.source_name
        return self._sender.send([command], f"{action} {name} on {job}", 1)

    def stop(self, workflow: WorkflowId) -> str:
        """Stop every current job of ``workflow``; they become unwanted."""
        return self._act(JobAction.STOP, workflow, self._jobs.stop(workflow))

    def enforce(self) -> None:
        """Re-send stops to unwanted jobs that keep heartbeating."""
        for job in self._jobs.due_stops():
            command = JobCommand(job_id=job, action=JobAction.STOP)
            self._sender.send([command], f"stop {job} again", 1)

    def _act(
        self, action: JobAction, workflow: WorkflowId, jobs: list[JobId], why: str = ""
    ) -> str:
        commands = [JobCommand(job_id=job, action=action) for job in jobs]
        text = f"{action} {workflow.name}" + (f" ({why})" if why else "")
        return self._sender.send(commands, text, len(commands))
