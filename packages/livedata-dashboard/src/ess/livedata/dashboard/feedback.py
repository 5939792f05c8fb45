"""What became of the commands this session sent, shown next to its controls.

Each session follows only its own command ids, so one user's rejected command
never shows up on another user's page.
"""

from __future__ import annotations

import html
from collections import deque

import panel as pn

from .store import LiveStore

SHOWN = 3
"""Most recent commands listed."""

_CSS = """
.ld-feedback { font-size: 0.9em; }
.ld-feedback div { padding: 2px 6px; margin: 1px 0; border-radius: 3px; }
.ld-feedback .accepted { background: #d1e7dd; color: #0f5132; }
.ld-feedback .pending { background: #e2e3e5; color: #41464b; }
.ld-feedback .rejected, .ld-feedback .undelivered, .ld-feedback .invalid {
  background: #f8d7da; color: #842029;
}
.ld-feedback .unanswered { background: #fff3cd; color: #664d03; }
"""


class CommandFeedback:
    """The outcomes of this session's last few commands, newest first."""

    def __init__(self, store: LiveStore, shown: int = SHOWN) -> None:
        self._store = store
        self._ids: deque[str] = deque(maxlen=shown)
        self._invalid = ""
        self.view = pn.pane.HTML(
            '<div class="ld-feedback"></div>',
            stylesheets=[_CSS],
            sizing_mode="stretch_width",
        )

    def follow(self, *message_ids: str) -> None:
        """Show the outcome of commands just sent."""
        self._invalid = ""
        for message_id in message_ids:
            self._ids.appendleft(message_id)
        self.update(self._store.now())

    def invalid(self, reason: str) -> None:
        """Report input that was not sent because it failed validation."""
        self._invalid = reason
        self.update(self._store.now())

    def update(self, now_s: float) -> None:
        lines = []
        if self._invalid:
            lines.append(
                '<div class="invalid" data-outcome="invalid">not sent: '
                f"{html.escape(self._invalid)}</div>"
            )
        for message_id in self._ids:
            record = self._store.responses.get(message_id)
            if record is None:
                continue
            outcome = record.outcome(now_s)
            lines.append(
                f'<div class="{outcome}" data-outcome="{outcome}">'
                f"{html.escape(record.describe(now_s))}</div>"
            )
        self.view.object = f'<div class="ld-feedback">{"".join(lines)}</div>'
