import scipp as sc

from ess.livedata.core.keyed_workflow import KeyedWorkflow
from ess.livedata.core.message import StreamId, StreamKind

A = StreamId(StreamKind.DETECTOR_EVENTS, "a")
B = StreamId(StreamKind.DETECTOR_EVENTS, "b")
M = StreamId(StreamKind.MONITOR_EVENTS, "m")


class Recorder:
    def __init__(self) -> None:
        self.chunks: list[dict] = []

    def accumulate(self, chunks: dict) -> None:
        self.chunks.append(chunks)

    def finalize(self) -> dict:
        return {"Total": sc.DataArray(sc.scalar(len(self.chunks))), "Other": None}

    def clear(self) -> None:
        self.chunks.clear()


def test_streams_of_a_key_are_pooled_and_missing_keys_get_empty_lists():
    processor = Recorder()
    workflow = KeyedWorkflow(
        processor,
        inputs={"Detector": [A, B], "Monitor": [M]},
        outputs={"total": "Total"},
    )
    workflow.accumulate({A: [1, 2], B: [3], StreamId(StreamKind.LOG, "x"): [9]})
    assert processor.chunks == [{"Detector": [1, 2, 3], "Monitor": []}]
    assert workflow.finalize()["total"].value == 1
    assert set(workflow.finalize()) == {"total"}
    workflow.clear()
    assert processor.chunks == []
