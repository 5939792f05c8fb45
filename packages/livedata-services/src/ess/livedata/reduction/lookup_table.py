"""essreduce's wavelength lookup table, computed from choppers with ``tof``.

The table maps (flight path, ``event_time_offset``) to wavelength, and from
it time of flight, for every event of a detector or monitor. essreduce builds
it from a ``tof`` simulation of one source pulse through the chopper cascade;
its own simulation step downloads the ESS pulse profile, which a facility
host may not reach. This step instead samples the ESS moderator's pulse
profile that ``tof`` ships (McStas ESS butterfly model: time and wavelength
distributions), so the table is computed, never downloaded. The rest is
essreduce's ``GenericUnwrapWorkflow`` in simulation mode, unchanged.
"""

from __future__ import annotations

import scipp as sc
import scippnexus as snx
import tof

# scippneutron's lazy-loading stub re-exports it without marking it public.
from scippneutron.chopper import DiskChopper  # type: ignore[attr-defined]
from tof.facilities.ess_pulse.pulse_profile import pulse as ess_pulse

from ess.reduce.nexus.types import DiskChoppers, SampleRun
from ess.reduce.unwrap import (
    BeamlineComponentReading,
    DistanceResolution,
    FrameCompatibleDiskChoppers,
    GenericUnwrapWorkflow,
    LookupTable,
    LtotalRange,
    NumberOfSimulatedNeutrons,
    PulsePeriod,
    PulseStride,
    SimulationMaxWavelength,
    SimulationMinWavelength,
    SimulationResults,
    SimulationSeed,
    TimeResolution,
    WavelengthLutMode,
)

from .chopper_setting import DiskChopperSetting, LookupTableSetting


def disk_chopper(setting: DiskChopperSetting) -> DiskChopper:
    """The scippneutron chopper of ``setting``, its axle on the beam (z)."""
    return DiskChopper(
        frequency=sc.scalar(setting.frequency_hz, unit="Hz"),
        beam_position=sc.scalar(setting.beam_position_deg, unit="deg"),
        phase=sc.scalar(setting.phase_deg, unit="deg"),
        axle_position=sc.vector([0.0, 0.0, setting.distance_m], unit="m"),
        slit_begin=sc.array(
            dims=["cutout"], values=list(setting.slit_begin_deg), unit="deg"
        ),
        slit_end=sc.array(
            dims=["cutout"], values=list(setting.slit_end_deg), unit="deg"
        ),
        slit_height=sc.scalar(setting.slit_height_m, unit="m"),
        radius=sc.scalar(setting.radius_m, unit="m"),
    )


def disk_chopper_setting(name: str, chopper: DiskChopper) -> DiskChopperSetting:
    """The setting of a scippneutron chopper (e.g. from an ESS package's
    beamline description), its distance the axle's z."""
    if chopper.radius is None or chopper.slit_height is None:
        raise ValueError(f"chopper {name!r} has no radius or slit height")
    return DiskChopperSetting(
        name=name,
        distance_m=chopper.axle_position.fields.z.to(unit="m").value,
        frequency_hz=chopper.frequency.to(unit="Hz").value,
        phase_deg=chopper.phase.to(unit="deg").value,
        slit_begin_deg=tuple(map(float, chopper.slit_begin.to(unit="deg").values)),
        slit_end_deg=tuple(map(float, chopper.slit_end.to(unit="deg").values)),
        radius_m=chopper.radius.to(unit="m").value,
        slit_height_m=chopper.slit_height.to(unit="m").max().value,
        beam_position_deg=chopper.beam_position.to(unit="deg").value,
    )


def _reading(events: sc.DataArray, distance: sc.Variable) -> BeamlineComponentReading:
    """The neutrons of a ``tof`` reading that got through, flat."""
    events = events.flatten(to="event")
    passed = sc.ones(sizes=events.sizes, dtype=bool)
    for mask in {"blocked_by_others", "blocked_by_me"} & set(events.masks):
        passed &= ~events.masks[mask]
    events = events[passed]
    time = "toa" if "toa" in events.coords else "birth_time"
    return BeamlineComponentReading(
        time_of_arrival=events.coords[time],
        wavelength=events.coords["wavelength"],
        weight=events.data,
        distance=distance,
    )


def simulate_ess_pulse_through_choppers(
    choppers: FrameCompatibleDiskChoppers[SampleRun],
    pulse_period: PulsePeriod,
    neutrons: NumberOfSimulatedNeutrons,
    pulse_stride: PulseStride[SampleRun],
    seed: SimulationSeed,
    wmin: SimulationMinWavelength,
    wmax: SimulationMaxWavelength,
) -> SimulationResults[SampleRun]:
    """``tof`` simulation of the bundled ESS pulse profile (source at z=0).

    Replaces essreduce's ``simulate_chopper_cascade_using_tof``, which loads
    the profile by download; choppers are placed at their axle's z.
    """
    source = tof.Source.from_distribution(
        p_time=ess_pulse.birth_time,
        p_wav=ess_pulse.wavelength,
        neutrons=neutrons,
        pulses=pulse_stride,
        frequency=(1.0 / pulse_period).to(unit="Hz"),
        seed=seed,
        wmin=wmin,
        wmax=wmax,
    )
    readings = {"source": _reading(source.data, source.distance)}
    if not choppers:
        return SimulationResults[SampleRun](readings=readings, choppers=None)
    model = tof.Model(
        source=source,
        choppers=[tof.Chopper.from_diskchopper(c, name=n) for n, c in choppers.items()],
    )
    for name, reading in model.run().choppers.items():
        readings[name] = _reading(reading.data, reading.distance)
    return SimulationResults[SampleRun](readings=readings, choppers=dict(choppers))


def _angstrom(value: float | None) -> sc.Variable | None:
    return None if value is None else sc.scalar(value, unit="angstrom")


def compute_lookup_table(setting: LookupTableSetting) -> LookupTable:
    """The wavelength lookup table for ``setting`` (seconds to compute)."""
    workflow = GenericUnwrapWorkflow(
        run_types=[SampleRun],
        monitor_types=[],
        wavelength_from=WavelengthLutMode.simulation,
    )
    workflow.insert(simulate_ess_pulse_through_choppers)
    workflow[DiskChoppers[SampleRun]] = {
        chopper.name: disk_chopper(chopper) for chopper in setting.choppers
    }
    workflow[LtotalRange[SampleRun, snx.NXdetector]] = (
        sc.scalar(setting.ltotal_min_m, unit="m"),
        sc.scalar(setting.ltotal_max_m, unit="m"),
    )
    workflow[DistanceResolution] = sc.scalar(setting.distance_resolution_m, unit="m")
    workflow[TimeResolution] = sc.scalar(setting.time_resolution_us, unit="us")
    workflow[PulsePeriod] = 1.0 / sc.scalar(setting.pulse_frequency_hz, unit="Hz")
    workflow[NumberOfSimulatedNeutrons] = setting.neutrons
    workflow[SimulationSeed] = setting.seed
    workflow[SimulationMinWavelength] = _angstrom(setting.wavelength_min_angstrom)
    workflow[SimulationMaxWavelength] = _angstrom(setting.wavelength_max_angstrom)
    return workflow.compute(LookupTable[SampleRun, snx.NXdetector])
