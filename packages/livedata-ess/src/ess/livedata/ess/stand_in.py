"""Stand-in geometry files: an ESS instrument's banks with their fake ranges.

Real ESS geometry files are downloaded from the facility's registry; tests
and offline demos cannot. A stand-in file has every bank that reads its
pixels from the geometry file (:class:`~.geometry.EssNexusDetector`), with
the stated fake detector numbers laid out as its :class:`~.geometry.StandIn`
says, plus the source and sample. Services and fakes use it when
``LIVEDATA_GEOMETRY_FILE`` names it::

    python -m ess.livedata.ess.stand_in --instrument dream /tmp/dream.nxs
    LIVEDATA_GEOMETRY_FILE=/tmp/dream.nxs livedata demo --instrument dream

Writing needs h5py (the ``stand-in`` extra).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ess.livedata.config import ConfigError
from ess.livedata.core.cli import base_parser, instrument_from_args, run_cli
from ess.livedata.core.geometry_files import OVERRIDE_VARIABLE
from ess.livedata.core.instrument import Instrument
from ess.livedata.core.plugins import LoadedInstrument, load_instrument

from .geometry import EssNexusDetector, ShapedPlacement
from .tables import BankTable


def write_stand_in_geometry(instrument: Instrument, path: Path) -> Path:
    """Write the stand-in file of ``instrument`` to ``path``; returns ``path``."""
    try:
        from ess.livedata.testing.nexus_files import Component, write_nexus_file
    except ImportError:
        raise ConfigError(
            "stand-in geometry needs the stand-in extra: livedata-ess[stand-in]"
        ) from None

    banks = []
    for bank in instrument.detectors:
        spec = bank.make_geometry
        if not isinstance(spec, EssNexusDetector):
            continue
        if spec.table is None or spec.stand_in is None:
            raise ConfigError(f"bank {bank.name} has no stand-in description")
        # Shaped like the layout, as (multi-dim) NeXus files are; the bank
        # flattens it back to the layout's order.
        table = spec.table
        shape = tuple(table.layout.values())
        if math.prod(shape) != table.count:
            raise ConfigError(
                f"bank {table.name}: layout {table.layout} does not hold its "
                f"{table.count} detector numbers"
            )
        numbers = np.arange(table.first, table.last + 1, dtype=np.int32)
        positions = spec.stand_in.positions(table)
        cylinder = (
            spec.stand_in.pixel_cylinder
            if isinstance(spec.stand_in, ShapedPlacement)
            else None
        )
        banks += _groups(
            table, numbers.reshape(shape), positions.reshape(*shape, 3), cylinder
        )
    if not banks:
        raise ConfigError(f"{instrument.name}: no bank reads a geometry file")
    write_nexus_file(
        path,
        banks,
        monitors=[Component(m.name, m.position) for m in instrument.monitors],
        source=Component("source", instrument.source_position),
        sample=Component("sample", instrument.sample_position),
    )
    return path


@contextmanager
def on_stand_in_geometry(name: str, directory: Path) -> Iterator[LoadedInstrument]:
    """The instrument ``name``; if it reads geometry files, it and the
    processes started meanwhile use a stand-in file written to ``directory``
    (``LIVEDATA_GEOMETRY_FILE``). For tests."""
    instrument = load_instrument(name).instrument
    if instrument.geometry_files is None:
        yield load_instrument(name)
        return
    path = write_stand_in_geometry(instrument, directory / f"{name}.nxs")
    previous = os.environ.get(OVERRIDE_VARIABLE)
    os.environ[OVERRIDE_VARIABLE] = str(path)
    try:
        yield load_instrument(name)
    finally:
        if previous is None:
            del os.environ[OVERRIDE_VARIABLE]
        else:
            os.environ[OVERRIDE_VARIABLE] = previous


def _groups(
    table: BankTable, numbers: np.ndarray, positions: np.ndarray, cylinder: object
) -> list:
    """The bank's NXdetector groups: one shaped like the layout, or one per
    index of ``table.group_dims`` holding the other dims."""
    from ess.livedata.testing.nexus_files import PixelBank

    if not table.group_dims:
        return [
            PixelBank(
                table.nexus_groups[0], numbers, positions, pixel_cylinder=cylinder
            )
        ]
    names = list(table.layout)
    front = [names.index(d) for d in table.group_dims]
    numbers = np.moveaxis(numbers, front, range(len(front)))
    positions = np.moveaxis(positions, front, range(len(front)))
    count = len(table.nexus_groups)
    numbers = numbers.reshape(count, *numbers.shape[len(front) :])
    positions = positions.reshape(count, *positions.shape[len(front) :])
    return [
        PixelBank(name, n, p, pixel_cylinder=cylinder)
        for name, n, p in zip(table.nexus_groups, numbers, positions, strict=True)
    ]


def main() -> None:
    parser = base_parser(
        "python -m ess.livedata.ess.stand_in",
        "Write a stand-in geometry file with the instrument's fake detector ranges.",
    )
    parser.add_argument("output", type=Path, help="the NeXus file to write")
    args = parser.parse_args()
    run_cli(
        lambda: print(
            write_stand_in_geometry(instrument_from_args(args).instrument, args.output)
        )
    )


if __name__ == "__main__":
    main()
