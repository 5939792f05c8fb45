"""Building an ESS instrument from its tables plus what only code can say.

The tables (``streams.yaml``) give routes, ranges, layouts, logs and
geometry files. The plugin adds, per bank, its views and its stand-in
placement, and the instrument's fake data shapes and positions.
:class:`EssInstrument` joins the two; a plugin's hooks call its methods.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ess.livedata.core.fake_shapes import FakeDataShapes
from ess.livedata.core.instrument import (
    DetectorBank,
    GeometricView,
    Instrument,
    LogicalView,
    LogStream,
    Monitor,
)
from ess.livedata.core.streams import StreamMapping, Topology

from .geometry import FLAT_DIM, EssNexusDetector, PlacedDetector, Placement
from .mapping import ess_stream_mapping
from .tables import BankTable, EssTables

View = LogicalView | GeometricView
MakeGeometry = EssNexusDetector | PlacedDetector


@dataclass(frozen=True)
class BankPlan:
    """What the plugin says about one bank beyond the tables."""

    views: tuple[View, ...]
    stand_in: Placement
    """Where the bank's pixels sit in the stand-in file; for an instrument
    without geometry files, where they sit."""


@dataclass(frozen=True)
class EssInstrument:
    tables: EssTables
    banks: Mapping[str, BankPlan]
    fake_shapes: FakeDataShapes
    source_position: tuple[float, float, float] = (0.0, 0.0, -25.0)
    monitor_positions: Mapping[str, tuple[float, float, float]] = field(
        default_factory=dict
    )

    def instrument(self) -> Instrument:
        tables = self.tables
        missing = {b.name for b in tables.banks} ^ set(self.banks)
        if missing:
            raise ValueError(f"{tables.name}: banks without plan or table {missing}")
        return Instrument(
            name=tables.name,
            title=tables.title,
            detectors=tuple(self._bank(b) for b in tables.banks),
            monitors=tuple(
                Monitor(
                    m.name,
                    m.prod.sources[0],
                    self.monitor_positions.get(m.name, (0.0, 0.0, 0.0)),
                )
                for m in tables.monitors
            ),
            logs=tuple(
                LogStream(g.name, g.source, g.unit, title=g.name) for g in tables.logs
            ),
            source_position=self.source_position,
            geometry_files=tables.geometry,
        )

    def _bank(self, table: BankTable) -> DetectorBank:
        plan = self.banks[table.name]
        return DetectorBank(
            name=table.name,
            source_name=table.prod.sources[0],
            make_geometry=self._geometry(table, plan),
            views=plan.views,
        )

    def _geometry(self, table: BankTable, plan: BankPlan) -> MakeGeometry:
        """Read from the geometry file; without files, placed in code (only
        banks whose real numbers are in the tables)."""
        if self.tables.geometry is not None:
            return EssNexusDetector(
                self.tables.geometry,
                table.nexus_groups[0],
                table=table,
                stand_in=plan.stand_in,
            )
        if table.numbers_from_file:
            raise ValueError(
                f"{self.tables.name}: bank {table.name} takes its numbers from a "
                "geometry file, but none is declared"
            )
        return PlacedDetector(table, plan.stand_in)

    def fake_data_shapes(self) -> FakeDataShapes:
        """The plugin's shapes, with each bank's share of the fake events in
        proportion to its pixels unless the plugin gives shares."""
        if self.fake_shapes.detector_share:
            return self.fake_shapes
        shares = {bank.name: float(bank.count) for bank in self.tables.banks}
        return replace(self.fake_shapes, detector_share=shares)

    def stream_mapping(self, topology: Topology) -> StreamMapping:
        return ess_stream_mapping(self.tables, topology)


def layout_view(
    table: BankTable,
    name: str,
    image: tuple[str | tuple[str, ...], str | tuple[str, ...]],
    title: str = "",
) -> LogicalView:
    """A 2-D logical view of ``table``'s layout: ``image`` names its (y, x)
    dims, each one layout dim or adjacent dims merged (slowest first); all
    other layout dims are summed."""
    groups = [(d,) if isinstance(d, str) else tuple(d) for d in image]
    merged = {"_".join(g): g for g in groups}
    sizes: dict[str, int] = {}
    dims = list(table.layout)
    i = 0
    while i < len(dims):
        group = next((g for g in groups if g[0] == dims[i]), None)
        if group is None:
            sizes[dims[i]] = table.layout[dims[i]]
            i += 1
            continue
        if tuple(dims[i : i + len(group)]) != group:
            raise ValueError(f"{table.name}: {group} are not adjacent in {dims}")
        sizes["_".join(group)] = math.prod(table.layout[d] for d in group)
        i += len(group)
    missing = [g for g in merged if g not in sizes]
    if missing:
        raise ValueError(f"{table.name}: {missing} not in layout {table.layout}")
    return LogicalView(
        name=name,
        title=title,
        fold={FLAT_DIM: sizes},
        transpose=tuple(merged),
        sum=tuple(d for d in sizes if d not in merged),
    )


def binned_view(
    table: BankTable,
    name: str,
    dims: tuple[str, str],
    image: tuple[str, str],
    size: int,
    title: str = "",
) -> LogicalView:
    """A logical view of a two-dim layout downsampled to ``size`` x ``size``
    by summing square bins of pixels (cameras too fine to show live):
    ``dims`` renames the layout's dims (in order), ``image`` is (y, x)."""
    sizes = list(table.layout.values())
    if len(sizes) != 2 or sizes[0] != sizes[1] or sizes[0] % size:
        raise ValueError(f"{table.name}: {table.layout} is no square of {size}")
    step = sizes[0] // size
    fold: dict[str, int] = {}
    for dim in dims:
        fold |= {dim: size, f"{dim}_bin": step}
    return LogicalView(
        name=name,
        title=title,
        fold={FLAT_DIM: fold},
        transpose=image,
        sum=tuple(f"{dim}_bin" for dim in dims),
    )


def is_ess_instrument(instrument: Instrument) -> bool:
    """Built from ESS stream tables: its banks read the geometry file, or
    are placed in code where no file is registered."""
    return any(
        isinstance(b.make_geometry, EssNexusDetector | PlacedDetector)
        for b in instrument.detectors
    )
