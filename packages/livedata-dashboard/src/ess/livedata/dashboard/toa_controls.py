"""Time-of-arrival range and bins, and reset: controls shared by monitors and detectors.

Input is validated with the command's own pydantic model before sending, so
a typo is explained at once; what the service then says comes back through
:class:`~.feedback.CommandFeedback`. The binning each source really uses is
read back from the service's heartbeat and shown under the controls.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import panel as pn
from pydantic import ValidationError

from ess.livedata.core.commands import (
    Reset,
    SetToaBinning,
    TimeUnit,
    validation_summary,
)

from .backend import Backend
from .feedback import CommandFeedback

ALL = "all"


def _binning_text(binning: dict[str, Any]) -> str:
    return (
        f"{binning['toa_min']:g} to {binning['toa_max']:g} {binning.get('unit', 'ms')}, "
        f"{binning['bins']} bins"
    )


class ToaControls:
    """TOA binning and reset for the sources of one service.

    Parameters
    ----------
    service:
        Service the commands go to, e.g. ``monitor_data``.
    targets:
        Source names offered besides "all".
    feedback:
        Where the fate of each command is shown.
    """

    def __init__(
        self,
        backend: Backend,
        service: str,
        targets: Sequence[str],
        feedback: CommandFeedback,
    ) -> None:
        self._backend = backend
        self._service = service
        self._feedback = feedback
        self._initialised = False
        self.target = pn.widgets.Select(
            label="Source", options=[ALL, *targets], value=ALL, width=140
        )
        self.toa_min = pn.widgets.FloatInput(label="TOA min", value=0.0, width=110)
        self.toa_max = pn.widgets.FloatInput(label="TOA max", value=71.4, width=110)
        self.unit = pn.widgets.Select(
            label="Unit", options=[u.value for u in TimeUnit], value="ms", width=80
        )
        self.bins = pn.widgets.IntInput(label="Bins", value=200, start=1, width=100)
        self.apply = pn.widgets.Button(label="Apply TOA binning", color="primary")
        self.reset = pn.widgets.Button(label="Reset cumulative", color="warning")
        self.apply.on_click(lambda _event: self.send_binning())
        self.reset.on_click(lambda _event: self.send_reset())
        self.readback = pn.pane.HTML("", sizing_mode="stretch_width")
        self.view = pn.Column(
            pn.Row(
                self.target,
                self.toa_min,
                self.toa_max,
                self.unit,
                self.bins,
                pn.Column(pn.Spacer(height=18), self.apply),
                pn.Column(pn.Spacer(height=18), self.reset),
            ),
            self.readback,
            feedback.view,
            sizing_mode="stretch_width",
        )

    def _target(self) -> str | None:
        return None if self.target.value == ALL else self.target.value

    def send_binning(self) -> None:
        try:
            body = SetToaBinning(
                target=self._target(),
                toa_min=self.toa_min.value,
                toa_max=self.toa_max.value,
                bins=self.bins.value,
                unit=TimeUnit(self.unit.value),
            )
        except ValidationError as error:
            self._feedback.invalid(validation_summary(error))
            return
        self._feedback.follow(self._backend.sender.send(self._service, body))

    def send_reset(self) -> None:
        body = Reset(target=self._target())
        self._feedback.follow(self._backend.sender.send(self._service, body))

    def _binnings(self) -> dict[str, dict[str, Any]]:
        """The binning of every source, from the newest heartbeat of the service."""
        status = self._backend.store.latest_status(self._service)
        return {} if status is None else dict(status.details.get("binning", {}))

    def update(self, _now_s: float) -> None:
        binnings = self._binnings()
        self.readback.object = (
            '<small class="ld-readback">In use: '
            + (
                "; ".join(
                    f"<b>{html.escape(name)}</b> {html.escape(_binning_text(b))}"
                    for name, b in sorted(binnings.items())
                )
                or "not reported yet"
            )
            + "</small>"
        )
        if binnings and not self._initialised:
            # Start from what the service uses, once; later the user's edits stay.
            self._initialised = True
            first = binnings[sorted(binnings)[0]]
            self.toa_min.value = round(float(first["toa_min"]), 4)
            self.toa_max.value = round(float(first["toa_max"]), 4)
            self.unit.value = first.get("unit", "ms")
            self.bins.value = int(first["bins"])
