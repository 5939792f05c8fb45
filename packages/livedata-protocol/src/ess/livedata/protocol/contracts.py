"""Per-service contracts: what each service publishes and what its status says.

Services and dashboards both import these, so a service name, an output name,
how an output combines across scaled-out workers and the shape of a status
are written once. An output's :class:`Temporality` is the combination rule:
readers never guess it from the name.
"""

from __future__ import annotations

import enum
import re
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, computed_field


class Temporality(enum.StrEnum):
    """What span of data an output covers, which also says how parts combine."""

    WINDOW = "window"
    """Counts of one data-time window: workers' parts of the same window sum."""
    CUMULATIVE = "cumulative"
    """Counts since start or reset: each worker's newest part sums."""
    SERIES = "series"
    """A history, a latest value, a state or a ratio: the newest part stands."""


class OutputSpec(BaseModel):
    """One output a service or workflow publishes.

    ``name`` may hold ``{placeholders}`` (``roi_{roi}_current``) filled in per
    result by :meth:`format`; :meth:`matches` recognises a filled-in name.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    temporality: Temporality
    unit: str | None = "counts"
    title: str = ""

    def format(self, **fields: object) -> str:
        return self.name.format(**fields)

    def matches(self, output: str) -> bool:
        return self._pattern.fullmatch(output) is not None

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        parts = re.split(r"\{\w+\}", self.name)
        return re.compile("[^/]+".join(re.escape(p) for p in parts))


TIME_OF_ARRIVAL = "time_of_arrival"
"""Dim and coordinate of every time-of-arrival spectrum (monitor histograms,
bank spectra, ROI spectra), named as the facility names it so its tools read
ours."""


class ServiceName(enum.StrEnum):
    """The backend services; also the first part of their result names."""

    MONITOR_DATA = "monitor_data"
    DETECTOR_DATA = "detector_data"
    TIMESERIES = "timeseries"
    DATA_REDUCTION = "data_reduction"


def result_name(service: ServiceName | str, source: str, output: str) -> str:
    """The name a result is published under: ``service/source/output``."""
    return f"{service}/{source}/{output}"


def split_result_name(name: str) -> tuple[str, str, str]:
    """``(service, source, output)`` of a result name; parts missing are ``""``.

    Sources never contain ``/``; outputs may (they are the rest of the name).
    """
    service, _, rest = name.partition("/")
    source, _, output = rest.partition("/")
    return service, source, output


class _Status(BaseModel):
    """Readers ignore fields they do not know, so services may add some."""

    model_config = ConfigDict(extra="ignore")


class Ledger(_Status):
    """Where the events of one source went; ``received`` is the sum of the rest."""

    received: int = 0
    counted: int = 0
    out_of_range: int = 0
    rejected: int = 0
    ignored: int = 0
    skipped: int = 0
    balanced: bool = True


class LogLedger(_Status):
    """Where the samples of one log went (see the timeseries service).

    The service counts into this model directly (logs are slow streams).
    """

    received: int = 0
    stored: int = 0
    duplicates_replaced: int = 0
    rejected: int = 0
    out_of_order: int = 0
    nan: int = 0
    evicted: int = 0
    cleared: int = 0
    points: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def balanced(self) -> bool:
        """Every sample received is stored, replaced or rejected, and every
        stored one is still a point, evicted or cleared."""
        return (
            self.received == self.stored + self.duplicates_replaced + self.rejected
            and self.stored == self.points + self.evicted + self.cleared
        )


class ToaBinning(_Status):
    """Time-of-arrival bins a monitor or detector bank histograms into."""

    toa_min: float
    toa_max: float
    bins: int
    unit: str = "ms"


class ServiceDetails(_Status):
    """Status details every service's processing loop reports."""

    data_lag_s: float | None = None
    clock_suspect_streams: dict[str, float] = Field(default_factory=dict)
    """Streams with implausible timestamps and their offset in seconds."""
    open_windows: int = 0
    max_lag_s: float | None = None
    skipping: bool = False
    commands_accepted: int = 0
    commands_rejected: int = 0


class MonitorStatus(ServiceDetails):
    ledger: dict[str, Ledger] = Field(default_factory=dict)
    binning: dict[str, ToaBinning] = Field(default_factory=dict)
    running: dict[str, bool] = Field(default_factory=dict)


class DetectorStatus(ServiceDetails):
    ledger: dict[str, Ledger] = Field(default_factory=dict)
    unknown_pixel_ids: dict[str, int] = Field(default_factory=dict)
    binning: dict[str, ToaBinning] = Field(default_factory=dict)
    rois: dict[str, list[int]] = Field(default_factory=dict)
    """ROI indices set per bank."""
    frames: dict[str, Ledger] = Field(default_factory=dict)
    """Frames (not events) of each area detector: received, counted,
    rejected (another shape), skipped."""


class HistoryLimits(_Status):
    length_s: float
    max_points: int


class TimeseriesStatus(ServiceDetails):
    ledger: dict[str, LogLedger] = Field(default_factory=dict)
    caps: dict[str, HistoryLimits] = Field(default_factory=dict)
    problems: dict[str, str] = Field(default_factory=dict)


class ReductionJob(_Status):
    """One reduction job as its service reports it."""

    workflow: str
    state: str
    message: str = ""
    sources: list[str] = Field(default_factory=list)
    params: dict[str, object] = Field(default_factory=dict)
    since: int | None = None
    skipped_events: int = 0


class ReductionStatus(ServiceDetails):
    jobs: dict[str, ReductionJob] = Field(default_factory=dict)


