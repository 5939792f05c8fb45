"""Reduction service: jobs running the instrument's workflows on live streams.

Run ``python -m ess.livedata.services.data_reduction --instrument dummy --dev``
and start jobs with ``start_job`` commands (see
:mod:`ess.livedata.core.job_commands`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ess.livedata.core.message import StreamKind
from ess.livedata.processing.jobs import SERVICE, JobProcessor
from ess.livedata.processing.service import run_service


def main(argv: Sequence[str] | None = None) -> None:
    run_service(
        SERVICE,
        "Run the instrument's reduction workflows as jobs on detector, monitor "
        "and log streams and publish their results as da00 at ~1 Hz.",
        JobProcessor,
        [StreamKind.DETECTOR_EVENTS, StreamKind.MONITOR_EVENTS, StreamKind.LOG],
        argv,
    )


if __name__ == "__main__":
    main()
