"""A workflow is run once on an empty window, then cleared, before use."""

import scipp as sc

from ess.livedata.reduction.warm_up import warmed_up


class Recording:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.windows = 0

    def accumulate(self, data) -> None:
        self.calls.append(f"accumulate {dict(data)}")
        self.windows += 1

    def finalize(self):
        self.calls.append("finalize")
        return {"windows": sc.scalar(self.windows)}

    def clear(self) -> None:
        self.calls.append("clear")
        self.windows = 0


def test_warm_up_runs_an_empty_window_and_drops_it():
    workflow = Recording()
    assert warmed_up(workflow) is workflow
    assert workflow.calls == ["accumulate {}", "finalize", "clear"]
    assert workflow.windows == 0
