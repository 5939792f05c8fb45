"""An ESS package's pipeline as a live job: streamed, within the window budget.

Every reduction job has the same shape: essreduce's ``StreamProcessor``
accumulating where the pipeline is still linear in the events, fed the
window's payloads by input key, its targets named as the job's outputs, and
the whole under :class:`~ess.livedata.core.window_budget.WindowBudget`, so a
job that cannot keep up skips windows visibly instead of falling behind.
Each is warmed up with one empty window where it is built (in the
background), so its first real window does not stall the service loop.
Some jobs also take context from the stream, e.g. a motor angle.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import sciline
import scipp as sc

from ess.livedata.core.keyed_workflow import KeyedWorkflow
from ess.livedata.core.message import StreamId
from ess.livedata.core.window_budget import WindowBudget
from ess.livedata.core.workflow import Workflow
from ess.reduce.streaming import Accumulator, StreamProcessor

from .warm_up import warmed_up

ContextSource = tuple[StreamId, Callable[[Sequence[Any]], Any]]
"""The stream setting a context key, and its value from a window's payloads."""


def streamed_workflow(
    workflow: sciline.Pipeline,
    *,
    inputs: Mapping[type, Collection[StreamId]],
    outputs: Mapping[str, type],
    accumulators: tuple[type, ...] | Mapping[type, Accumulator],
    context: Mapping[type, ContextSource] | None = None,
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
        Keys summed over windows (or key -> its accumulator); the targets
        are computed from them.
    context:
        Context key -> its source. A key starts as ``workflow`` computes it;
        a window with payloads on its stream sets it before its data is
        accumulated (accumulated results must stay valid under the change).
    """
    context = context or {}
    processor = StreamProcessor(
        workflow,
        dynamic_keys=tuple(inputs),
        context_keys=tuple(context),
        target_keys=tuple(outputs.values()),
        # essreduce types this as an invariant dict; any mapping is read.
        accumulators=accumulators,  # type: ignore[arg-type]
    )
    keyed = KeyedWorkflow(processor, inputs=inputs, outputs=outputs)
    if not context:
        return WindowBudget(warmed_up(keyed))
    processor.set_context(workflow.compute(tuple(context)))
    return WindowBudget(warmed_up(_StreamContext(processor, keyed, context)))


class _StreamContext:
    """Sets the processor's context from the window's context streams, then
    streams the window."""

    def __init__(
        self,
        processor: StreamProcessor,
        workflow: KeyedWorkflow,
        context: Mapping[type, ContextSource],
    ) -> None:
        self._processor = processor
        self._workflow = workflow
        self._context = dict(context)

    def accumulate(self, data: Mapping[StreamId, Any]) -> None:
        values = {
            key: value_of(data[stream])
            for key, (stream, value_of) in self._context.items()
            if data.get(stream)
        }
        if values:
            self._processor.set_context(values)
        self._workflow.accumulate(data)

    def finalize(self) -> dict[str, sc.DataArray]:
        return self._workflow.finalize()

    def clear(self) -> None:
        self._workflow.clear()
