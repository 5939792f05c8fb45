"""Load time and memory of a 1.5 M-pixel NeXus geometry file.

Writes a file with six 500 x 500 banks (1.5 M pixels; offsets rotated and
translated by a depends_on chain, as ``livedata-testing`` writes them), then
loads it in fresh processes, as a service does once at start:

- ``read``: :func:`~ess.livedata.core.nexus_geometry.read_nexus_geometry`;
- ``located``: :func:`~ess.livedata.core.nexus_geometry.instrument_geometry`,
  i.e. also choosing the file by date and verifying its sha256 checksum.

Time is the median over ``--repeats`` processes; memory is the peak RSS of
the process during the load minus its RSS just before (after imports).

    .venv/bin/python benchmarks/nexus_geometry_load.py [--repeats 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from ess.livedata.testing.nexus_files import Bank, Component, write_nexus_file

SIDE = 500
BANKS = [
    Bank(
        f"bank_{i}",
        first_id=1 + i * SIDE * SIDE,
        shape=(SIDE, SIDE),
        pixel_size=0.004,
        rotation_deg=-75.0 + 30.0 * i,
        direction=(0.3 * (i - 2.5), 0.0, 1.0),
        distance_mm=3000.0 + 200.0 * i,
    )
    for i in range(6)
]
MONITORS = [Component("monitor_1", (0.0, 0.0, -5.0)), Component("monitor_2", (0, 0, 9))]

CHILD = r"""
import json, os, resource, sys, time
from datetime import UTC, datetime
from pathlib import Path
import psutil
from ess.livedata.core.instrument import GeometryFile, GeometryFiles
from ess.livedata.core.nexus_geometry import instrument_geometry, read_nexus_geometry
mode, path, checksum = sys.argv[1:]
before = psutil.Process().memory_info().rss
started = time.perf_counter()
if mode == "read":
    geometry = read_nexus_geometry(Path(path))
else:
    os.environ["LIVEDATA_DATA_DIR"] = str(Path(path).parent)
    valid = datetime(2020, 1, 1, tzinfo=UTC)
    files = GeometryFiles(files=(GeometryFile(Path(path).name, valid, checksum),))
    geometry = instrument_geometry(files)
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
pixels = sum(d.size for d in geometry.detectors.values())
print(json.dumps({"s": elapsed, "peak_delta": peak - before, "pixels": pixels}))
"""


def load_once(mode: str, path: Path, checksum: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path), checksum],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write the file here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or Path(scratch)
        path = directory / "geometry_1p5M.nxs"
        checksum = write_nexus_file(path, BANKS, MONITORS)
        size_mb = os.path.getsize(path) / 1e6
        pixels = sum(b.shape[0] * b.shape[1] for b in BANKS)
        print(f"file: {pixels:,} pixels in {len(BANKS)} banks, {size_mb:.0f} MB\n")
        print("| load | pixels | median time | min | max | peak RSS increase |")
        print("|---|---:|---:|---:|---:|---:|")
        for mode in ("read", "located"):
            runs = [load_once(mode, path, checksum) for _ in range(args.repeats)]
            times = [r["s"] for r in runs]
            memory = statistics.median(r["peak_delta"] for r in runs) / 1e6
            print(
                f"| {mode} | {runs[0]['pixels']:,} | {statistics.median(times):.2f} s"
                f" | {min(times):.2f} s | {max(times):.2f} s | {memory:.0f} MB |"
            )


if __name__ == "__main__":
    main()
