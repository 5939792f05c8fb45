"""The start-up warm-up compiles every kernel signature the windows then use.

Run in a fresh interpreter: in this one, other tests have already compiled
the kernels, so no window could show a compilation the warm-up missed.
"""

import json
import subprocess
import sys

SCRIPT = """
import json

import numpy as np
from numba.core.registry import CPUDispatcher

from ess.livedata.core.detector_commands import SetRoi
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.plugins import load_instrument
from ess.livedata.core.window import TimeWindow
from ess.livedata.kafka.schemas.ev44 import decode_ev44, encode_ev44
from ess.livedata.processing import kernels
from ess.livedata.processing.detectors import DetectorProcessor
from ess.livedata.processing.monitors import MonitorProcessor
from ess.livedata.processing.warm_up import (
    warm_detector_kernels,
    warm_monitor_kernels,
)


def signatures():
    return {
        name: sorted(map(str, kernel.signatures))
        for name, kernel in vars(kernels).items()
        if isinstance(kernel, CPUDispatcher)
    }


def events(kind, name, pixel_id):
    rng = np.random.default_rng(0)
    toa = rng.integers(-1_000, 80_000_000, 5000).astype(np.int32)  # some rejected
    batch = EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=toa,
        pixel_id=np.asarray(pixel_id, dtype=np.int32),
    )
    _, decoded = decode_ev44(encode_ev44(name, batch))
    return {StreamId(kind, name): [Message(0, StreamId(kind, name), decoded)]}


before = signatures()
warm_monitor_kernels()
warm_detector_kernels()
warmed = signatures()

dummy = load_instrument("dummy").instrument
window = TimeWindow(0, 1_000_000_000)
monitors = MonitorProcessor(dummy)
monitors.process_window(window, events(StreamKind.MONITOR_EVENTS, "monitor1", []))
detectors = DetectorProcessor(dummy)
rng = np.random.default_rng(1)
for bank in dummy.detectors:
    numbers = bank.detector_number.values.ravel()
    pixel_id = rng.choice(numbers, 5000)
    pixel_id[:10] = numbers.max() + 1  # unknown
    detectors.process_window(
        window, events(StreamKind.DETECTOR_EVENTS, bank.name, pixel_id)
    )
rectangle = {"kind": "rectangle", "x_min": 0, "x_max": 9, "y_min": 0, "y_max": 9}
detectors.apply(SetRoi(target="panel_0", view="xy", roi=0, shape=rectangle))
detectors.process_window(
    window, events(StreamKind.DETECTOR_EVENTS, "panel_0", np.arange(1, 5001))
)
print(json.dumps({"before": before, "warmed": warmed, "after": signatures()}))
"""


def test_first_windows_compile_nothing_the_warm_up_did_not():
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    )
    seen = json.loads(run.stdout.splitlines()[-1])
    assert not any(seen["before"].values())
    for kernel in ("_histogram_uniform", "_accumulate_pixels", "_project_pixels"):
        assert seen["warmed"][kernel], kernel
    assert seen["after"] == seen["warmed"]
