"""A BIFROST-shaped NeXus file, for tests and benchmarks.

What essspectroscopy reads of a BIFROST file, at the facility's paths: the
45 triplets ``<n>_channel_<c>_<a>_triplet`` (3 tubes x 100 pixels, detector
numbers in ``arc x tube x channel x pixel`` order), each naming its
analyser ``NXcrystal`` in ``inputs``; the tank rotation
``detector_tank_angle/transformations/detector_tank_angle_r0`` (an
``NXlog``) that triplets, analysers and the elastic monitor depend on; the
sample rotation ``114_sample_stack/rotation_stage``; the moderator, the
sample and the five monitors; optionally a run as ``NXevent_data`` per
triplet and on the normalisation monitor.

The secondary spectrometer is idealised: analysers of pyrolytic graphite
(002) in the horizontal plane, each arc's set to reflect its nominal final
energy down to its three tubes, which run across the channel.

Writing needs ``ess.livedata.testing`` (h5py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

ARC_ENERGIES_MEV = (2.7, 3.2, 3.8, 4.4, 5.0)
CHANNELS = 9
TUBES = 3
PIXELS = 100
SOURCE_Z = -162.0
"""Moderator to sample (m)."""
NORMALIZATION_MONITOR_Z = -0.5
MONITOR_Z = {
    "psc_monitor": -155.0,
    "overlap_monitor": -150.0,
    "bandwidth_monitor": -80.0,
    "normalization_monitor": NORMALIZATION_MONITOR_Z,
}
PG002_D_ANGSTROM = 3.355
CHANNEL_STEP_DEG = 10.0
TANK = "/entry/instrument/detector_tank_angle/transformations/detector_tank_angle_r0"


def triplet_name(arc: int, channel: int) -> str:
    """The facility's group name of a triplet (arc, channel from 1)."""
    return f"{123 + 4 * (arc - 1) + 21 * (channel - 1)}_channel_{channel}_{arc}_triplet"


def triplet_names() -> list[str]:
    return [
        triplet_name(arc, channel)
        for arc in range(1, 6)
        for channel in range(1, CHANNELS + 1)
    ]


def triplet_detector_numbers(arc: int, channel: int) -> np.ndarray:
    """Ids (tube, pixel) of a triplet: 1..13500 run over (arc, tube,
    channel, pixel), so a triplet's tubes are 900 ids apart."""
    tube = np.arange(TUBES)[:, None]
    pixel = np.arange(PIXELS)[None, :]
    first = 1 + (arc - 1) * TUBES * CHANNELS * PIXELS + (channel - 1) * PIXELS
    return (first + tube * CHANNELS * PIXELS + pixel).astype(np.int32)


@dataclass(frozen=True)
class Run:
    """Detector events to write: pulses and mean counts per pixel."""

    pulses: int
    mean_counts: float
    seed: int = 0


def write_bifrost_file(
    path: Path,
    *,
    tank_angle_deg: float = 10.0,
    sample_angle_deg: float = 30.0,
    run: Run | None = None,
) -> Path:
    """Write the file; events only if ``run`` is given."""
    import h5py

    from ess.livedata.testing.nexus_files import (
        nx_dataset,
        nx_group,
        place_at,
        write_event_data,
    )

    rng = np.random.default_rng(0 if run is None else run.seed)
    with h5py.File(path, "w") as f:
        entry = nx_group(f, "entry", "NXentry")
        instrument = nx_group(entry, "instrument", "NXinstrument")
        _rotation_log(
            nx_group(
                nx_group(instrument, "detector_tank_angle", "NXpositioner"),
                "transformations",
                "NXtransformations",
            ),
            "detector_tank_angle_r0",
            tank_angle_deg,
        )
        stack = nx_group(instrument, "114_sample_stack", "NXcollection")
        _rotation_log(stack, "rotation_stage", sample_angle_deg)
        for arc in range(1, 6):
            for channel in range(1, CHANNELS + 1):
                group = _write_triplet(instrument, arc, channel)
                if run is not None:
                    counts = rng.poisson(run.mean_counts, TUBES * PIXELS)
                    ids = np.repeat(triplet_detector_numbers(arc, channel), counts)
                    write_event_data(group, rng.permutation(ids), run.pulses, rng)
        for name, z in MONITOR_Z.items():
            monitor = nx_group(instrument, name, "NXmonitor")
            place_at(monitor, (0.0, 0.0, z))
            if name == "normalization_monitor":
                _monitor_histogram(monitor, rng)
        elastic = nx_group(instrument, "elastic_monitor", "NXmonitor")
        _chain(elastic, ("location", 0.8, "m", "translation", (0, 0, 1)), after=TANK)
        place_at(nx_group(instrument, "moderator", "NXmoderator"), (0, 0, SOURCE_Z))
        place_at(nx_group(entry, "sample", "NXsample"), (0.0, 0.0, 0.0))
        nx_dataset(entry, "start_time", "2026-01-01T00:00:00Z")
    return path


