"""One browser session's page: its widget tree and how it refreshes.

Every session calls :func:`session_factory`'s function and so builds its own
widgets; nothing visual is shared between sessions, only the store.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import panel as pn

from .backend import Backend
from .status_strip import StatusStrip

logger = logging.getLogger(__name__)

UPDATE_MS = 1000
"""How often a session redraws from the store (clocks and ages move)."""
NEW_DATA_MS = 100
"""How often a session checks for new results, and redraws at once if there
are: a fixed 1 s redraw alone adds up to 1 s to the data age on screen."""

Updater = Callable[[float], None]

_HEADER_CSS = """
.ld-header { font-size: 1.4em; font-weight: 600; padding: 4px 0; }
.ld-header .ld-instrument { color: #0a58ca; }
"""


@dataclass
class Page:
    """A session's root view and the functions that refresh its parts."""

    view: pn.viewable.Viewable
    updaters: list[Updater] = field(default_factory=list)
    """Parts that show results: refreshed when results arrive and every second."""
    clock_updaters: list[Updater] = field(default_factory=list)
    """Parts that show heartbeats and ages only (the status strip): refreshed
    every second. Redrawing them on every result would re-send their HTML to
    every session several times a second for nothing."""

    def tick(self, now_s: float, results_only: bool = False) -> None:
        """Refresh the parts; one failing part must not freeze the others."""
        parts = self.updaters if results_only else self.clock_updaters + self.updaters
        for update in parts:
            try:
                update(now_s)
            except Exception:
                logger.exception("refreshing %s failed", update)


@dataclass
class Section:
    """Part of a page (a tab's content, or controls above a grid)."""

    name: str
    body: list[pn.viewable.Viewable]
    updaters: list[Updater] = field(default_factory=list)


def framed(
    backend: Backend,
    title: str,
    expected: Sequence[str],
    body: Sequence[pn.viewable.Viewable],
    updaters: Sequence[Updater],
) -> Page:
    """``body`` under a header and the status strip every page carries."""
    status = StatusStrip(backend.store, expected, backend.broker)
    instrument = backend.loaded.instrument
    header = pn.pane.HTML(
        f'<div class="ld-header">livedata · <span class="ld-instrument">'
        f"{html.escape(instrument.title or instrument.name)}</span> · {title}</div>",
        stylesheets=[_HEADER_CSS],
    )
    view = pn.Column(header, status.view, *body, sizing_mode="stretch_width")
    return Page(view, list(updaters), [status.update])


def session_factory(
    build: Callable[[Backend], Page], backend: Backend
) -> Callable[[], pn.viewable.Viewable]:
    """The function Panel calls once per new browser session."""

    store = backend.store

    def create() -> pn.viewable.Viewable:
        pn.config.notifications = True  # this session's job failure toasts
        page = build(backend)
        drawn = store.serial

        def redraw(results_only: bool = False) -> None:
            nonlocal drawn
            drawn = store.serial
            page.tick(store.now(), results_only)

        def redraw_if_new() -> None:
            if store.serial != drawn:
                redraw(results_only=True)

        redraw()
        pn.state.add_periodic_callback(redraw, period=UPDATE_MS)
        pn.state.add_periodic_callback(redraw_if_new, period=NEW_DATA_MS)
        return page.view

    return create
