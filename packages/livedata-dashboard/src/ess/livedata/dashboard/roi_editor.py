"""Drawing regions of interest on detector images, sent as ROI commands.

Boxes (BoxEdit) and polygons (PolyDraw) are drawn in the coordinates of the
view's published image, which are the coordinates ``set_roi`` expects. What
was drawn survives a rebuild of the figure (e.g. switching to log scale)
because every rebuild seeds the new drawing layers with the last shapes.
"""

from __future__ import annotations

from collections.abc import Sequence

import holoviews as hv
import panel as pn
from pydantic import ValidationError

from ess.livedata.core.commands import validation_summary
from ess.livedata.core.detector_commands import (
    MAX_ROIS,
    Polygon,
    Rectangle,
    RemoveRoi,
    RoiShape,
    SetRoi,
)

from .backend import Backend
from .feedback import CommandFeedback

SERVICE = "detector_data"

HINT = (
    "Draw boxes with the box tool (shift+drag), polygons with the polygon tool "
    "(click vertices, double-click to close); select one and press backspace to "
    "delete. Then send them."
)


class RoiEditor:
    """The shapes drawn on one view of one bank."""

    def __init__(self) -> None:
        self._boxes: dict[str, list[float]] = {"x0": [], "y0": [], "x1": [], "y1": []}
        self._polygons: dict[str, list[list[float]]] = {"xs": [], "ys": []}
        self._box_stream: hv.streams.BoxEdit | None = None
        self._poly_stream: hv.streams.PolyDraw | None = None

    def _remember(self) -> None:
        if self._box_stream is not None and self._box_stream.data:
            self._boxes = {k: list(self._box_stream.data[k]) for k in self._boxes}
        if self._poly_stream is not None and self._poly_stream.data:
            self._polygons = {
                k: [list(v) for v in self._poly_stream.data[k]] for k in self._polygons
            }

    def layers(self) -> hv.Overlay:
        """Fresh drawing layers holding the shapes drawn so far."""
        self._remember()
        boxes = hv.Rectangles(
            list(zip(*(self._boxes[k] for k in ("x0", "y0", "x1", "y1")), strict=True))
        ).opts(fill_alpha=0.15, fill_color="red", line_color="red", line_width=2)
        polygons = hv.Polygons(
            [
                {"x": xs, "y": ys}
                for xs, ys in zip(
                    self._polygons["xs"], self._polygons["ys"], strict=True
                )
            ]
        ).opts(fill_alpha=0.15, fill_color="orange", line_color="orange", line_width=2)
        self._box_stream = hv.streams.BoxEdit(source=boxes, num_objects=MAX_ROIS)
        self._poly_stream = hv.streams.PolyDraw(
            source=polygons, drag=True, num_objects=MAX_ROIS, show_vertices=True
        )
        return boxes * polygons

    def shapes(self) -> list[RoiShape]:
        """The drawn shapes as command models.

        Raises
        ------
        ValidationError
            A degenerate shape (zero area, too few or too many vertices).
        """
        self._remember()
        shapes: list[RoiShape] = []
        b = self._boxes
        for x0, y0, x1, y1 in zip(b["x0"], b["y0"], b["x1"], b["y1"], strict=True):
            shapes.append(
                Rectangle(
                    x_min=min(x0, x1),
                    x_max=max(x0, x1),
                    y_min=min(y0, y1),
                    y_max=max(y0, y1),
                )
            )
        for xs, ys in zip(self._polygons["xs"], self._polygons["ys"], strict=True):
            vertices = list(zip(xs, ys, strict=True))
            if len(vertices) > 1 and vertices[0] == vertices[-1]:
                vertices.pop()
            shapes.append(Polygon(vertices=tuple(vertices)))
        return shapes


class BankRois:
    """ROIs of one bank across its views, and the buttons that send them.

    Several sessions may draw ROIs on the same bank, so a session only ever
    sets and removes the ROI ids it set itself, and gives its shapes ids that
    no other session uses (those the service has that this session did not
    set). Only ROIs that changed since the last send are set again: setting
    one restarts its cumulative spectrum. "Remove all" removes every ROI of
    the bank, whoever set it.
    """

    def __init__(
        self,
        backend: Backend,
        bank: str,
        views: Sequence[str],
        feedback: CommandFeedback,
    ) -> None:
        self._backend = backend
        self._bank = bank
        self._feedback = feedback
        self.editors = {view: RoiEditor() for view in views}
        self._sent: dict[int, SetRoi] = {}
        self.button = pn.widgets.Button(label=f"Send ROIs of {bank}", color="primary")
        self.button.on_click(lambda _event: self.send())
        self.clear = pn.widgets.Button(
            label=f"Remove all ROIs of {bank}", color="warning"
        )
        self.clear.on_click(lambda _event: self.remove_all())
        self.readback = pn.pane.HTML("", sizing_mode="stretch_width")

    def in_service(self) -> list[int]:
        """ROI ids the service reports for this bank in its newest heartbeat."""
        status = self._backend.store.latest_status(SERVICE)
        return (
            [] if status is None else status.details.get("rois", {}).get(self._bank, [])
        )

    def send(self) -> None:
        try:
            drawn = [
                (view, shape)
                for view, editor in self.editors.items()
                for shape in editor.shapes()
            ]
        except ValidationError as error:
            self._feedback.invalid(validation_summary(error))
            return
        others = set(self.in_service()) - set(self._sent)
        free = [roi for roi in range(MAX_ROIS) if roi not in others]
        if len(drawn) > len(free):
            self._feedback.invalid(
                f"{len(drawn)} ROIs drawn but {len(free)} free: a bank has at most "
                f"{MAX_ROIS}, {len(others)} of them set from elsewhere"
            )
            return
        wanted = [
            SetRoi(target=self._bank, view=view, roi=roi, shape=shape)
            for roi, (view, shape) in zip(free, drawn, strict=False)
        ]
        for body in wanted:
            if self._sent.get(body.roi) != body:
                self._send(body)
        for roi in sorted(set(self._sent) - {body.roi for body in wanted}):
            self._send(RemoveRoi(target=self._bank, roi=roi))
        self._sent = {body.roi: body for body in wanted}

    def remove_all(self) -> None:
        for roi in sorted(set(self.in_service()) | set(self._sent)):
            self._send(RemoveRoi(target=self._bank, roi=roi))
        self._sent = {}

    def _send(self, body: SetRoi | RemoveRoi) -> None:
        self._feedback.follow(self._backend.sender.send(SERVICE, body))

    def update(self, _now_s: float) -> None:
        ids = self.in_service()
        mine = [roi for roi in ids if roi in self._sent]
        text = ", ".join(
            f"{roi}{' (this page)' if roi in mine else ''}" for roi in sorted(ids)
        )
        self.readback.object = (
            f'<small class="ld-readback">ROIs of {self._bank} in the service: '
            f"{text or 'none'}</small>"
        )
