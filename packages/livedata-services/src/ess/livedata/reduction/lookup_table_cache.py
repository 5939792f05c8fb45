"""Lookup tables cached per chopper setting, in memory and on disk.

Computing a table takes seconds (see benchmarks/RESULTS.md), longer than a
1 s window, and chopper settings change rarely, so each distinct setting is
computed once: kept in memory for the process and written as HDF5 under
``LIVEDATA_LOOKUP_TABLE_DIR`` (default ``~/.cache/livedata/lookup-tables``)
for restarts and the other workers, named by the setting's hash.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ess.reduce.unwrap import LookupTable
from ess.reduce.unwrap.lut import load_lookup_table_from_file

from .chopper_setting import LookupTableSetting
from .lookup_table import compute_lookup_table

CACHE_DIR_VARIABLE = "LIVEDATA_LOOKUP_TABLE_DIR"
logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$LIVEDATA_LOOKUP_TABLE_DIR``, else the per-user cache."""
    if configured := os.environ.get(CACHE_DIR_VARIABLE):
        return Path(configured)
    return Path.home() / ".cache" / "livedata" / "lookup-tables"


@dataclass(frozen=True)
class CachedTable:
    """A table, where it came from and how long getting it took."""

    table: LookupTable
    origin: Literal["memory", "disk", "computed"]
    seconds: float


class LookupTableCache:
    """Gets the table of a setting: from memory, else disk, else computed."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory or default_cache_dir()
        self._tables: dict[str, LookupTable] = {}

    def path(self, setting: LookupTableSetting) -> Path:
        return self._directory / f"{setting.key}.h5"

    def get(self, setting: LookupTableSetting) -> CachedTable:
        start = time.perf_counter()
        key = setting.key
        if key in self._tables:
            return CachedTable(self._tables[key], "memory", _since(start))
        path = self.path(setting)
        if path.is_file():
            # Typed as its pipeline's domain type; a plain path is what it reads.
            table: LookupTable = load_lookup_table_from_file(str(path))  # type: ignore[arg-type]
            origin: Literal["disk", "computed"] = "disk"
        else:
            table = compute_lookup_table(setting)
            self._write(table, path)
            origin = "computed"
        self._tables[key] = table
        cached = CachedTable(table, origin, _since(start))
        logger.info(
            "lookup table %s %s in %.2f s (%d choppers, %d neutrons, %s)",
            key,
            origin,
            cached.seconds,
            len(setting.choppers),
            setting.neutrons,
            path,
        )
        return cached

    @staticmethod
    def _write(table: LookupTable, path: Path) -> None:
        """Write-then-rename, so a reader never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.h5")
        table.save_hdf5(partial)
        partial.replace(path)


def _since(start: float) -> float:
    return time.perf_counter() - start
