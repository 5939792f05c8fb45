"""A collapsible "Correlation" card: choose an output and logs, see the plot.

Until the plot grid offers correlation as a plotter, this card puts one
:class:`~.correlation_plot.CorrelationPlot` on a page. Changing a choice
starts a new plot (an empty histogram); an invalid choice is explained and
the shown plot kept.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import panel as pn
from pydantic import ValidationError

from ess.livedata.core.commands import validation_summary
from ess.livedata.core.instrument import Instrument
from ess.livedata.protocol import MonitorOutputs

from .catalog import MONITOR_OUTPUT, Window, monitor_workflow
from .correlation import LogBins
from .correlation_plot import CorrelationConfig, CorrelationPlot
from .result_plot import Shown
from .store import LiveStore

NO_LOG = "none"


class CorrelationSection:
    """Widgets choosing a correlation and the plot they configure.

    Parameters
    ----------
    outputs:
        The outputs offered, by label; the first is shown at start.
    logs:
        Names of the instrument's logs; the first is x at start.
    """

    def __init__(
        self, store: LiveStore, outputs: Mapping[str, Shown], logs: list[str]
    ) -> None:
        self._store = store
        self._outputs = dict(outputs)
        self.output = pn.widgets.Select(
            label="Output", options=list(outputs), value=next(iter(outputs)), width=240
        )
        self.x = pn.widgets.Select(
            label="X log", options=logs, value=logs[0], width=140
        )
        self.y = pn.widgets.Select(
            label="Y log", options=[NO_LOG, *logs], value=NO_LOG, width=140
        )
        self.bins = pn.widgets.IntInput(label="Log bins", value=50, start=1, width=90)
        self.low = pn.widgets.FloatInput(
            label="Low (empty: auto)", value=None, width=130
        )
        self.high = pn.widgets.FloatInput(label="High", value=None, width=110)
        self.statistic = pn.widgets.RadioButtonGroup(
            label="Statistic", options=["mean", "sum"], value="mean"
        )
        self.problem = pn.pane.HTML("", styles={"color": "#b00020"})
        self.plot = CorrelationPlot(store, self._config())
        self._body = pn.Column(self.plot.view, sizing_mode="stretch_width")
        widgets = (self.output, self.x, self.y, self.bins, self.low, self.high)
        for widget in (*widgets, self.statistic):
            widget.param.watch(lambda _event: self._rebuild(), "value")
        self.view = pn.Card(
            pn.Row(*widgets, self.statistic),
            self.problem,
            self._body,
            title="Correlation",
            collapsed=True,
            sizing_mode="stretch_width",
            css_classes=["ld-correlation-card"],
        )

    def _config(self) -> CorrelationConfig:
        x = LogBins(
            log=self.x.value,
            bins=self.bins.value,
            low=self.low.value,
            high=self.high.value,
        )
        y = None if self.y.value == NO_LOG else LogBins(log=self.y.value)
        return CorrelationConfig(
            output=self._outputs[self.output.value],
            x=x,
            y=y,
            statistic=self.statistic.value,
        )

    def _rebuild(self) -> None:
        try:
            config = self._config()
        except ValidationError as error:
            self.problem.object = html.escape(validation_summary(error))
            return
        self.problem.object = ""
        self.plot = CorrelationPlot(self._store, config)
        self._body.objects = [self.plot.view]

    def update(self, now_s: float) -> None:
        self.plot.update(now_s)


def monitor_correlations(
    store: LiveStore, instrument: Instrument, name: str
) -> CorrelationSection | None:
    """Each monitor's counts and spectrum per window against the logs of
    ``instrument`` (loaded as ``name``); None without logs."""
    if not instrument.logs or not instrument.monitors:
        return None
    workflow = monitor_workflow(name)
    outputs = {
        f"{monitor.name} {label}": Shown(workflow, monitor.name, output)
        for monitor in instrument.monitors
        for label, output in (
            ("counts per window", MonitorOutputs.COUNTS_TOTAL.name),
            ("spectrum per window", MONITOR_OUTPUT[Window.CURRENT]),
        )
    }
    return CorrelationSection(store, outputs, [log.name for log in instrument.logs])
