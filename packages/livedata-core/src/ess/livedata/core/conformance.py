"""Checks every instrument plugin must pass; plugins run them in their tests.

``assert not conformance_problems(load_instrument("mine"))`` gives a new
plugin the same checks as the built-in ones, with readable failures. The
integration suite runs them, and :func:`factory_problems`, over every
installed instrument.
"""

from __future__ import annotations

import numpy as np

from .message import StreamKind
from .plugins import LoadedInstrument
from .streams import Topology

INT32 = np.iinfo(np.int32)


def conformance_problems(loaded: LoadedInstrument) -> list[str]:
    """Everything wrong with an instrument definition, as sentences."""
    problems: list[str] = []
    instrument = loaded.instrument
    seen: list[tuple[str, np.ndarray]] = []  # sorted numbers of earlier banks
    for bank in instrument.detectors:
        try:
            geometry = bank.geometry
        except Exception as error:
            problems.append(f"detector {bank.name}: geometry fails: {error}")
            continue
        ids = np.asarray(geometry.coords["detector_number"].values).ravel()
        # A sort, not np.unique: 25x faster on 10^7 numbers (BEER's banks).
        ordered = np.sort(ids)
        if np.any(ordered[1:] == ordered[:-1]):
            problems.append(f"detector {bank.name}: detector numbers not unique")
        if ids.size and (ids.min() < INT32.min or ids.max() > INT32.max):
            problems.append(
                f"detector {bank.name}: detector numbers beyond int32 (ev44 pixel ids)"
            )
        for other, numbers in seen:
            if _any_shared(ordered, numbers):
                problems.append(f"detector {bank.name}: numbers overlap with {other}")
        seen.append((bank.name, ordered))
        position = geometry.coords["position"]
        if position.dims != geometry.coords["detector_number"].dims:
            problems.append(f"detector {bank.name}: position dims differ from ids")
        if not np.all(np.isfinite(position.values)):
            problems.append(f"detector {bank.name}: non-finite positions")
        if position.unit is None or position.unit.name not in ("m", "mm"):
            problems.append(f"detector {bank.name}: position unit must be a length")
        if not bank.views:
            problems.append(f"detector {bank.name}: declares no views")
    for topology in Topology:
        mapping = loaded.stream_mapping(topology)
        for kind, items in (
            (StreamKind.DETECTOR_EVENTS, instrument.detectors),
            (StreamKind.MONITOR_EVENTS, instrument.monitors),
            (StreamKind.LOG, instrument.logs),
        ):
            mapped = {s.name for s in mapping.streams(kind)}
            missing = sorted({item.name for item in items} - mapped)
            if missing:
                problems.append(f"{topology} mapping lacks {kind} {missing}")
    for key, spec in loaded.workflow_specs.items():
        if not spec.outputs:
            problems.append(f"workflow {key} declares no outputs")
    return problems


def factory_problems(loaded: LoadedInstrument) -> list[str]:
    """Specs without a factory (and factory errors); imports reduction code."""
    try:
        factories = loaded.workflow_factories()
    except Exception as error:
        return [f"workflow factories fail: {type(error).__name__}: {error}"]
    return [
        f"workflow {key} has a spec but no factory"
        for key in sorted(set(loaded.reduction_specs) - set(factories))
    ]


def _any_shared(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two sorted arrays share a value (duplicates allowed)."""
    if not a.size or not b.size:
        return False
    at = np.minimum(np.searchsorted(b, a), b.size - 1)
    return bool(np.any(b[at] == a))
