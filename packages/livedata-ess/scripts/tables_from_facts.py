"""Write an ESS instrument plugin's ``streams.yaml`` from the facility facts.

Run once per instrument when its plugin is created (or the facts change):

    python packages/livedata-ess/scripts/tables_from_facts.py \\
        ../shared/facts/instruments/dream.yaml \\
        instruments/livedata-instrument-dream/src/ess/livedata/instruments/dream/streams.yaml \\
        --title "DREAM (powder diffractometer)" --peak-rate 7.5e7

The facts are data: only routes, detector-number ranges, layouts, f144 log
streams in the production lookup table and geometry files are taken.
Corrections of known errors in the facts are listed in :data:`CORRECTIONS`
and written into the output as comments.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

CORRECTIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("dream", "endcap_backward_detector"): {
        "first": 71681,
        "count": 157696,
        "why": "facts give first 71618, count 157759: 63 ids overlap endcap_forward "
        "(1..71680) and the count exceeds the layout product 157696; 71681 "
        "(digits of 71618 swapped) starts right after endcap_forward and ends "
        "at the stated last id 229376 with exactly the layout's size",
    },
    # TBL: every bank on its own topic, fake ranges (live numbers come from
    # the geometry file) laid end to end after the Timepix3's, which keeps its.
    ("tbl", "timepix3_detector"): {
        "first": 1,
        "count": 4096 * 4096,
        "layout": {"dim_0": 4096, "dim_1": 4096},
        "why": "facts give the layout as '4096 or 2048' per dim; the fake range "
        "1..16777216 is 4096 x 4096",
    },
    ("tbl", "multiblade_detector"): {
        "first": 16777217,
        "count": 28672,
        "layout": {"blade": 14, "wire": 32, "strip": 64},
        "why": "fake range 1..28672 overlaps the other banks' (all start at 1 on "
        "separate topics; livedata needs unique numbers per instrument), moved "
        "after timepix3_detector; wire count given as 'remainder (32 for the fake "
        "range)'",
    },
    ("tbl", "he3_detector_bank0"): {
        "first": 16805889,
        "count": 400,
        "layout": {"tube": 4, "pixel": 100},
        "why": "fake range 1..400 overlaps multiblade and nGEM, moved after "
        "multiblade_detector; layout given as dim names, the fake range as 4 x 100",
    },
    ("tbl", "he3_detector_bank1"): {
        "first": 16806289,
        "count": 400,
        "layout": {"tube": 4, "pixel": 100},
        "why": "fake range 401..800 overlaps multiblade and nGEM, moved after "
        "he3_detector_bank0; layout given as dim names, the fake range as 4 x 100",
    },
    ("tbl", "ngem_detector"): {
        "first": 16806689,
        "count": 32768,
        "layout": {"dim_0": 2, "dim_1": 128, "dim_2": 128},
        "why": "fake range 1..32768 overlaps the other banks', moved after "
        "he3_detector_bank1; no layout in the facts, the fake range is 2 x 128^2",
    },
}
"""(instrument, bank) -> corrected detector-number range (and layout, where
the facts give none in numbers) and the reason."""

GROUP_DIMS = {("bifrost", "unified_detector"): ["arc", "channel"]}
"""Banks spread over several NXdetector groups: the layout dims the groups
enumerate (the facts' name pattern runs arc 1..5, channel 1..9, arc slowest)."""

GEOMETRY_PINS = {
    "bifrost": (
        "geometry-bifrost-2025-01-01.nxs",
        "upstream pins detector geometry to this file: the 2026-06-08 file's "
        "detector_tank_angle depends_on chain is broken (issue #962)",
    ),
}
"""Instruments whose detector geometry must come from one file only."""


def route(topic: str, sources: list[str]) -> dict[str, Any]:
    return {"topic": topic, "sources": list(sources)}


def bank(
    instrument: str, raw: dict[str, Any], dev: list[dict[str, Any]]
) -> tuple[dict[str, Any], str | None]:
    numbers = raw["detector_number"]
    first, count = int(numbers["first"]), int(numbers["count"])
    note = None
    layout = dict(raw.get("layout", {}))
    fix = CORRECTIONS.get((instrument, raw["name"]))
    if fix is not None:
        first, count, note = fix["first"], fix["count"], f"{raw['name']}: {fix['why']}"
        layout = fix.get("layout", layout)
    prod_sources = raw["prod"].get("source_names") or raw["prod_source_names"]
    if "dev" in raw:
        dev_route = route(raw["dev"]["topic"], [raw["dev"]["source_name"]])
    else:  # one logical bank fed by every dev source (BIFROST)
        dev_route = route(dev[0]["topic"], [d["source_name"] for d in dev])
    table = {
        "name": raw["name"],
        "title": raw.get("title", raw["name"].replace("_", " ").capitalize()),
        "prod": route(raw["prod"]["topic"], prod_sources),
        "dev": dev_route,
        "detector_number": {
            "first": first,
            "count": count,
            "from_geometry_file": numbers["kind"] in ("fake_only", "stated_and_fake"),
        },
        "layout": layout,
    }
    if "geometry_bank_names" in raw:
        table["geometry_groups"] = {
            "dims": GROUP_DIMS[(instrument, raw["name"])],
            "names": raw["geometry_bank_names"]["names"],
        }
    return table, note


def monitor(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": raw["name"],
        "title": raw.get("title", raw["name"]),
        "prod": route(raw["prod"]["topic"], [raw["prod"]["source_name"]]),
        "dev": route(raw["dev"]["topic"], [raw["dev"]["source_name"]]),
    }


def geometry(
    raw: dict[str, Any], name: str
) -> tuple[dict[str, Any] | None, str | None]:
    """The dated files, or None if none is registered (BEER: the lookups are
    a sentence, and the banks' numbers and placement are given in code)."""
    lookups = raw["lookups"]
    if not isinstance(lookups, dict) or name not in lookups:
        return None, None
    files = lookups[name]["files"]
    note = None
    if name in GEOMETRY_PINS:
        pinned, why = GEOMETRY_PINS[name]
        files = [f for f in files if f["file"] == pinned]
        note = f"geometry pinned to {pinned}: {why}"
    return {
        "registry_url": raw["fetch"]["base_url"],
        "files": [
            {"name": f["file"], "valid_from": f["valid_from"], "md5": f["md5"]}
            for f in files
        ],
    }, note


def tables(facts: dict[str, Any], title: str, peak_rate: float) -> tuple[dict, list]:
    name = facts["name"]
    banks, notes = [], []
    for raw in facts["detectors"]:
        if not isinstance(raw["detector_number"], dict):
            notes.append(
                f"{raw['name']} left out: an area detector ({raw['schema']}) has "
                "no detector numbers, and livedata has no area-detector banks"
            )
            continue
        table, note = bank(name, raw, facts["dev"]["detectors"])
        banks.append(table)
        if note:
            notes.append(note)
    logs = [
        {
            "name": g["name"],
            "topic": g["topic"],
            "source": g["source"],
            "unit": g["units"],
        }
        for g in facts["logs"]["f144"]
        if g["in_prod_lut"]
    ]
    geometry_table, pin = geometry(facts["geometry"], name)
    if pin:
        notes.append(pin)
    return {
        "name": name,
        "title": title,
        "peak_event_rate": peak_rate,
        "dev_log_topic": facts["kafka"]["generic_topic_names"]["log"],
        "detectors": banks,
        "monitors": [monitor(m) for m in facts["monitors"]],
        "logs": logs,
        "geometry": geometry_table,
    }, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("facts", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--title", required=True)
    parser.add_argument("--peak-rate", type=float, required=True)
    args = parser.parse_args()
    facts = yaml.safe_load(args.facts.read_text())
    data, notes = tables(facts, args.title, args.peak_rate)
    header = [
        f"# Stream tables of {facts['name']}, generated once from the facility facts",
        f"# ({args.facts.name}, upstream commit {facts['upstream']['commit']}) by",
        "# packages/livedata-ess/scripts/tables_from_facts.py. Edit with care.",
        "# f144 logs: those in the production lookup table; f144_dropped are left",
        "# out (their topics are not readable in production).",
        *(f"# Corrected: {note}" for note in notes),
    ]
    body = yaml.safe_dump(
        data, sort_keys=False, width=100, allow_unicode=True, default_flow_style=None
    )
    args.output.write_text("\n".join(header) + "\n" + body)


if __name__ == "__main__":
    main()
