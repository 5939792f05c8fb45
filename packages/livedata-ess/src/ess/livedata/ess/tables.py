"""An ESS instrument's stream tables: what its plugin ships as ``streams.yaml``.

The tables are generated once from the facility's configuration facts
(``scripts/tables_from_facts.py``) and then kept with the plugin, so that a
production topic or source name is changed in one reviewed data file. They
hold only what livedata needs: per bank its production and dev (topic, source
names), detector-number range and layout; per monitor and log stream its
(topic, source name); the dated geometry files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import yaml

from ess.livedata.core.instrument import GeometryFile, GeometryFiles


@dataclass(frozen=True)
class Route:
    """Where a stream arrives: a Kafka topic and the source names on it."""

    topic: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class BankTable:
    """One detector bank: routes, detector numbers ``first .. first+count-1``,
    and ``layout``, the sizes the flat detector numbers fold into (in order)."""

    name: str
    title: str
    prod: Route
    dev: Route
    first: int
    count: int
    layout: dict[str, int]
    numbers_from_file: bool
    """True if live detector numbers come from the geometry file and the
    range is only what fakes and stand-in geometry use."""
    groups: tuple[str, ...] = ()
    """NXdetector groups holding the bank in the geometry file; empty: one
    group named like the bank."""
    group_dims: tuple[str, ...] = ()
    """Layout dims the groups enumerate (slowest first), each group holding
    the other dims: BIFROST's 45 triplets are arc x channel."""

    @property
    def nexus_groups(self) -> tuple[str, ...]:
        return self.groups or (self.name,)

    @property
    def last(self) -> int:
        return self.first + self.count - 1


@dataclass(frozen=True)
class MonitorTable:
    name: str
    title: str
    prod: Route
    dev: Route


@dataclass(frozen=True)
class LogTable:
    """An f144 stream; in dev it arrives on the dev log topic under ``name``."""

    name: str
    topic: str
    source: str
    unit: str | None


@dataclass(frozen=True)
class EssTables:
    """Everything an ESS instrument's ``streams.yaml`` holds."""

    name: str
    title: str
    peak_event_rate: float
    """Events per second at the instrument's peak (all banks)."""
    dev_log_topic: str
    banks: tuple[BankTable, ...]
    monitors: tuple[MonitorTable, ...]
    logs: tuple[LogTable, ...]
    geometry: GeometryFiles | None

    def bank(self, name: str) -> BankTable:
        for bank in self.banks:
            if bank.name == name:
                return bank
        raise KeyError(f"{self.name}: no bank {name!r}")


def load_tables(package: str, resource: str = "streams.yaml") -> EssTables:
    """The tables shipped as ``resource`` inside ``package``."""
    text = files(package).joinpath(resource).read_text(encoding="utf-8")
    return parse_tables(yaml.safe_load(text))


def parse_tables(raw: dict[str, Any]) -> EssTables:
    """Tables from the parsed YAML document."""
    return EssTables(
        name=raw["name"],
        title=raw["title"],
        peak_event_rate=float(raw["peak_event_rate"]),
        dev_log_topic=raw["dev_log_topic"],
        banks=tuple(_bank(b) for b in raw["detectors"]),
        monitors=tuple(
            MonitorTable(m["name"], m["title"], _route(m["prod"]), _route(m["dev"]))
            for m in raw["monitors"]
        ),
        logs=tuple(
            LogTable(g["name"], g["topic"], g["source"], g.get("unit"))
            for g in raw["logs"]
        ),
        geometry=_geometry(raw["geometry"]) if raw.get("geometry") else None,
    )


def _route(raw: dict[str, Any]) -> Route:
    return Route(raw["topic"], tuple(raw["sources"]))


def _bank(raw: dict[str, Any]) -> BankTable:
    numbers = raw["detector_number"]
    return BankTable(
        name=raw["name"],
        title=raw["title"],
        prod=_route(raw["prod"]),
        dev=_route(raw["dev"]),
        first=int(numbers["first"]),
        count=int(numbers["count"]),
        layout={str(k): int(v) for k, v in raw["layout"].items()},
        numbers_from_file=bool(numbers["from_geometry_file"]),
        groups=tuple(raw.get("geometry_groups", {}).get("names", ())),
        group_dims=tuple(raw.get("geometry_groups", {}).get("dims", ())),
    )


def _geometry(raw: dict[str, Any]) -> GeometryFiles:
    return GeometryFiles(
        files=tuple(
            GeometryFile(
                name=f["name"],
                valid_from=datetime.fromisoformat(f["valid_from"]).replace(tzinfo=UTC),
                checksum=f"md5:{f['md5']}",
            )
            for f in raw["files"]
        ),
        registry_url=raw["registry_url"],
    )
