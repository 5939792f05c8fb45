"""Drawing regions of interest on detector images, sent as ROI requests.

A plain drag on an image draws a box (Bokeh's box select tool, active by
default); the lasso tool draws a polygon. Shapes are in the coordinates of
the view's published image. Sending publishes the whole set of each geometry
to the view's current job on ``{instrument}_livedata_roi`` (rectangles get
ROI indices 0-3, polygons 4-7; PROTOCOL.md section 3), which replaces what
the job had; the job echoes the set it uses as its ``roi_rectangle`` and
``roi_polygon`` outputs.

What was drawn lives in the editor, not in the figure: each completed drag
arrives as one event (``BoundsXY``/``Lasso``) and is appended to the editor's
lists, so nothing depends on the browser syncing a multi-row data source. The
pending shapes (solid) and the job's ROIs (dashed, unfilled) are drawn from
pipes of their own, so an image update or a rebuilt figure never loses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import holoviews as hv
import numpy as np
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

MAX_VERTICES = 32
"""Vertices a lasso is thinned to: a hand-drawn outline has hundreds."""

HINT = (
    "Drag on an image to draw a box; choose the lasso tool to draw a polygon. "
    "Solid shapes are drawn here and not yet sent; dashed white ones are the "
    "ROIs the job uses. 'Clear drawn' forgets the solid ones."
)

NOTHING_DRAWN = (
    "nothing drawn: drag on the image to draw a box (or lasso a polygon) "
    "first; 'Remove all' clears the job's ROIs"
)

_PENDING = {"fill_alpha": 0.15, "line_width": 2, "nonselection_alpha": 1.0}
_IN_JOB = {
    "fill_alpha": 0.0,
    "line_color": "white",
    "line_dash": "dashed",
    "line_width": 2,
}
_TOOLS = {"tools": ["box_select", "lasso_select"], "active_tools": ["box_select"]}


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


@dataclass(frozen=True)
class Drawn:
    """Shapes drawn and not cleared: boxes as (x0, y0, x1, y1), polygons as
    vertex lists."""

    boxes: tuple[tuple[float, float, float, float], ...] = ()
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()


def _shapes(
    boxes: list[tuple[float, float, float, float]],
    polygons: list[tuple[tuple[float, float], ...]],
    **opts: object,
) -> hv.Overlay:
    box_layer = hv.Rectangles(boxes).opts(**opts)
    polygon_layer = hv.Polygons(
        [{"x": [v[0] for v in vs], "y": [v[1] for v in vs]} for vs in polygons]
    ).opts(**opts)
    return box_layer * polygon_layer


def _job_layers(data: JobRois) -> hv.Overlay:
    """The job's ROIs, dashed, unfilled, so a pending edit stays visible
    (``data``: the name a Pipe calls it by)."""
    boxes = [
        (r.x_min, r.y_min, r.x_max, r.y_max) for _, r in sorted(data.rectangles.items())
    ]
    return _shapes(boxes, [vs for _, vs in sorted(data.polygons.items())], **_IN_JOB)


def _drawn_layers(data: Drawn, **_gestures: object) -> hv.Overlay:
    """The shapes drawn here, solid and lightly filled, carrying the tools
    (the gestures are the editor's to take, not drawn as they are)."""
    return _shapes(
        list(data.boxes),
        list(data.polygons),
        fill_color="red",
        line_color="red",
        **_PENDING,
        **_TOOLS,
    )


def _thinned(geometry: np.ndarray) -> tuple[tuple[float, float], ...]:
    """A lasso's outline with at most :data:`MAX_VERTICES` vertices."""
    step = max(1, -(-len(geometry) // MAX_VERTICES))
    return tuple((float(x), float(y)) for x, y in geometry[::step])


class RoiEditor:
    """The shapes drawn on one view of one bank, and the job's ROIs drawn back."""

    def __init__(self) -> None:
        self._drawn = Drawn()
        self._drawn_pipe = hv.streams.Pipe(data=self._drawn)
        self._box_stream: hv.streams.BoundsXY | None = None
        self._lasso_stream: hv.streams.Lasso | None = None
        self._in_job = JobRois()
        self._job_pipe = hv.streams.Pipe(data=self._in_job)

    @property
    def drawn(self) -> Drawn:
        return self._drawn

    def _show(self, drawn: Drawn) -> None:
        self._drawn = drawn
        self._drawn_pipe.send(drawn)

    def _take_box(self, bounds: tuple[float, float, float, float] | None) -> None:
        if bounds is not None:
            x0, y0, x1, y1 = bounds
            box = (float(x0), float(y0), float(x1), float(y1))
            self._show(Drawn((*self._drawn.boxes, box), self._drawn.polygons))

    def _take_lasso(self, geometry: np.ndarray | None) -> None:
        if geometry is not None and len(geometry) >= 3:
            polygon = _thinned(np.asarray(geometry, dtype=float))
            self._show(Drawn(self._drawn.boxes, (*self._drawn.polygons, polygon)))

    def clear(self) -> None:
        """Forget the shapes drawn here."""
        self._show(Drawn())

    def layers(self) -> hv.Overlay:
        """The drawn shapes under the job's, each from its own pipe; called
        again for a rebuilt figure, which shows the same shapes."""
        self._box_stream = hv.streams.BoundsXY()
        self._box_stream.add_subscriber(self._take_box)
        self._lasso_stream = hv.streams.Lasso()
        self._lasso_stream.add_subscriber(self._take_lasso)
        drawn = hv.DynamicMap(
            _drawn_layers,
            streams=[self._drawn_pipe, self._box_stream, self._lasso_stream],
        )
        in_job = hv.DynamicMap(_job_layers, streams=[self._job_pipe])
        return drawn * in_job

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
        boxes = self._drawn.boxes
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
        drawn = self._drawn.polygons
        if len(drawn) > MAX_ROIS:
            raise InvalidRoi(f"{len(drawn)} polygons drawn, at most {MAX_ROIS}")
        polygons = {}
        for index, polygon in zip(RoiGeometry.POLYGON.indices, drawn, strict=False):
            vertices = list(polygon)
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
        self.forget = pn.widgets.Button(label=f"Clear drawn on {label}")
        self.forget.on_click(lambda _event: self.editor.clear())
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
        """Send empty sets and forget what is drawn, so nothing solid is
        left that the job no longer has."""
        self.editor.clear()
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
