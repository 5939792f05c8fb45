"""The status strip on top of every page: one line, the detail on a click.

Collapsed it is one line: healthy or the worst problem, and the broker read.
Clicked, it opens to the banners and one row per service. A Card keeps the
open/closed state in the browser while its panes are redrawn every tick. The
text comes from :mod:`~ess.livedata.dashboard.health`, so the page is never
blank: with no broker and no service it still says so.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import panel as pn

from ess.livedata.protocol import Ledger, LogLedger

from .health import Banner, ServiceRow, banners, service_rows, skipped_text
from .job_alerts import JobFailureAlerts
from .store import LiveStore

_CSS = """
.ld-banner { padding: 6px 10px; margin: 2px 0; border-radius: 4px; }
.ld-banner.error { background: #f8d7da; color: #721c24; border: 1px solid #f1aeb5; }
.ld-banner.warning { background: #fff3cd; color: #664d03; border: 1px solid #ffe69c; }
.ld-banner.info { background: #cff4fc; color: #055160; border: 1px solid #9eeaf9; }
.ld-ok { padding: 4px 10px; color: #0f5132; }
.ld-summary { padding: 2px 8px; border-radius: 4px; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
.ld-summary.ok { color: #0f5132; }
.ld-summary.error { background: #f8d7da; color: #721c24; }
.ld-summary.warning { background: #fff3cd; color: #664d03; }
.ld-summary.info { background: #cff4fc; color: #055160; }
.ld-summary .ld-more { color: #555; font-size: 0.85em; }
.ld-broker { padding: 0 10px; font-size: 0.85em; color: #555; }
table.ld-services { border-collapse: collapse; font-size: 0.85em; width: 100%; }
table.ld-services th, table.ld-services td {
  padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: left;
  vertical-align: top;
}
table.ld-services tr.stale td { color: #b02a37; }
.ld-ledger { font-family: monospace; white-space: nowrap; }
.ld-unbalanced { color: #b02a37; font-weight: bold; }
td.ld-skipped.active { background: #fff3cd; color: #664d03; font-weight: bold; }
"""


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ledger_html(ledger: dict[str, Ledger | LogLedger]) -> str:
    lines = []
    for source, counts in sorted(ledger.items()):
        parts = ", ".join(
            f"{key.replace('_', ' ')} {int(value):,}"
            for key, value in counts.model_dump(exclude={"balanced"}).items()
        )
        mark = (
            "" if counts.balanced else ' <span class="ld-unbalanced">unbalanced</span>'
        )
        lines.append(f"<b>{html.escape(source)}</b>: {html.escape(parts)}{mark}")
    return "<br>".join(lines) or "-"


def _row_html(row: ServiceRow) -> str:
    lag = "-" if row.lag_s is None else f"{row.lag_s:.1f} s"
    rates = " · ".join(
        f"{_number(value)} {label}" for label, value in row.rates.items()
    )
    skipped = row.skipped
    return (
        f'<tr class="{"stale" if row.stale else "fresh"}"'
        f' data-service="{html.escape(row.service)}"'
        f' data-skipping="{str(skipped.active).lower()}"'
        f' data-events-skipped="{skipped.events}"'
        f' data-windows-skipped="{skipped.windows}">'
        f"<td><b>{html.escape(row.service)}</b><br>{html.escape(row.instance)}</td>"
        f"<td>{html.escape(row.state)}</td>"
        f"<td>{row.age_s:.1f} s ago</td>"
        f"<td>{row.jobs}</td>"
        f"<td>{rates}</td>"
        f"<td>{lag}</td>"
        f"<td>{row.rejected:,}</td>"
        f'<td class="ld-skipped{" active" if skipped.active else ""}">'
        f"{html.escape(skipped_text(skipped))}</td>"
        f'<td class="ld-ledger">{_ledger_html(row.ledger)}</td>'
        "</tr>"
    )


def summary_html(found: Sequence[Banner], broker: str) -> str:
    """The collapsed strip: all clear or the worst banner, and the broker.

    ``found`` is worst first, as :func:`~.health.banners` sorts it.
    """
    where = f" · broker {html.escape(broker)}"
    if not found:
        return (
            '<div class="ld-summary ok" data-healthy="true">'
            f"● Healthy: broker reachable, all services fresh{where}</div>"
        )
    worst = found[0]
    more = (
        f' <span class="ld-more">(+{len(found) - 1} more)</span>'
        if len(found) > 1
        else ""
    )
    return (
        f'<div class="ld-summary {worst.level}" data-healthy="false">'
        f"▲ {html.escape(worst.text)}{more}{where}</div>"
    )


def status_html(
    found: Sequence[Banner], rows: Sequence[ServiceRow], broker: str
) -> str:
    """Banners, or an all-clear line, the broker read, then the service table.

    Naming the broker tells a user whose page stays empty whether it reads
    the broker their services write to.
    """
    parts = [
        f'<div class="ld-banner {b.level}" role="alert">{html.escape(b.text)}</div>'
        for b in found
    ]
    if not found:
        parts.append('<div class="ld-ok">Broker reachable, all services fresh.</div>')
    parts.append(f'<div class="ld-broker">Broker: {html.escape(broker)}</div>')
    if rows:
        parts.append(
            '<table class="ld-services"><tr><th>service</th><th>state</th>'
            "<th>heartbeat</th><th>jobs</th><th>rates</th><th>data lag</th><th>rejected</th>"
            "<th>skipped</th><th>counts ledger</th></tr>"
            + "".join(_row_html(row) for row in rows)
            + "</table>"
        )
    return "".join(parts)


class StatusStrip:
    """One session's status strip, collapsed at first; :meth:`update` redraws
    it from the store and raises a toast for each newly failed job.

    Parameters
    ----------
    expected:
        Services the page needs; a missing heartbeat from one is a banner.
    broker:
        The broker the dashboard reads, e.g. ``localhost:9092
        (KAFKA_BOOTSTRAP_SERVERS)``.
    """

    def __init__(self, store: LiveStore, expected: Sequence[str], broker: str) -> None:
        self._store = store
        self._expected = tuple(expected)
        self._broker = broker
        self._alerts = JobFailureAlerts(store)
        self.summary = pn.pane.HTML(
            "", stylesheets=[_CSS], sizing_mode="stretch_width", margin=0
        )
        self.detail = pn.pane.HTML(
            "",
            stylesheets=[_CSS],
            sizing_mode="stretch_width",
            css_classes=["ld-status"],
        )
        self.view = pn.Card(
            self.detail,
            header=self.summary,
            collapsed=True,
            sizing_mode="stretch_width",
            margin=(0, 5),
            css_classes=["ld-status-strip"],
        )
        self.update(store.now())

    def update(self, now_s: float) -> None:
        rows = service_rows(self._store.services(), now_s)
        found = banners(self._store.broker(), rows, self._expected)
        self.summary.object = summary_html(found, self._broker)
        self.detail.object = status_html(found, rows, self._broker)
        self._alerts.update(now_s)
