"""Detector banks: per-pixel counts, their views, TOA spectra and ROIs;
area detectors' images (:mod:`.area_detectors`).

Events only touch per-pixel counters and small TOA histograms (one pass, in
place, see :func:`~.kernels.accumulate_pixels`); images are made from the
per-pixel counts once per published window, so the cost of a view does not
grow with the event rate.

Counts ledger per bank: ``received == counted + out_of_range + rejected +
skipped``, where ``out_of_range`` are events outside the TOA range and
``rejected`` are events with a pixel id the bank does not have (also reported
on their own as ``unknown_pixel_ids``, the usual sign of a wrong geometry) or
a negative time of arrival. ``counted`` events are in every view image and the
bank spectrum; ``skipped`` ones arrived in a window skipped to catch up with
live data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipp as sc

from ess.livedata.core.commands import Reset, SetToaBinning
from ess.livedata.core.detector_commands import RemoveRoi, SetRoi, SetViewResolution
from ess.livedata.core.instrument import DetectorBank, GeometricView, Instrument
from ess.livedata.core.message import Message, StreamId, StreamKind
from ess.livedata.core.payloads import EventBatch
from ess.livedata.core.window import TimeWindow
from ess.livedata.protocol import (
    DETECTOR_DATA,
    TIME_OF_ARRIVAL,
    DetectorOutputs,
    DetectorStatus,
    result_name,
)

from .area_detectors import AreaImages
from .commanding import CommandRejected
from .kernels import PixelCounts, accumulate_pixels
from .ledger import EventLedger
from .outputs import data_message, stamp, view_output
from .pixel_index import PixelIndex
from .projection import ProjectedImage
from .roi import RoiSpectra, pixels_inside
from .skipping import skip_into_ledgers
from .sources import SourceTable
from .views import LogicalImage, ViewImage

logger = logging.getLogger(__name__)

SERVICE = DETECTOR_DATA.service
DEFAULT_BINNING = SetToaBinning(toa_min=0.0, toa_max=1000 / 14, bins=100)


def make_view_images(
    bank: DetectorBank, sample_position: tuple[float, float, float]
) -> dict[str, ViewImage]:
    """The images of all views ``bank`` declares, by view name."""
    images: dict[str, ViewImage] = {}
    for view in bank.views:
        if isinstance(view, GeometricView):
            images[view.name] = ProjectedImage(bank, view, sample_position)
        else:
            images[view.name] = LogicalImage(bank, view)
    return images


class DetectorCounts:
    """Everything one bank accumulates, current window and cumulative.

    Events go into :class:`~.kernels.PixelCounts` (small counters that stay
    in cache, exact through spills); at each publish they are taken into the
    int64 current-window counts and added to the cumulative ones.
    """

    def __init__(
        self,
        bank: DetectorBank,
        sample_position: tuple[float, float, float],
        binning: SetToaBinning,
    ) -> None:
        self.name = bank.name
        self.index = PixelIndex.from_detector_numbers(bank.detector_number.values)
        self.views = make_view_images(bank, sample_position)
        self.ledger = EventLedger()
        self.unknown_pixel_ids = 0
        self._pixels = PixelCounts(self.index.pixel_count, binning.bins)
        self._current = np.zeros(self.index.pixel_count, dtype=np.int64)
        self._cumulative = np.zeros(self.index.pixel_count, dtype=np.int64)
        self._cumulative_start: int | None = None
        self.rois = RoiSpectra(self.index.pixel_count, binning.bins)
        self.set_binning(binning)
        logger.info(
            "%s: %d pixels (%s detector numbers), views %s",
            self.name,
            self.index.pixel_count,
            "contiguous" if self.index.contiguous else "lookup table for",
            ", ".join(self.views),
        )

    def set_binning(self, binning: SetToaBinning) -> None:
        """New TOA range and bins; all cumulative results restart."""
        self.binning = binning
        self._toa_range = binning.range_ns()
        self._edges = sc.linspace(
            TIME_OF_ARRIVAL,
            binning.toa_min,
            binning.toa_max,
            binning.bins + 1,
            unit=binning.unit.value,
        )
        self._pixels.set_bins(binning.bins)
        self._toa_current = np.zeros(binning.bins, dtype=np.int64)
        self._toa_cumulative = np.zeros(binning.bins, dtype=np.int64)
        self.rois.set_bins(binning.bins)
        self.reset()

    def reset(self) -> None:
        self._cumulative[:] = 0
        self._toa_cumulative[:] = 0
        self.rois.reset()
        self._cumulative_start = None

    def view(self, name: str) -> ViewImage:
        if name not in self.views:
            known = ", ".join(self.views) or "none"
            raise CommandRejected(
                f"detector {self.name!r} has no view {name!r} (known: {known})"
            )
        return self.views[name]

    def set_roi(self, definition: SetRoi) -> None:
        view = self.view(definition.view)
        if view.axes is None:
            raise CommandRejected(f"view {definition.view!r} is not 2-D")
        x, y = view.pixel_coordinates()
        try:
            self.rois.set(definition, pixels_inside(definition.shape, x, y))
        except ValueError as error:
            raise CommandRejected(str(error)) from None

    def remove_roi(self, roi: int) -> None:
        if roi not in self.rois.definitions:
            raise CommandRejected(f"detector {self.name!r} has no ROI {roi}")
        self.rois.remove(roi)

    def set_resolution(self, name: str, resolution: tuple[int, int]) -> None:
        view = self.view(name)
        if not isinstance(view, ProjectedImage):
            raise CommandRejected(f"view {name!r} is not a projection")
        view.set_resolution(resolution)

    def add_events(self, batch: EventBatch) -> None:
        n = batch.size
        self.ledger.received += n
        unknown, negative, outside = accumulate_pixels(
            batch.pixel_id,
            batch.time_of_arrival,
            offset=self.index.offset,
            lookup=self.index.lookup,
            toa_range=self._toa_range,
            counts=self._pixels,
            roi_group=self.rois.group,
            roi_group_toa_counts=self.rois.group_toa_counts,
        )
        self.unknown_pixel_ids += unknown
        self.ledger.rejected += unknown + negative
        self.ledger.out_of_range += outside
        self.ledger.counted += n - unknown - negative - outside

    def finalize(self, window: TimeWindow) -> dict[str, sc.DataArray]:
        """All outputs of this window by output name; current restarts.

        A view's image is ``{view}/current`` and ``{view}/cumulative``; the
        bank's spectra and ROI spectra are shared by its views.
        """
        if self._cumulative_start is None:
            self._cumulative_start = window.start
        self._pixels.take(self._current, self._toa_current)
        self._cumulative += self._current
        self._toa_cumulative += self._toa_current
        current = (window.start, window.end)
        cumulative = (self._cumulative_start, window.end)
        outputs: dict[str, sc.DataArray] = {}
        for name, view in self.views.items():
            outputs[view_output(name, DetectorOutputs.CURRENT.name)] = stamp(
                view.image(self._current), *current
            )
            outputs[view_output(name, DetectorOutputs.CUMULATIVE.name)] = stamp(
                view.image(self._cumulative), *cumulative
            )
        outputs[DetectorOutputs.TOA_CURRENT.name] = self._spectrum(
            self._toa_current, *current
        )
        outputs[DetectorOutputs.TOA_CUMULATIVE.name] = self._spectrum(
            self._toa_cumulative, *cumulative
        )
        outputs.update(self._roi_outputs(window))
        return outputs

    def _roi_outputs(self, window: TimeWindow) -> dict[str, sc.DataArray]:
        """Every ROI's spectrum in one array (dims ``roi``, ``time_of_arrival``).

        A cumulative ROI spectrum starts when its ROI is set, so the stacked
        cumulative one says the latest of those starts: the span every row
        covers at least.
        """
        spectra = self.rois.finalize(window, self._edges)
        if not spectra:
            return {}
        ids = sorted(spectra)
        # As the facility's: int32 indices, dimensionless.
        roi = sc.array(dims=["roi"], values=np.asarray(ids, dtype=np.int32))
        outputs: dict[str, sc.DataArray] = {}
        for index, output in (
            (0, DetectorOutputs.ROI_SPECTRA_CURRENT),
            (1, DetectorOutputs.ROI_SPECTRA_CUMULATIVE),
        ):
            rows = [spectra[r][index] for r in ids]
            stacked = sc.concat(
                [row.drop_coords(["start_time", "end_time"]) for row in rows], "roi"
            )
            stacked.coords["roi"] = roi
            stacked.name = f"{self.name} ROI spectra"
            start = max(
                int(row.coords["start_time"].value.astype("int64")) for row in rows
            )
            outputs[output.name] = stamp(stacked, start, window.end)
        return outputs

    def _spectrum(self, counts: np.ndarray, start: int, end: int) -> sc.DataArray:
        data = sc.DataArray(
            sc.array(dims=[TIME_OF_ARRIVAL], values=counts.copy(), unit="counts"),
            coords={TIME_OF_ARRIVAL: self._edges},
            name=self.name,
        )
        return stamp(data, start, end)


class DetectorProcessor:
    """The detector_data service's accumulators, one per bank and one per
    area detector; view jobs reach them through
    :class:`~.job_bindings.DetectorBinding`."""

    def __init__(self, instrument: Instrument) -> None:
        self._instrument = instrument
        # Accumulators are built on first use: geometry can be large.
        self._banks = SourceTable(
            "detector", (bank.name for bank in instrument.detectors), self._new_bank
        )
        self._cameras = SourceTable(
            "area detector",
            (camera.name for camera in instrument.area_detectors),
            lambda name: AreaImages(instrument.area_detector(name)),
        )
        self._default_binning = DEFAULT_BINNING

    def _new_bank(self, name: str) -> DetectorCounts:
        return DetectorCounts(
            self._instrument.detector(name),
            self._instrument.sample_position,
            self._default_binning,
        )

    def process_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> list[Message[Any]]:
        for stream, batch in messages.items():
            if stream.kind is StreamKind.AREA_DETECTOR and stream.name in self._cameras:
                camera = self._cameras.get(stream.name)
                for message in batch:
                    camera.add(message.value)
            if stream.kind is not StreamKind.DETECTOR_EVENTS:
                continue
            if stream.name not in self._banks:
                continue
            bank = self._banks.get(stream.name)
            for message in batch:
                bank.add_events(message.value)
        outputs: list[Message[Any]] = []
        built: list[tuple[str, DetectorCounts | AreaImages]] = [
            *self._banks.built(),
            *self._cameras.built(),
        ]
        for name, source in built:
            for output, data in source.finalize(window).items():
                result = result_name(SERVICE, name, output)
                outputs.append(data_message(result, window.end, data))
        return outputs

    def skip_window(
        self, window: TimeWindow, messages: Mapping[StreamId, list[Message[Any]]]
    ) -> int:
        """Count the window's events (and frames) as ``skipped``; nothing is
        accumulated."""
        for stream, batch in messages.items():
            if stream.kind is StreamKind.AREA_DETECTOR and stream.name in self._cameras:
                self._cameras.get(stream.name).skip(len(batch))
        return skip_into_ledgers(
            messages,
            lambda s: s.kind is StreamKind.DETECTOR_EVENTS and s.name in self._banks,
            lambda name: self._banks.get(name).ledger,
        )

    def apply(
        self, body: SetToaBinning | Reset | SetViewResolution | SetRoi | RemoveRoi
    ) -> None:
        """Apply one command body to its target bank (all for ``None``); an
        area detector takes only ``Reset``."""
        if body.target is not None and body.target in self._cameras:
            if not isinstance(body, Reset):
                raise CommandRejected(
                    f"area detector {body.target!r} takes no {body.action!r}"
                )
            self._cameras.get(body.target).reset()
            return
        targets = self._banks.targets(body.target)
        if isinstance(body, SetToaBinning):
            if body.target is None:
                self._default_binning = body
            for bank in targets:
                bank.set_binning(body)
        elif isinstance(body, Reset):
            for bank in targets:
                bank.reset()
            if body.target is None:
                for _, camera in self._cameras.built():
                    camera.reset()
        elif isinstance(body, SetViewResolution):
            [bank] = targets
            bank.set_resolution(body.view, body.resolution)
        elif isinstance(body, SetRoi):
            [bank] = targets
            bank.set_roi(body)
        elif isinstance(body, RemoveRoi):
            [bank] = targets
            bank.remove_roi(body.roi)
        else:
            raise CommandRejected(f"{body.action!r} is not a detector_data command")

    def rois_of(self, bank: str) -> dict[int, SetRoi]:
        """The ROIs set on ``bank``, by index."""
        return dict(self._banks.get(bank).rois.definitions)

    def status_details(self) -> DetectorStatus:
        banks = self._banks.built()
        return DetectorStatus(
            ledger={n: b.ledger.as_status() for n, b in banks},
            unknown_pixel_ids={n: b.unknown_pixel_ids for n, b in banks},
            binning={n: b.binning.as_status() for n, b in banks},
            rois={n: sorted(b.rois.definitions) for n, b in banks},
            frames={n: c.frames.as_status() for n, c in self._cameras.built()},
        )