class ServiceContract(BaseModel):
    """What one service publishes and the model of its status details."""

    model_config = ConfigDict(frozen=True)

    service: ServiceName
    outputs: tuple[OutputSpec, ...]
    status: type[ServiceDetails]

    def output(self, output: str) -> OutputSpec:
        """The declared output a (filled-in) output name is an instance of."""
        for spec in self.outputs:
            if spec.matches(output):
                return spec
        raise KeyError(f"{self.service} declares no output {output!r}")

    def result_name(self, source: str, output: OutputSpec, **fields: object) -> str:
        return result_name(self.service, source, output.format(**fields))

    def parse_status(self, details: dict[str, object]) -> ServiceDetails:
        """The typed status of a heartbeat's ``details``."""
        return self.status.model_validate(details)


def _window(name: str, title: str, unit: str | None = "counts") -> OutputSpec:
    return OutputSpec(name=name, temporality=Temporality.WINDOW, unit=unit, title=title)


def _cumulative(name: str, title: str) -> OutputSpec:
    return OutputSpec(name=name, temporality=Temporality.CUMULATIVE, title=title)


def _series(name: str, title: str, unit: str | None = None) -> OutputSpec:
    return OutputSpec(name=name, temporality=Temporality.SERIES, unit=unit, title=title)


class MonitorOutputs:
    CURRENT = _window("current", "Time-of-arrival spectrum of the last window")
    CUMULATIVE = _cumulative("cumulative", "Time-of-arrival spectrum since reset")
    COUNTS_TOTAL = _window("counts_total", "Counts in the last window")
    COUNTS_TOTAL_CUMULATIVE = _cumulative(
        "counts_total_cumulative", "Counts since reset"
    )


class DetectorOutputs:
    """A view job's outputs (``{bank}_{view}``), named as the facility's.

    The view's image is ``current``/``cumulative``; the bank's spectrum, ROI
    spectra and totals come with each view job of the bank. The service
    names a view's image ``{view}/current`` internally, since one bank
    accumulates for all its views (see ``processing.job_bindings``).
    """

    CURRENT = _window("current", "View image of the last window")
    CUMULATIVE = _cumulative("cumulative", "View image since reset")
    TOA_CURRENT = _window("toa_current", "Bank spectrum of the last window")
    TOA_CUMULATIVE = _cumulative("toa_cumulative", "Bank spectrum since reset")
    ROI_SPECTRA_CURRENT = _window("roi_spectra_current", "ROI spectra, last window")
    ROI_SPECTRA_CUMULATIVE = _cumulative(
        "roi_spectra_cumulative", "ROI spectra since reset"
    )
    ROI_RECTANGLE = _series("roi_rectangle", "Rectangle ROIs in use", None)
    ROI_POLYGON = _series("roi_polygon", "Polygon ROIs in use", None)
    COUNTS_TOTAL = _window("counts_total", "Counts in the last window")
    COUNTS_TOTAL_CUMULATIVE = _cumulative(
        "counts_total_cumulative", "Counts since reset"
    )


class TimeseriesOutputs:
    HISTORY = _series("history", "Values over data time (log unit)")
    LATEST = _series("latest", "Newest value (log unit)")
    DELTA = _series("delta", "Values new since the last update (log unit)")


class ReductionOutputs:
    OUTPUT = _series("{output}", "A workflow output, see its WorkflowSpec")


MONITOR_DATA = ServiceContract(
    service=ServiceName.MONITOR_DATA,
    outputs=(
        MonitorOutputs.CURRENT,
        MonitorOutputs.CUMULATIVE,
        MonitorOutputs.COUNTS_TOTAL,
        MonitorOutputs.COUNTS_TOTAL_CUMULATIVE,
    ),
    status=MonitorStatus,
)
DETECTOR_DATA = ServiceContract(
    service=ServiceName.DETECTOR_DATA,
    outputs=(
        DetectorOutputs.CURRENT,
        DetectorOutputs.CUMULATIVE,
        DetectorOutputs.TOA_CURRENT,
        DetectorOutputs.TOA_CUMULATIVE,
        DetectorOutputs.ROI_SPECTRA_CURRENT,
        DetectorOutputs.ROI_SPECTRA_CUMULATIVE,
        DetectorOutputs.ROI_RECTANGLE,
        DetectorOutputs.ROI_POLYGON,
        DetectorOutputs.COUNTS_TOTAL,
        DetectorOutputs.COUNTS_TOTAL_CUMULATIVE,
    ),
    status=DetectorStatus,
)
TIMESERIES = ServiceContract(
    service=ServiceName.TIMESERIES,
    outputs=(
        TimeseriesOutputs.HISTORY,
        TimeseriesOutputs.LATEST,
        TimeseriesOutputs.DELTA,
    ),
    status=TimeseriesStatus,
)
DATA_REDUCTION = ServiceContract(
    service=ServiceName.DATA_REDUCTION,
    # A job runs in one worker (its id is unique), so its outputs never combine.
    outputs=(ReductionOutputs.OUTPUT,),
    status=ReductionStatus,
)

CONTRACTS: dict[ServiceName, ServiceContract] = {
    c.service: c for c in (MONITOR_DATA, DETECTOR_DATA, TIMESERIES, DATA_REDUCTION)
}


def temporality_of(name: str) -> Temporality:
    """The declared temporality of a published result name.

    Names of no known service or output (foreign publishers) stand as newest.
    """
    service, _, output = split_result_name(name)
    contract = next((c for c in CONTRACTS.values() if c.service == service), None)
    if contract is None:
        return Temporality.SERIES
    try:
        return contract.output(output).temporality
    except KeyError:
        return Temporality.SERIES