def _rotation_log(parent, name: str, angle_deg: float) -> None:
    """A rotation about the vertical as an ``NXlog`` with one reading, taken
    before the run (essspectroscopy looks angles up by pulse time)."""
    from ess.livedata.testing.nexus_files import nx_dataset, nx_group

    log = nx_group(parent, name, "NXlog")
    nx_dataset(log, "value", [angle_deg], "deg")
    time = nx_dataset(log, "time", [0], "ns")
    time.attrs["start"] = "1970-01-01T00:00:00Z"
    log.attrs.update(
        transformation_type="rotation", vector=(0.0, 1.0, 0.0), depends_on="."
    )


def _monitor_histogram(monitor, rng: np.random.Generator) -> None:
    """The normalisation monitor's time-of-arrival histogram, as the
    simulated runs hold it (essspectroscopy normalises by its shape)."""
    from ess.livedata.testing.nexus_files import nx_dataset, nx_group

    edges = np.linspace(0.0, 1e9 / 14, 701)
    middle = (edges[:-1] + edges[1:]) / 2
    counts = rng.poisson(1000 * (1.2 + np.sin(middle / edges[-1] * np.pi)))
    histogram = nx_group(monitor, "histogram", "NXdata")
    nx_dataset(histogram, "data", counts.astype(np.float64), "counts")
    nx_dataset(histogram, "frame_time", edges, "ns")
    histogram.attrs.update(signal="data", axes=["frame_time"])


def _write_triplet(instrument, arc: int, channel: int):
    """A triplet, its tubes across the channel, fed by its analyser."""
    from ess.livedata.testing.nexus_files import nx_dataset, nx_group

    two_theta = 2 * np.arcsin(
        _wavelength(ARC_ENERGIES_MEV[arc - 1]) / (2 * PG002_D_ANGSTROM)
    )
    sample_analyser = 1.1 + 0.1 * (arc - 1)
    outgoing = np.array([0.0, -np.sin(two_theta), np.cos(two_theta)])
    along = np.linspace(-0.125, 0.125, PIXELS)
    positions = np.empty((TUBES, PIXELS, 3))
    for tube in range(TUBES):
        centre = np.array([0.0, 0.0, sample_analyser]) + (0.6 + 0.025 * tube) * outgoing
        positions[tube] = centre + along[:, None] * np.array([1.0, 0.0, 0.0])
    group = nx_group(instrument, triplet_name(arc, channel), "NXdetector")
    nx_dataset(group, "detector_number", triplet_detector_numbers(arc, channel))
    for i, axis in enumerate("xyz"):
        nx_dataset(group, f"{axis}_pixel_offset", positions[..., i], "m")
    angle = CHANNEL_STEP_DEG * (channel - 5)
    channel_frame = _chain(
        group, ("channel", angle, "deg", "rotation", (0, 1, 0)), after=TANK
    )
    analyser = f"analyser_{channel}_{arc}"
    group.attrs["inputs"] = analyser  # the filewriter writes one input as a str
    crystal = nx_group(instrument, analyser, "NXcrystal")
    nx_dataset(crystal, "d_spacing", PG002_D_ANGSTROM, "angstrom")
    _chain(
        crystal,
        ("orientation", 90.0, "deg", "rotation", (0, 0, 1)),
        ("location", sample_analyser, "m", "translation", (0, 0, 1)),
        after=channel_frame,
    )
    return group


def _wavelength(energy_mev: float) -> float:
    """Neutron wavelength (Å) of ``energy_mev``."""
    return 9.04456 / np.sqrt(energy_mev)


def _chain(group, *steps, after: str) -> str:
    """Write ``steps`` (name, value, unit, type, vector) as a chain, the
    last depending on ``after``; ``group`` depends on the first. Returns
    the last step's path."""
    from ess.livedata.testing.nexus_files import nx_dataset, nx_group

    transformations = nx_group(group, "transformations", "NXtransformations")
    names = [step[0] for step in steps]
    for i, (name, value, unit, kind, vector) in enumerate(steps):
        dataset = nx_dataset(transformations, name, value, unit)
        dataset.attrs.update(
            transformation_type=kind,
            vector=np.asarray(vector, float),
            depends_on=names[i + 1] if i + 1 < len(steps) else after,
        )
    group["depends_on"] = f"{transformations.name}/{names[0]}"
    return f"{transformations.name}/{names[-1]}"
