"""Running a built workflow once on no events, before its job's first window.

The first window an ESS package's streamed workflow processes costs seconds
more than the next ones (one-time compilation and caching inside the
packages: LOKI's I(Q) took 7 s for its first window of 20k events and 1 s for
the next ones on a loaded 2-core machine). The job's windows run in the
service loop, so that first window stalls every job, the heartbeats and the
commands, and :class:`~ess.livedata.core.window_budget.WindowBudget` then
skips the following windows for a cost that never recurs. Warming up where
the workflow is built (in the background:
:class:`~ess.livedata.core.prepared_workflow.PreparedWorkflow`) pays it there.
"""

from __future__ import annotations

from typing import TypeVar

from ess.livedata.core.workflow import Workflow

W = TypeVar("W", bound=Workflow)


def warmed_up(workflow: W) -> W:
    """``workflow`` after one empty window, its results dropped."""
    workflow.accumulate({})
    workflow.finalize()
    workflow.clear()
    return workflow
