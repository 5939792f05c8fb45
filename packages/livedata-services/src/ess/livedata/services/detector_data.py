"""Detector service: per-pixel counts shown in the instrument's views, TOA spectra,
ROIs, and area-detector images.

Run ``python -m ess.livedata.services.detector_data --instrument dummy --dev``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ess.livedata.core.message import StreamKind
from ess.livedata.processing.detectors import SERVICE
from ess.livedata.processing.job_bindings import detector_jobs
from ess.livedata.processing.service import run_service
from ess.livedata.processing.warm_up import warm_detector_kernels


def main(argv: Sequence[str] | None = None) -> None:
    run_service(
        SERVICE,
        "Count detector events per pixel, project them onto the instrument's "
        "views, sum area-detector images and publish images, TOA and ROI "
        "spectra as da00 at ~1 Hz.",
        detector_jobs,
        [
            StreamKind.DETECTOR_EVENTS,
            StreamKind.AREA_DETECTOR,
            StreamKind.LIVEDATA_ROI,
        ],
        argv,
        warm_kernels=warm_detector_kernels,
    )


if __name__ == "__main__":
    main()
