"""Time to compute a wavelength lookup table from a chopper setting.

``compute_lookup_table`` (essreduce ``GenericUnwrapWorkflow`` in simulation
mode, one ``tof`` pulse through the cascade) for three settings:

- ``small``: one band chopper, flight paths 8-12 m, 1e5 neutrons;
- ``dream 5-30 m``: DREAM's five choppers, the distance grid of production's
  ``wavelength_lut`` workflow (5-30 m, 0.1 m, 250 us), 1e6 neutrons;
- ``dream 5-80 m``: the same out to the farthest DREAM pixels (sample at
  76.55 m), i.e. every monitor and bank.

DREAM's chopper names and positions come from the facts file
(``chopper_positions_in_grid_template``); their disks (slits, frequencies,
phases of the default ``high_flux_BC240`` configuration) are not in the facts
(production reads them from the geometry file), so they come from
essdiffraction's ``ess.dream.beamline.choppers``, checked against the facts'
positions. Each setting is computed ``--repeats`` times into a fresh cache
directory (``computed``; wall and CPU time of the process, all threads),
then read back by a new cache (``disk``).

    uv pip install 'packages/livedata-services[reduction]' essdiffraction
    python benchmarks/lookup_table_compute.py FACTS/instruments/dream.yaml
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from ess.dream.beamline import InstrumentConfiguration, choppers
from ess.livedata.reduction.chopper_setting import (
    DiskChopperSetting,
    LookupTableSetting,
)
from ess.livedata.reduction.lookup_table import disk_chopper_setting
from ess.livedata.reduction.lookup_table_cache import LookupTableCache

ESSDIFFRACTION_NAMES = {
    "psc1": "pulse_shaping_chopper1",
    "psc2": "pulse_shaping_chopper2",
    "oc": "overlap_chopper",
    "bcc": "band_chopper",
    "t0": "T0_chopper",
}
SMALL = LookupTableSetting(
    choppers=(
        DiskChopperSetting(
            name="band",
            distance_m=6.0,
            frequency_hz=14.0,
            phase_deg=30.0,
            slit_begin_deg=(0.0,),
            slit_end_deg=(120.0,),
            radius_m=0.3,
            slit_height_m=0.1,
        ),
    ),
    ltotal_min_m=8.0,
    ltotal_max_m=12.0,
    neutrons=100_000,
)


def dream_choppers(facts_file: Path) -> tuple[DiskChopperSetting, ...]:
    """DREAM's cascade: names and positions from the facts, disks from
    essdiffraction (default configuration high_flux_BC240)."""
    facts = yaml.safe_load(facts_file.read_text())
    positions = facts["chopper_positions_in_grid_template"]["values"]
    disks = choppers(InstrumentConfiguration.high_flux_BC240)
    settings = tuple(
        disk_chopper_setting(ESSDIFFRACTION_NAMES[key], disk)
        for key, disk in disks.items()
    )
    names = sorted(chopper["name"] for chopper in facts["choppers"])
    if sorted(s.name for s in settings) != names:
        raise SystemExit(f"facts choppers {names} differ from essdiffraction's")
    if sorted(s.distance_m for s in settings) != sorted(positions):
        raise SystemExit(f"facts chopper positions {positions} differ")
    return settings


def measure(name: str, setting: LookupTableSetting, repeats: int) -> str:
    computed, cpu = [], []
    with tempfile.TemporaryDirectory() as directory:
        for _ in range(repeats):
            for file in Path(directory).iterdir():
                file.unlink()
            start = time.process_time()
            computed.append(LookupTableCache(Path(directory)).get(setting))
            cpu.append(time.process_time() - start)
        loaded = LookupTableCache(Path(directory)).get(setting)
        size = LookupTableCache(Path(directory)).path(setting).stat().st_size
    assert loaded.origin == "disk"
    assert {c.origin for c in computed} == {"computed"}
    seconds = [c.seconds for c in computed]
    sizes = dict(computed[0].table.array.sizes)
    return (
        f"| {name} | {len(setting.choppers)} | {setting.neutrons:,} "
        f"| {sizes['distance']} x {sizes['event_time_offset']} "
        f"| {statistics.median(seconds):.2f} s | {min(seconds):.2f} | "
        f"{max(seconds):.2f} | {statistics.median(cpu):.2f} s | {loaded.seconds * 1000:.0f} ms | {size / 1e6:.1f} MB |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("facts", type=Path, help="the DREAM facts file (dream.yaml)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    dream = LookupTableSetting(
        choppers=dream_choppers(args.facts), ltotal_min_m=5.0, ltotal_max_m=30.0
    )
    print(
        "| setting | choppers | neutrons | table (distance x eto) | median compute "
        "| min | max | median CPU | disk load | file |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    print(measure("small", SMALL, args.repeats))
    print(measure("dream 5-30 m", dream, args.repeats))
    wide = dataclasses.replace(dream, ltotal_max_m=80.0)
    print(measure("dream 5-80 m", wide, args.repeats))


if __name__ == "__main__":
    main()
