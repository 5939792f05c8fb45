"""A :class:`~.workflow.Workflow` over a processor that speaks pipeline keys.

Reduction workflows are sciline pipelines keyed by ``NewType``s, streamed by
a processor such as ``ess.reduce.streaming.StreamProcessor``, which
accumulates chunks given by key and computes target keys. This adapter maps
livedata's streams onto the processor's input keys and its target keys onto
output names, so every plugin does not have to write the same glue. It needs
no reduction library itself: the processor is passed in.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from typing import Any, Generic, Protocol, TypeVar

import scipp as sc

from .message import StreamId


class KeyedProcessor(Protocol):
    """Accumulates chunks given by key; computes results by key."""

    def accumulate(self, chunks: dict[Any, Any]) -> None: ...

    def finalize(self) -> dict[Any, Any]: ...

    def clear(self) -> None: ...


_Key = TypeVar("_Key", bound=Hashable)


class KeyedWorkflow(Generic[_Key]):
    """Feeds a window's data to a :class:`KeyedProcessor`, names its results.

    Parameters
    ----------
    processor:
        E.g. an ``ess.reduce.streaming.StreamProcessor`` whose dynamic keys
        are the keys of ``inputs``.
    inputs:
        Input key -> the streams whose data it receives. A key gets the list
        of payloads of all its streams in the window, empty when none of them
        had data, so a processor always sees every input of a chunk.
    outputs:
        Output name -> target key of the processor.
    """

    def __init__(
        self,
        processor: KeyedProcessor,
        *,
        inputs: Mapping[_Key, Collection[StreamId]],
        outputs: Mapping[str, _Key],
    ) -> None:
        self._processor = processor
        self._inputs = dict(inputs)
        self._outputs = dict(outputs)

    def accumulate(self, data: Mapping[StreamId, Any]) -> None:
        chunks = {
            key: [payload for stream in streams for payload in data.get(stream, ())]
            for key, streams in self._inputs.items()
        }
        self._processor.accumulate(chunks)

    def finalize(self) -> dict[str, sc.DataArray]:
        results = self._processor.finalize()
        return {name: results[key] for name, key in self._outputs.items()}

    def clear(self) -> None:
        self._processor.clear()
