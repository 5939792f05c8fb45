"""Which programs each demo profile runs, like the compose file's profiles."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProgramSpec:
    """A ``python -m`` program of the demo and its arguments."""

    module: str
    args: tuple[str, ...] = ()
    url: str = ""

    @property
    def name(self) -> str:
        return self.module.rsplit(".", 1)[-1]


FAKE_MONITORS = ProgramSpec("ess.livedata.services.fake_monitors", ("--mode", "ev44"))
FAKE_DETECTORS = ProgramSpec("ess.livedata.services.fake_detectors")
FAKE_LOGDATA = ProgramSpec("ess.livedata.services.fake_logdata")

PROFILES: dict[str, tuple[ProgramSpec, ...]] = {
    "monitor": (
        FAKE_MONITORS,
        ProgramSpec("ess.livedata.services.monitor_data", ("--dev",)),
        ProgramSpec("ess.livedata.dashboard.monitors", url="http://localhost:5007"),
    ),
    "detector": (
        FAKE_DETECTORS,
        ProgramSpec("ess.livedata.services.detector_data", ("--dev",)),
        ProgramSpec("ess.livedata.dashboard.detectors", url="http://localhost:5008"),
    ),
    "timeseries": (
        FAKE_LOGDATA,
        ProgramSpec("ess.livedata.services.timeseries", ("--dev",)),
    ),
    "reduction": (
        FAKE_MONITORS,
        FAKE_DETECTORS,
        FAKE_LOGDATA,
        ProgramSpec("ess.livedata.services.data_reduction", ("--dev",)),
        ProgramSpec("ess.livedata.dashboard.reduction", url="http://localhost:5009"),
    ),
}


def programs_for(profiles: list[str]) -> list[ProgramSpec]:
    """Programs of the given profiles, each once, fakes first."""
    chosen: list[ProgramSpec] = []
    for profile in profiles:
        for spec in PROFILES[profile]:
            if spec not in chosen:
                chosen.append(spec)
    return sorted(chosen, key=lambda s: not s.name.startswith("fake_"))
