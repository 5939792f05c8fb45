"""The sources of a per-source service and their accumulators.

monitor_data, detector_data and timeseries each keep one accumulator per
source (monitor, bank, log) and let commands target one source or all of
them. This table is that part of them, written once: which sources exist,
building an accumulator on first use, and resolving a command's target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from .commanding import CommandRejected

A = TypeVar("A")


class SourceTable(Generic[A]):
    """Accumulators by source name, built by ``make`` when first needed.

    Parameters
    ----------
    what:
        What a source is, for messages (``monitor``, ``detector``, ...).
    known:
        Names of the instrument's sources of this service.
    make:
        Builds a source's accumulator; called at most once per source.
    """

    def __init__(
        self, what: str, known: Iterable[str], make: Callable[[str], A]
    ) -> None:
        self._what = what
        self._known = frozenset(known)
        self._make = make
        self._built: dict[str, A] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._known

    def get(self, name: str) -> A:
        """The accumulator of a known source, built now if it was not yet."""
        built = self._built.get(name)
        if built is None:
            built = self._built[name] = self._make(name)
        return built

    def built(self) -> list[tuple[str, A]]:
        """Sources that have an accumulator, by name."""
        return sorted(self._built.items())

    def targets(self, target: str | None) -> list[A]:
        """A command's targets: every source for ``None``, else the one named.

        Raises
        ------
        CommandRejected
            ``target`` is not a source of this service.
        """
        if target is None:
            return [self.get(name) for name in sorted(self._known)]
        if target not in self._known:
            known = ", ".join(sorted(self._known))
            raise CommandRejected(f"unknown {self._what} {target!r} (known: {known})")
        return [self.get(target)]
