"""Who a message is about: workflows, jobs and the result key of an output.

The facility's readers parse these from JSON in a fixed, compact form (field
order as declared here), so a key written by livedata is byte-identical to one
written by the facility's services.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    """Identities are values: hashable, immutable, and strict about extra keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class WorkflowId(_Frozen):
    """A workflow of an instrument, e.g. ``dummy/monitor_histogram/1``."""

    instrument: str
    name: str
    version: int

    def __str__(self) -> str:
        return f"{self.instrument}/{self.name}/{self.version}"

    @classmethod
    def parse(cls, text: str) -> Self:
        """The id in its string form ``instrument/name/version`` (NICOS, heartbeats)."""
        parts = text.split("/")
        if len(parts) != 3:
            raise ValueError(f"expected 'instrument/name/version', got {text!r}")
        instrument, name, version = parts
        return cls(instrument=instrument, name=name, version=int(version))


class JobId(_Frozen):
    """One running instance of a workflow on one source.

    ``job_number`` is a UUID string shared by every source of one start, so a
    restart (new number) tells readers to drop the previous generation.
    """

    source_name: str
    job_number: str

    def __str__(self) -> str:
        """The form responses use as ``device``: ``source_name/job_number``."""
        return f"{self.source_name}/{self.job_number}"


class ResultKey(_Frozen):
    """Identity of one output of one job: the da00 ``source_name`` on the data topic."""

    workflow_id: WorkflowId
    job_id: JobId
    output_name: str

    def to_source_name(self) -> str:
        return self.model_dump_json()

    @property
    def short_name(self) -> str:
        """``workflow/source/output``: what a person calls the output, the
        same for every job generation (e.g. ``monitor_histogram/monitor1/current``)."""
        return f"{self.workflow_id.name}/{self.job_id.source_name}/{self.output_name}"

    @classmethod
    def from_source_name(cls, source_name: str | bytes) -> Self:
        return cls.model_validate_json(source_name)
