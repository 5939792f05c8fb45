"""Timeseries service: rolling history and latest value of every log stream.

Run ``python -m ess.livedata.services.timeseries --instrument dummy --dev``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ess.livedata.config import load_config
from ess.livedata.core.message import StreamKind
from ess.livedata.processing.job_bindings import timeseries_jobs
from ess.livedata.processing.service import run_service
from ess.livedata.processing.timeseries import SERVICE, caps_from_config


def main(argv: Sequence[str] | None = None) -> None:
    run_service(
        SERVICE,
        "Publish each f144 log stream's recent history and latest value at ~1 Hz.",
        lambda loaded: timeseries_jobs(
            loaded, caps_from_config(load_config("services"))
        ),
        [StreamKind.LOG],
        argv,
    )


if __name__ == "__main__":
    main()
