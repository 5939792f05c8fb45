"""streamed_workflow: a pipeline fed by input key, accumulated, its context
set from a stream."""

from __future__ import annotations

from typing import NewType

import sciline
import scipp as sc

from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.payloads import LogSample
from ess.livedata.core.window_budget import ReportsLoad
from ess.livedata.core.workflow import Workflow
from ess.livedata.reduction.streamed import streamed_workflow
from ess.reduce.streaming import RollingAccumulator

Counts = NewType("Counts", list)
Scale = NewType("Scale", sc.DataArray)
Weighted = NewType("Weighted", sc.DataArray)

DETECTOR = StreamId(StreamKind.DETECTOR_EVENTS, "bank")
MOTOR = StreamId(StreamKind.LOG, "motor")


def weighted(counts: Counts, scale: Scale) -> Weighted:
    return Weighted(sc.DataArray(sc.scalar(float(sum(counts))) * scale.data))


def newest(samples: list[LogSample]) -> Scale:
    return Scale(sc.DataArray(sc.scalar(float(samples[-1].value))))


def streamed(accumulators, **context) -> Workflow:
    """The pipeline with ``Scale`` 1 from its parameter, streamed."""
    pipeline = sciline.Pipeline(
        (weighted,), params={Scale: newest([LogSample(0, 1.0)])}
    )
    return streamed_workflow(
        pipeline,
        inputs={Counts: (DETECTOR,)},
        outputs={"weighted": Weighted},
        accumulators=accumulators,
        **context,
    )


def test_sums_over_windows_under_the_window_budget():
    job = streamed((Weighted,))
    job.accumulate({DETECTOR: [2.0, 3.0]})
    job.accumulate({DETECTOR: [4.0]})
    assert job.finalize()["weighted"].value == 9.0
    assert isinstance(job, ReportsLoad)


def test_an_accumulator_per_key():
    job = streamed({Weighted: RollingAccumulator(window=1)})
    job.accumulate({DETECTOR: [2.0]})
    job.finalize()
    job.accumulate({DETECTOR: [4.0]})
    assert job.finalize()["weighted"].value == 4.0


def test_context_starts_as_the_pipeline_computes_it_then_follows_its_stream():
    job = streamed((Weighted,), context={Scale: (MOTOR, newest)})
    job.accumulate({DETECTOR: [5.0]})
    assert job.finalize()["weighted"].value == 5.0
    job.accumulate({DETECTOR: [1.0], MOTOR: [LogSample(1, 3.0), LogSample(2, 10.0)]})
    assert job.finalize()["weighted"].value == 15.0
    job.accumulate({DETECTOR: [1.0]})  # no reading: the newest value holds
    assert job.finalize()["weighted"].value == 25.0
