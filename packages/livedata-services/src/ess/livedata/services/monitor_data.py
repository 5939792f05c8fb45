"""Beam monitor service: time-of-arrival histograms, current and cumulative.

Run ``python -m ess.livedata.services.monitor_data --instrument dummy --dev``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ess.livedata.core.message import StreamKind
from ess.livedata.processing.job_bindings import monitor_jobs
from ess.livedata.processing.monitors import SERVICE
from ess.livedata.processing.service import run_service
from ess.livedata.processing.warm_up import warm_monitor_kernels


def main(argv: Sequence[str] | None = None) -> None:
    run_service(
        SERVICE,
        "Histogram beam-monitor time of arrival and publish it as da00 at ~1 Hz.",
        monitor_jobs,
        [StreamKind.MONITOR_EVENTS],
        argv,
        warm_kernels=warm_monitor_kernels,
    )


if __name__ == "__main__":
    main()
