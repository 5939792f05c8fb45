"""The form that adds or configures one cell of a grid."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import panel as pn
from pydantic import ValidationError

from ess.livedata.core.commands import validation_summary
from ess.livedata.core.job_sources import allowed_sources
from ess.livedata.core.plugins import LoadedInstrument

from .grid_model import Cell, CellOptions, OutputRef, Plotter, Scale, Window
from .store import LiveStore


def known_outputs(loaded: LoadedInstrument, store: LiveStore) -> list[OutputRef]:
    """What a cell can show: every declared output of every workflow on its
    sources, and whatever current jobs publish besides."""
    refs = {
        OutputRef(
            workflow=f"{loaded.name}/{spec.name}/{spec.version}",
            source=source,
            output=output.name,
        )
        for spec in loaded.workflow_specs.values()
        for source in allowed_sources(loaded.instrument, spec)
        for output in spec.output_specs
        if "{" not in output.name
    }
    refs |= {OutputRef.of(*found) for found in store.current_outputs()}
    return sorted(refs, key=lambda ref: ref.path)


def _limit(text: str) -> float | None:
    return float(text) if text.strip() else None


class CellEditor:
    """Edits a cell; ``on_save`` gets the valid cell, errors are shown inline."""

    def __init__(
        self,
        outputs: Callable[[], Iterable[OutputRef]],
        on_save: Callable[[Cell], None],
    ) -> None:
        self._outputs = outputs
        self._on_save = on_save
        self.title = pn.widgets.TextInput(label="Cell title", width=220)
        self.plotter = pn.widgets.Select(
            label="Plotter", options=[p.value for p in Plotter], width=120
        )
        self.chosen = pn.widgets.MultiChoice(label="Outputs", options={}, width=460)
        self.window = pn.widgets.Select(
            label="Window", options=[w.value for w in Window], width=120
        )
        self.window_s = pn.widgets.FloatInput(label="Last N s", value=60.0, width=90)
        scales = [s.value for s in Scale]
        self.x_scale = pn.widgets.Select(label="x scale", options=scales, width=90)
        self.y_scale = pn.widgets.Select(label="y scale", options=scales, width=90)
        self.color_scale = pn.widgets.Select(
            label="Colour scale", options=scales, width=100
        )
        self.color_min = pn.widgets.TextInput(label="Colour min", width=90)
        self.color_max = pn.widgets.TextInput(label="Colour max", width=90)
        self.rate = pn.widgets.Checkbox(label="Rate (per s)")
        self.save = pn.widgets.Button(label="Save cell", color="primary")
        self.cancel = pn.widgets.Button(label="Cancel")
        self.message = pn.pane.HTML("", css_classes=["ld-grid-message"])
        self.save.on_click(lambda _event: self._save())
        self.cancel.on_click(lambda _event: self.close())
        self.view = pn.Card(
            pn.Row(self.title, self.plotter, self.chosen),
            pn.Row(
                self.window,
                self.window_s,
                self.x_scale,
                self.y_scale,
                self.color_scale,
                self.color_min,
                self.color_max,
                pn.Column(pn.Spacer(height=18), self.rate),
            ),
            pn.Row(self.save, self.cancel, self.message),
            title="Cell",
            collapsible=False,
            visible=False,
            sizing_mode="stretch_width",
        )

    def open(self, cell: Cell | None, outputs: tuple[OutputRef, ...] = ()) -> None:
        """Show the form, filled in from ``cell``, or for a new cell of
        ``outputs`` (any known output if none)."""
        cell = cell or Cell(title="New cell", outputs=outputs or (self._any_output(),))
        refs = {ref.path: ref for ref in (*self._outputs(), *cell.outputs)}
        self.chosen.options = refs
        self.chosen.value = [refs[ref.path] for ref in cell.outputs]
        options = cell.options
        self.title.value = cell.title
        self.plotter.value = cell.plotter.value
        self.window.value = options.window.value
        self.window_s.value = options.window_s
        self.x_scale.value = options.x_scale.value
        self.y_scale.value = options.y_scale.value
        self.color_scale.value = options.color_scale.value
        low, high = options.color_limits or ("", "")
        self.color_min.value, self.color_max.value = str(low), str(high)
        self.rate.value = options.rate
        self.message.object = ""
        self.view.title = f"Configure {cell.title}"
        self.view.visible = True

    def close(self) -> None:
        self.view.visible = False

    def _any_output(self) -> OutputRef:
        return next(iter(self._outputs()))

    def _save(self) -> None:
        try:
            low, high = _limit(self.color_min.value), _limit(self.color_max.value)
            limits = None if low is None and high is None else (low, high)
            cell = Cell(
                title=self.title.value,
                plotter=self.plotter.value,
                outputs=tuple(self.chosen.value),
                options=CellOptions(
                    window=self.window.value,
                    window_s=self.window_s.value,
                    x_scale=self.x_scale.value,
                    y_scale=self.y_scale.value,
                    color_scale=self.color_scale.value,
                    color_limits=limits,
                    rate=self.rate.value,
                ),
            )
        except ValueError as error:
            text = (
                validation_summary(error)
                if isinstance(error, ValidationError)
                else f"colour limits must be numbers: {error}"
            )
            self.message.object = f'<span class="ld-invalid">{text}</span>'
            return
        self._on_save(cell)
        self.close()
