"""One grid of the shared store as a tab: its cells, editing, YAML exchange.

The grid itself lives in the :class:`~.grid_store.GridStore`; every change
made here is saved there, and every session redraws a grid whose stored
version differs from the one it shows, so all sessions follow a change.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence

import panel as pn

from .backend import Backend
from .cell_editor import CellEditor, known_logs, known_outputs
from .cell_plots import CellPlot, build_cell_plot
from .grid_model import Cell, Grid, GridFileError, grid_from_yaml, grid_to_yaml
from .page import Section

_CSS = """
.ld-cell { border: 1px solid #ddd; border-radius: 4px; padding: 2px; }
.ld-invalid { color: #b00020; }
.ld-ok { color: #1b5e20; }
"""


class GridView:
    """The cells of grid ``name``, with add, configure, remove and YAML files."""

    def __init__(self, backend: Backend, name: str, above: Section | None) -> None:
        self._backend = backend
        self._grids = backend.grids
        self.name = name
        self._above = above or Section(name, [])
        self._grid: Grid | None = None
        self._plots: list[CellPlot] = []
        self._editing: int | None = None
        self.editor = CellEditor(
            lambda: known_outputs(backend.loaded, backend.store),
            lambda: known_logs(backend.loaded),
            self._save_cell,
        )
        self.add = pn.widgets.Button(label="Add cell", color="primary")
        self.add.on_click(lambda _event: self._edit(None))
        self.download = pn.widgets.FileDownload(
            callback=self._yaml,
            filename=f"{name}.yaml",
            label="Download grid",
        )
        self.upload = pn.widgets.FileInput(accept=".yaml,.yml")
        self.upload.param.watch(self._uploaded, "value")
        self.message = pn.pane.HTML("", css_classes=["ld-grid-message"])
        self.cells = pn.GridBox(ncols=2, sizing_mode="stretch_width")
        self.view = pn.Column(
            *self._above.body,
            pn.Row(self.add, self.download, self.upload, self.message),
            self.editor.view,
            self.cells,
            sizing_mode="stretch_width",
            stylesheets=[_CSS],
        )

    def update(self, now_s: float) -> None:
        grid = self._grids.grid(self.name)
        if grid is not None and grid != self._grid:
            self._show(grid)
        for update in self._above.updaters:
            update(now_s)
        for plot in self._plots:
            plot.update(now_s)

    def _show(self, grid: Grid) -> None:
        """Build the cells that changed; a cell unchanged at its place keeps
        its plot, so a correlation there keeps what it has accumulated."""
        before = self._grid.cells if self._grid is not None else ()
        kept = list(zip(before, self._plots, self.cells.objects, strict=True))
        self._grid = grid
        plots, cards = [], []
        for index, cell in enumerate(grid.cells):
            if index < len(kept) and kept[index][0] == cell:
                _, plot, card = kept[index]
            else:
                plot = build_cell_plot(self._backend.store, cell)
                card = self._card(index, cell, plot)
            plots.append(plot)
            cards.append(card)
        self._plots = plots
        self.cells.ncols = grid.columns
        self.cells.objects = cards

    def _card(self, index: int, cell: Cell, plot: CellPlot) -> pn.Column:
        configure = pn.widgets.Button(label=f"Configure {cell.title}", width=200)
        remove = pn.widgets.Button(
            label=f"Remove {cell.title}", color="warning", width=200
        )
        configure.on_click(lambda _event: self._edit(index))
        remove.on_click(lambda _event: self._remove(index))
        return pn.Column(
            plot.view,
            pn.Row(configure, remove),
            css_classes=["ld-cell"],
            sizing_mode="stretch_width",
        )

    def _cells(self) -> list[Cell]:
        grid = self._grids.grid(self.name)
        return [] if grid is None else list(grid.cells)

    def _store(self, cells: Sequence[Cell]) -> None:
        grid = self._grids.grid(self.name) or Grid(name=self.name)
        self._grids.save(grid.model_copy(update={"cells": tuple(cells)}))

    def _edit(self, index: int | None) -> None:
        cells = self._cells()
        self._editing = index if index is not None and index < len(cells) else None
        if self._editing is not None:
            self.editor.open(cells[self._editing])
        else:  # a new cell starts from what the grid shows first
            self.editor.open(None, cells[0].outputs if cells else ())

    def _save_cell(self, cell: Cell) -> None:
        cells = self._cells()
        if self._editing is None:
            cells.append(cell)
        else:
            cells[self._editing] = cell
        self._store(cells)

    def _remove(self, index: int) -> None:
        cells = self._cells()
        if index < len(cells):
            del cells[index]
            self._store(cells)

    def _yaml(self) -> io.StringIO:
        grid = self._grids.grid(self.name) or Grid(name=self.name)
        return io.StringIO(grid_to_yaml(grid))

    def _uploaded(self, event: object) -> None:
        data = self.upload.value
        if not data:
            return
        try:
            grid = grid_from_yaml(data)
        except GridFileError as error:
            self._say("ld-invalid", f"Upload failed: {error}")
            return
        self._grids.save(grid)
        self._say("ld-ok", f"Grid {grid.name!r} saved with {len(grid.cells)} cells")

    def _say(self, css: str, text: str) -> None:
        self.message.object = f'<span class="{css}">{html.escape(text)}</span>'
