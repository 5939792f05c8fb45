"""The form that adds or configures one cell of a grid."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence

import panel as pn
from pydantic import ValidationError

from ess.livedata.core.commands import validation_summary
from ess.livedata.core.job_sources import allowed_sources
from ess.livedata.core.plugins import LoadedInstrument

from .correlation import CorrelationOptions, LogBins
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


def known_logs(loaded: LoadedInstrument) -> list[str]:
    """What a correlation cell can bin by: the instrument's logs, each the
    source of a ``timeseries_data`` job whose history the cell reads."""
    return [log.name for log in loaded.instrument.logs]


NO_LOG = "none"
"""The y log of a correlation against one log."""


def _number(label: str, text: str | None) -> float | None:
    """``text`` as a number, None if empty."""
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{label} must be a number, not {text!r}") from None


class CellEditor:
    """Edits a cell; ``on_save`` gets the valid cell, errors are shown inline.

    ``outputs`` and ``logs`` say what a cell can show and bin by; the
    correlation options replace the display options when that plotter is
    chosen.
    """

    def __init__(
        self,
        outputs: Callable[[], Iterable[OutputRef]],
        logs: Callable[[], Sequence[str]],
        on_save: Callable[[Cell], None],
    ) -> None:
        self._outputs = outputs
        self._on_save = on_save
        self._logs = logs
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
        self.x_log = pn.widgets.Select(label="X log", options=[], width=140)
        self.y_log = pn.widgets.Select(label="Y log", options=[NO_LOG], width=140)
        self.log_bins = pn.widgets.IntInput(
            label="Log bins", value=50, start=1, end=1000, width=90
        )
        self.log_low = pn.widgets.TextInput(label="Log low (empty: auto)", width=140)
        self.log_high = pn.widgets.TextInput(label="Log high", width=100)
        self.statistic = pn.widgets.Select(
            label="Statistic", options=["mean", "sum"], width=90
        )
        self.display = pn.Row(
            self.window,
            self.window_s,
            self.x_scale,
            self.y_scale,
            self.color_scale,
            self.color_min,
            self.color_max,
            pn.Column(pn.Spacer(height=18), self.rate),
        )
        """Options of the plotters that draw outputs as they are."""
        self.logs = pn.Row(
            self.x_log,
            self.y_log,
            self.log_bins,
            self.log_low,
            self.log_high,
            self.statistic,
            visible=False,
        )
        """Options of the correlation plotter."""
        self.plotter.param.watch(lambda _event: self._show_options(), "value")
        self.save = pn.widgets.Button(label="Save cell", color="primary")
        self.cancel = pn.widgets.Button(label="Cancel")
        self.message = pn.pane.HTML("", css_classes=["ld-grid-message"])
        self.save.on_click(lambda _event: self._save())
        self.cancel.on_click(lambda _event: self.close())
        self.view = pn.Card(
            pn.Row(self.title, self.plotter, self.chosen),
            self.display,
            self.logs,
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
        self._fill_logs(cell.correlation)
        self._show_options()
        self.message.object = ""
        self.view.title = f"Configure {cell.title}"
        self.view.visible = True

    def _fill_logs(self, correlation: CorrelationOptions | None) -> None:
        """Choices of the instrument's logs (and any the cell names besides),
        set to the cell's; a new correlation starts on the first log."""
        logs = list(self._logs())
        chosen = [] if correlation is None else [b.log for b in correlation.bins()]
        logs += [log for log in chosen if log not in logs]
        x = None if correlation is None else correlation.x
        y = None if correlation is None else correlation.y
        self.x_log.options = logs
        self.x_log.value = x.log if x else next(iter(logs), None)
        self.y_log.options = [NO_LOG, *logs]
        self.y_log.value = y.log if y else NO_LOG
        self.log_bins.value = x.bins if x else LogBins.model_fields["bins"].default
        low, high = (None, None) if x is None else (x.low, x.high)
        self.log_low.value = "" if low is None else str(low)
        self.log_high.value = "" if high is None else str(high)
        self.statistic.value = correlation.statistic if correlation else "mean"

    def _show_options(self) -> None:
        correlation = self.plotter.value == Plotter.CORRELATION
        self.logs.visible = correlation
        self.display.visible = not correlation

    def close(self) -> None:
        self.view.visible = False

    def _any_output(self) -> OutputRef:
        return next(iter(self._outputs()))

    def _correlation(self) -> CorrelationOptions | None:
        if self.plotter.value != Plotter.CORRELATION:
            return None
        if not self.x_log.value:
            raise ValueError("correlation needs an x log; the instrument has none")
        bins = self.log_bins.value
        x = LogBins(
            log=self.x_log.value,
            bins=bins,
            low=_number("log low", self.log_low.value),
            high=_number("log high", self.log_high.value),
        )
        y = None if self.y_log.value == NO_LOG else LogBins(log=self.y_log.value)
        return CorrelationOptions(x=x, y=y, statistic=self.statistic.value)

    def _save(self) -> None:
        try:
            low = _number("colour min", self.color_min.value)
            high = _number("colour max", self.color_max.value)
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
                correlation=self._correlation(),
            )
        except ValueError as error:
            text = (
                validation_summary(error)
                if isinstance(error, ValidationError)
                else str(error)
            )
            self.message.object = (
                f'<span class="ld-invalid">{html.escape(text, quote=False)}</span>'
            )
            return
        self._on_save(cell)
        self.close()
