"""Drawing regions of interest on detector images, sent as ROI requests.

Boxes (BoxEdit) and polygons (PolyDraw) are drawn in the coordinates of the
view's published image. Sending publishes the whole set of each geometry to
the view's current job on ``{instrument}_livedata_roi`` (rectangles get ROI
indices 0-3, polygons 4-7; PROTOCOL.md section 3), which replaces what the
job had; the job echoes the set it uses as its ``roi_rectangle`` and
``roi_polygon`` outputs.

What was drawn lives in the editor, not in the figure: every edit reaches
the editor through its stream, and a rebuilt figure (e.g. after switching to
log scale) is seeded from it. The drawing layers are static elements, so a
data update of the image never touches them. The job's ROIs are drawn on top,
dashed, from a pipe of their own: solid is drawn here, dashed is in the job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
from .store import LiveStore

MAX_ROIS = len(RoiGeometry.RECTANGLE.indices)
"""ROIs of each geometry a view takes."""

HINT = (
    "Boxes: choose the box tool, then hold shift and drag. Polygons: choose the "
    "polygon tool, double-click the first vertex, click the next ones, "
    "double-click the last. Select a shape "
    "and press backspace to delete it. Then send them. Solid shapes are drawn "
    "here; dashed white ones are the ROIs the job uses."
)

NOTHING_DRAWN = (
    "nothing drawn: draw a box (box tool, shift+drag) or a polygon first; "
    "'Remove all' clears the job's ROIs"
)

_PENDING = {"fill_alpha": 0.15, "line_width": 2}
_IN_JOB = {
    "fill_alpha": 0.0,
    "line_color": "white",
    "line_dash": "dashed",
    "line_width": 2,
}


class InvalidRoi(ValueError):
    """A drawn shape the protocol cannot carry, with the reason."""


@dataclass(frozen=True)
class JobRois:
    """The ROIs a view's job reports using, by ROI index."""

    rectangles: dict[int, Rectangle] = field(default_factory=dict)
    polygons: dict[int, Polygon] = field(default_factory=dict)

    @property
    def indices(self) -> list[int]:
        return sorted([*self.rectangles, *self.polygons])


def _job_layers(data: JobRois) -> hv.Overlay:
    """The job's ROIs, dashed, unfilled, so a pending edit stays visible
    (``data``: the name a Pipe calls it by)."""
    boxes = hv.Rectangles(
        [
            (r.x_min, r.y_min, r.x_max, r.y_max)
            for _, r in sorted(data.rectangles.items())
        ]
    ).opts(**_IN_JOB)
    polygons = hv.Polygons(
        [
            {"x": [v[0] for v in vs], "y": [v[1] for v in vs]}
            for _, vs in sorted(data.polygons.items())
        ]
    ).opts(**_IN_JOB)
    return boxes * polygons


class RoiEditor:
    """The shapes drawn on one view of one bank, and the job's ROIs drawn back."""

    def __init__(self) -> None:
        self._boxes: dict[str, list[float]] = {"x0": [], "y0": [], "x1": [], "y1": []}
        self._polygons: dict[str, list[list[float]]] = {"xs": [], "ys": []}
        self._box_stream: hv.streams.BoxEdit | None = None
        self._poly_stream: hv.streams.PolyDraw | None = None
        self._in_job = JobRois()
        self._job_pipe = hv.streams.Pipe(data=self._in_job)

    def _take_boxes(self, data: dict | None) -> None:
        if data:
            self._boxes = {k: [float(v) for v in data[k]] for k in self._boxes}

    def _take_polygons(self, data: dict | None) -> None:
        if data:
            self._polygons = {
                k: [[float(v) for v in vs] for vs in data[k]] for k in self._polygons
            }

    def layers(self) -> hv.Overlay:
        """Drawing layers seeded with the shapes drawn so far, under the job's."""
        boxes = hv.Rectangles(
            list(zip(*(self._boxes[k] for k in ("x0", "y0", "x1", "y1")), strict=True))
        ).opts(fill_color="red", line_color="red", **_PENDING)
        polygons = hv.Polygons(
            [
                {"x": xs, "y": ys}
                for xs, ys in zip(
                    self._polygons["xs"], self._polygons["ys"], strict=True
                )
            ]
        ).opts(fill_color="orange", line_color="orange", **_PENDING)
        self._box_stream = hv.streams.BoxEdit(source=boxes, num_objects=MAX_ROIS)
        self._box_stream.add_subscriber(self._take_boxes)
        self._poly_stream = hv.streams.PolyDraw(
            source=polygons, drag=True, num_objects=MAX_ROIS, show_vertices=True
        )
        self._poly_stream.add_subscriber(self._take_polygons)
        in_job = hv.DynamicMap(_job_layers, streams=[self._job_pipe])
        return boxes * polygons * in_job

    def show_in_job(self, rois: JobRois) -> None:
        """Draw the job's ROIs, if they changed."""
        if rois != self._in_job:
            self._in_job = rois
            self._job_pipe.send(rois)

    def rectangles(self) -> dict[int, Rectangle]:
        """The drawn boxes under their ROI indices.

        Raises
        ------
        InvalidRoi
            A box without area, or more than :data:`MAX_ROIS`.
        """
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
        if not rectangles and not polygons:
            self._feedback.invalid(NOTHING_DRAWN)
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

    def in_job(self) -> JobRois:
        """The ROIs the view's job reports using."""
        return job_rois(self._backend.store, self._workflow, self._bank)

    def update(self, _now_s: float) -> None:
        rois = self.in_job()
        text = ", ".join(str(roi) for roi in rois.indices)
        self.readback.object = (
            f'<small class="ld-readback" data-view="{self._workflow.name}">'
            f"ROIs of {self._bank} {self._workflow.name} in the job: "
            f"{text or 'none'}</small>"
        )
        self.editor.show_in_job(rois)


def job_rois(store: LiveStore, workflow: WorkflowId, bank: str) -> JobRois:
    """The ROIs the current job of ``workflow`` on ``bank`` echoes; a read-back
    this dashboard cannot parse counts as none."""
    found: dict[RoiGeometry, dict] = {}
    for geometry, parse in (
        (RoiGeometry.RECTANGLE, rectangles_from_columns),
        (RoiGeometry.POLYGON, polygons_from_columns),
    ):
        result = store.result(workflow, bank, ROI_READBACK[geometry])
        try:
            found[geometry] = {} if result is None else parse(_columns(result.data))
        except (KeyError, ValueError):
            found[geometry] = {}
    return JobRois(found[RoiGeometry.RECTANGLE], found[RoiGeometry.POLYGON])
