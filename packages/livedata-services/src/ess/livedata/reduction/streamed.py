"""An ESS package's pipeline as a live job: streamed, within the window budget.

Every reduction job has the same shape: essreduce's ``StreamProcessor``
accumulating where the pipeline is still linear in the events, fed the
window's payloads by input key, its targets named as the job's outputs, and
the whole under :class:`~ess.livedata.core.window_budget.WindowBudget`, so a
job that cannot keep up skips windows visibly instead of falling behind.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import sciline

from ess.livedata.core.keyed_workflow import KeyedWorkflow
from ess.livedata.core.message import StreamId
from ess.livedata.core.window_budget import WindowBudget
from ess.livedata.core.workflow import Workflow
from ess.reduce.streaming import StreamProcessor


def streamed_workflow(
    workflow: sciline.Pipeline,
    *,
    inputs: Mapping[type, Collection[StreamId]],
    outputs: Mapping[str, type],
    accumulators: tuple[type, ...],
) -> Workflow:
    """``workflow`` run live.

    Parameters
    ----------
    workflow:
        The package's pipeline with a provider from each input key.
    inputs:
        Input key (a dynamic key of the processor) -> the streams whose
        payloads of the window it gets as a list.
    outputs:
        Output name -> target key.
    accumulators:
        Keys summed over windows; the targets are computed from the sums.
    """
    processor = StreamProcessor(
        workflow,
        dynamic_keys=tuple(inputs),
        target_keys=tuple(outputs.values()),
        accumulators=accumulators,
    )
    return WindowBudget(KeyedWorkflow(processor, inputs=inputs, outputs=outputs))
