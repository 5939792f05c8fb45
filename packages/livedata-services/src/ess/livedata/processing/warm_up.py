"""Compile (or load from numba's cache) the hot-path kernels at start-up.

Otherwise a service's first window pays for it: seconds in which data piles
up and, under ``max_lag_s``, gets skipped. The kernels run here on a few
events decoded from ev44 as the hot path decodes them (read-only int32
views), in every variant a bank can take (contiguous numbers, dense or sparse
lookup table, with and without ROIs), so they are compiled for the
signatures the windows then call them with.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from ess.livedata.core.payloads import EventBatch
from ess.livedata.kafka.schemas.ev44 import decode_ev44, encode_ev44

from .kernels import PixelCounts, accumulate_pixels, histogram_uniform, project_pixels
from .pixel_index import PixelIndex

logger = logging.getLogger(__name__)

_TOA_RANGE = (0, 1000)
_BINS = 10
# Detector numbers of the bank variants: contiguous; a dense lookup table with
# a hole (counting by number, bit array); a sparse lookup table.
_BANKS = (np.arange(4), np.array([0, 1, 3, 4]), np.array([0, 1, 2, 100]))


def warm_monitor_kernels() -> None:
    """The kernel of :class:`~.monitors.MonitorHistogram`."""
    batch = _decoded_events(pixel_id=[])
    histogram_uniform(batch.time_of_arrival, *_TOA_RANGE, np.zeros(_BINS))


def warm_detector_kernels() -> None:
    """The kernels of :class:`~.detectors.DetectorCounts` and its views."""
    # Known pixels in and out of range, an unknown one, a negative time.
    batch = _decoded_events(pixel_id=[0, 1, 4, 7, 1])
    for numbers in _BANKS:
        index = PixelIndex.from_detector_numbers(numbers)
        for roi_group in (None, np.zeros(index.pixel_count, dtype=np.uint8)):
            counts = PixelCounts(index.pixel_count, _BINS)
            accumulate_pixels(
                batch.pixel_id,
                batch.time_of_arrival,
                offset=index.offset,
                lookup=index.lookup,
                toa_range=_TOA_RANGE,
                counts=counts,
                roi_group=roi_group,
                roi_group_toa_counts=np.zeros((1, _BINS), dtype=np.int64),
            )
            counts.take(
                np.zeros(index.pixel_count, dtype=np.int64),
                np.zeros(_BINS, dtype=np.int64),
            )
    # As ProjectedImage holds its sparse matrix (see projection._merge_replicas).
    project_pixels(
        np.zeros(1, dtype=np.int32),
        np.zeros(1, dtype=np.int32),
        np.ones(1, dtype=np.uint8),
        np.zeros(1, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    )


def warm_up(warm: Callable[[], None]) -> None:
    """Run ``warm`` and log how long it took."""
    started = time.monotonic()
    warm()
    logger.info("kernels ready in %.1f s", time.monotonic() - started)


def _decoded_events(pixel_id: list[int]) -> EventBatch:
    toa = np.array([5, 500, 999, 2000, -1], dtype=np.int32)
    batch = EventBatch(
        reference_time=np.array([0], dtype=np.int64),
        reference_time_index=np.array([0], dtype=np.int32),
        time_of_arrival=toa,
        pixel_id=np.array(pixel_id, dtype=np.int32),
    )
    return decode_ev44(encode_ev44("warm-up", batch))[1]
