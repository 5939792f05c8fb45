"""Area detectors: ad00 images summed per window and since reset.

A camera sends whole images, not events: there are no pixel ids to look up
and no time of arrival, so its only view is the image as it arrives (dims
``dim_0``, ``dim_1``, as the facility's ``area_panel_xy``). Frames are
counted in a ledger of their own: ``received == counted + rejected +
skipped``, where ``rejected`` frames have another shape than the first one
(the camera changed its region of interest) and ``skipped`` ones arrived in
a window skipped to catch up with live data.
"""

from __future__ import annotations

import logging

import numpy as np
import scipp as sc

from ess.livedata.core.instrument import AreaDetector
from ess.livedata.core.view_specs import AREA_VIEW
from ess.livedata.core.window import TimeWindow
from ess.livedata.protocol import DetectorOutputs

from .ledger import EventLedger
from .outputs import stamp, view_output

logger = logging.getLogger(__name__)


class AreaImages:
    """One area detector's summed images, current window and cumulative.

    Sums are float64 whatever the frames' dtype, so that integer frames of
    any width add up without overflow.
    """

    def __init__(self, camera: AreaDetector) -> None:
        self.name = camera.name
        self.frames = EventLedger()
        self._dims: tuple[str, ...] = ()
        self._current: np.ndarray | None = None
        self._cumulative: np.ndarray | None = None
        self._cumulative_start: int | None = None

    def add(self, image: sc.DataArray) -> None:
        self.frames.received += 1
        if self._current is None:
            self._dims = tuple(image.dims)
            self._current = np.zeros(image.shape, dtype=np.float64)
            self._cumulative = np.zeros(image.shape, dtype=np.float64)
        elif image.shape != self._current.shape:
            self.frames.rejected += 1
            logger.warning(
                "%s: frame of shape %s ignored, images are %s",
                self.name,
                image.shape,
                self._current.shape,
            )
            return
        self._current += image.values
        self.frames.counted += 1

    def skip(self, frames: int) -> None:
        """``frames`` received in a window that was skipped, not summed."""
        self.frames.skip(frames)

    def reset(self) -> None:
        if self._cumulative is not None:
            self._cumulative[:] = 0
        self._cumulative_start = None

    def finalize(self, window: TimeWindow) -> dict[str, sc.DataArray]:
        """The images of this window and since reset; nothing before the
        first frame (its shape is not known yet)."""
        if self._current is None or self._cumulative is None:
            return {}
        if self._cumulative_start is None:
            self._cumulative_start = window.start
        self._cumulative += self._current
        current = self._image(self._current.copy(), window.start, window.end)
        self._current[:] = 0
        cumulative = self._image(
            self._cumulative.copy(), self._cumulative_start, window.end
        )
        return {
            view_output(AREA_VIEW, DetectorOutputs.CURRENT.name): current,
            view_output(AREA_VIEW, DetectorOutputs.CUMULATIVE.name): cumulative,
        }

    def _image(self, values: np.ndarray, start: int, end: int) -> sc.DataArray:
        data = sc.array(dims=list(self._dims), values=values, unit="counts")
        return stamp(sc.DataArray(data, name=self.name), start, end)
