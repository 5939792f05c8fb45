"""Reduction service: jobs running the instrument's workflows on live streams.

Run ``python -m ess.livedata.services.data_reduction --instrument dummy --dev``
and start jobs with the protocol's ``workflow_config`` commands (see
:mod:`ess.livedata.processing.job_protocol`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from ess.livedata.core.message import StreamKind
from ess.livedata.processing.job_bindings import reduction_jobs
from ess.livedata.processing.jobs import SERVICE
from ess.livedata.processing.service import run_service


def main(argv: Sequence[str] | None = None) -> None:
    run_service(
        SERVICE,
        "Run the instrument's reduction workflows as jobs on detector, monitor "
        "and log streams and publish their results as da00 at ~1 Hz.",
        # Before consuming: the ESS packages' imports must not stall the loop.
        partial(reduction_jobs, preload=True),
        [StreamKind.DETECTOR_EVENTS, StreamKind.MONITOR_EVENTS, StreamKind.LOG],
        argv,
    )


if __name__ == "__main__":
    main()
