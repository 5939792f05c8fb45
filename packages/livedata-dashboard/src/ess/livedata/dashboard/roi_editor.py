"""Drawing regions of interest on detector images, sent as ROI requests.

Boxes (BoxEdit) and polygons (PolyDraw) are drawn in the coordinates of the
view's published image. Sending publishes the whole set of each geometry to
the view's current job on ``{instrument}_livedata_roi`` (rectangles get ROI
indices 0-3, polygons 4-7; PROTOCOL.md section 3), which replaces what the
job had; the job echoes the set it uses as its ``roi_rectangle`` and
``roi_polygon`` outputs, shown under the buttons. What was drawn survives a
rebuild of the figure (e.g. switching to log scale) because every rebuild
seeds the new drawing layers with the last shapes.
"""

from __future__ import annotations

import holoviews as hv
import panel as pn
import scipp as sc

from ess.livedata.protocol import (
    Polygon,
    Rectangle,
    RoiColumns,
    RoiGeometry,
    RoiStream,
    WorkflowId,
    polygons_from_columns,
    polygons_to_columns,
    rectangles_from_columns,
    rectangles_to_columns,
)

from .backend import Backend
from .catalog import ROI_READBACK
from .feedback import CommandFeedback

MAX_ROIS = len(RoiGeometry.RECTANGLE.indices)
"""ROIs of each geometry a view takes."""

HINT = (
    "Draw boxes with the box tool (shift+drag), polygons with the polygon tool "
    "(click vertices, double-click to close); select one and press backspace to "
    "delete. Then send them."
)


class InvalidRoi(ValueError):
    """A drawn shape the protocol cannot carry, with the reason."""


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

    def rectangles(self) -> dict[int, Rectangle]:
        """The drawn boxes under their ROI indices.

        Raises
        ------
        InvalidRoi
            A box without area, or more than :data:`MAX_ROIS`.
        """
        self._remember()
        b = self._boxes
        boxes = list(zip(b["x0"], b["y0"], b["x1"], b["y1"], strict=True))
        if len(boxes) > MAX_ROIS:
            raise InvalidRoi(f"{len(boxes)} boxes drawn, at most {MAX_ROIS}")
        rectangles = {}
        for index, (x0, y0, x1, y1) in zip(
            RoiGeometry.RECTANGLE.indices, boxes, strict=False
        ):
            if x0 == x1 or y0 == y1:
                raise InvalidRoi("a box has no area")
            rectangles[index] = Rectangle(
                min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
            )
        return rectangles

    def polygons(self) -> dict[int, Polygon]:
        """The drawn polygons under their ROI indices, without a repeated
        closing vertex.

        Raises
        ------
        InvalidRoi
            A polygon of fewer than three vertices, or more than :data:`MAX_ROIS`.
        """
        self._remember()
        drawn = list(zip(self._polygons["xs"], self._polygons["ys"], strict=True))
        if len(drawn) > MAX_ROIS:
            raise InvalidRoi(f"{len(drawn)} polygons drawn, at most {MAX_ROIS}")
        polygons = {}
        for index, (xs, ys) in zip(RoiGeometry.POLYGON.indices, drawn, strict=False):
            vertices = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
            if len(vertices) > 1 and vertices[0] == vertices[-1]:
                vertices.pop()
            if len(vertices) < 3:
                raise InvalidRoi("a polygon needs at least three vertices")
            polygons[index] = tuple(vertices)
        return polygons


def _columns(data: sc.DataArray) -> RoiColumns:
    """The columns of an ROI read-back output."""
    coords = data.coords
    return RoiColumns(
        tuple(float(x) for x in coords["x"].values),
        tuple(float(y) for y in coords["y"].values),
        tuple(int(i) for i in coords["roi_index"].values),
    )


class ViewRois:
    """ROIs of one view of one bank, and the buttons that send them.

    A request replaces the whole set of its geometry, so the set sent is what
    this page shows drawn; "Remove all" sends empty sets.
    """

    def __init__(
        self,
        backend: Backend,
        workflow: WorkflowId,
        bank: str,
        feedback: CommandFeedback,
    ) -> None:
        self._backend = backend
        self._workflow = workflow
        self._bank = bank
        self._feedback = feedback
        self.editor = RoiEditor()
        label = f"{bank} {workflow.name}"
        self.button = pn.widgets.Button(label=f"Send ROIs of {label}", color="primary")
        self.button.on_click(lambda _event: self.send())
        self.clear = pn.widgets.Button(
            label=f"Remove all ROIs of {label}", color="warning"
        )
        self.clear.on_click(lambda _event: self.remove_all())
        self.readback = pn.pane.HTML("", sizing_mode="stretch_width")

    def send(self) -> None:
        try:
            rectangles = self.editor.rectangles()
            polygons = self.editor.polygons()
        except InvalidRoi as error:
            self._feedback.invalid(str(error))
            return
        self._send(rectangles_to_columns(rectangles), polygons_to_columns(polygons))

    def remove_all(self) -> None:
        empty = RoiColumns((), (), ())
        self._send(empty, empty)

    def _send(self, rectangles: RoiColumns, polygons: RoiColumns) -> None:
        job = self._backend.store.jobs.current(self._workflow, self._bank)
        if job is None:
            self._feedback.invalid(
                f"no running {self._workflow.name} job on {self._bank} to send ROIs to"
            )
            return
        sender = self._backend.sender
        sender.send_roi(RoiStream(job, RoiGeometry.RECTANGLE), rectangles)
        sender.send_roi(RoiStream(job, RoiGeometry.POLYGON), polygons)

    def in_job(self) -> list[int]:
        """ROI indices the view's job reports using."""
        store = self._backend.store
        indices: list[int] = []
        for output, parse in (
            (ROI_READBACK[RoiGeometry.RECTANGLE], rectangles_from_columns),
            (ROI_READBACK[RoiGeometry.POLYGON], polygons_from_columns),
        ):
            result = store.result(self._workflow, self._bank, output)
            if result is not None:
                try:
                    indices += parse(_columns(result.data))
                except (KeyError, ValueError):
                    continue  # a read-back this dashboard cannot parse
        return sorted(indices)

    def update(self, _now_s: float) -> None:
        text = ", ".join(str(roi) for roi in self.in_job())
        self.readback.object = (
            f'<small class="ld-readback" data-view="{self._workflow.name}">'
            f"ROIs of {self._bank} {self._workflow.name} in the job: "
            f"{text or 'none'}</small>"
        )
