"""Grids and the job configurations the dashboard sent, kept in one YAML file.

The file ``<instrument>.yaml`` lives in ``$LIVEDATA_DASHBOARD_STATE_DIR``
(default: ``$XDG_STATE_HOME/livedata/dashboard``). Every session of every
dashboard process of the instrument shares it: a change is written at once
(atomically, under a file lock) and other processes see it by polling the
file's modification time, so a shared grid changes in every open session,
also across gunicorn workers. Until a grid is first changed the plugin's
templates stand in for the file.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ess.livedata.config import ConfigError
from ess.livedata.protocol import WorkflowId

from .grid_model import Grid

logger = logging.getLogger(__name__)

STATE_DIR_ENV = "LIVEDATA_DASHBOARD_STATE_DIR"
POLL_S = 1.0
"""How often the file is checked for changes made by other processes."""


def default_state_dir() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "livedata" / "dashboard"


def state_dir() -> Path:
    configured = os.environ.get(STATE_DIR_ENV)
    return Path(configured) if configured else default_state_dir()


class GridStoreError(ConfigError):
    """The state file cannot be read or written."""


class JobConfig(BaseModel):
    """The parameters last sent to start ``workflow`` on ``sources``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sources: tuple[str, ...]
    params: dict[str, Any]


class StateFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    grids: tuple[Grid, ...] | None = None
    """None until a grid is changed: the templates apply."""
    jobs: dict[str, JobConfig] = {}
    """Keyed by ``str(WorkflowId)``."""


class GridStore:
    """The instrument's shared grids and job configurations.

    Parameters
    ----------
    directory:
        Where ``<instrument>.yaml`` is kept; created when first written.
    templates:
        The grids used until the file holds some.
    clock:
        Monotonic seconds, for throttling the polling.
    """

    def __init__(
        self,
        directory: Path,
        instrument: str,
        templates: Sequence[Grid],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = directory / f"{instrument}.yaml"
        self._templates = tuple(templates)
        self._clock = clock
        self._lock = threading.Lock()
        self._mtime_ns: int | None = None
        self._checked_s = float("-inf")
        self._state = StateFile()
        self.version = 0
        """Increases whenever the grids change; sessions compare it."""
        self._reload()  # a bad file stops the start with one line
        self._checked_s = clock()

    def grids(self) -> tuple[Grid, ...]:
        with self._lock:
            grids = self._state.grids
        return self._templates if grids is None else grids

    def grid(self, name: str) -> Grid | None:
        return next((g for g in self.grids() if g.name == name), None)

    def poll(self) -> None:
        """Pick up changes other processes wrote (at most once per POLL_S)."""
        now = self._clock()
        with self._lock:
            if now - self._checked_s < POLL_S:
                return
            self._checked_s = now
        try:
            self._reload()
        except GridStoreError as error:
            logger.error("%s; keeping the grids read before", error)

    def save(self, grid: Grid) -> None:
        """Replace the grid of the same name, or add it at the end."""

        def change(state: StateFile) -> StateFile:
            grids = list(self._templates if state.grids is None else state.grids)
            names = [g.name for g in grids]
            if grid.name in names:
                grids[names.index(grid.name)] = grid
            else:
                grids.append(grid)
            return state.model_copy(update={"grids": tuple(grids)})

        self._write(change)

    def delete(self, name: str) -> None:
        def change(state: StateFile) -> StateFile:
            grids = self._templates if state.grids is None else state.grids
            kept = tuple(g for g in grids if g.name != name)
            return state.model_copy(update={"grids": kept})

        self._write(change)

    def remember_job(
        self, workflow: WorkflowId, sources: Sequence[str], params: Mapping[str, Any]
    ) -> None:
        """Keep what was sent to start ``workflow``, to offer it after a restart."""
        config = JobConfig(sources=tuple(sources), params=dict(params))

        def change(state: StateFile) -> StateFile:
            return state.model_copy(
                update={"jobs": state.jobs | {str(workflow): config}}
            )

        self._write(change)

    def job_config(self, workflow: WorkflowId) -> JobConfig | None:
        with self._lock:
            return self._state.jobs.get(str(workflow))

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, change: Callable[[StateFile], StateFile]) -> None:
        try:
            with self._file_lock():
                state = change(self._read() or StateFile())
                text = yaml.safe_dump(
                    state.model_dump(mode="json", exclude_none=True), sort_keys=False
                )
                partial = self.path.with_suffix(f".{os.getpid()}.tmp")
                partial.write_text(text)
                partial.replace(self.path)
                self._adopt(state, self.path.stat().st_mtime_ns)
        except OSError as error:
            raise GridStoreError(f"cannot write {self.path}: {error}") from None

    def _read(self) -> StateFile | None:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise GridStoreError(f"cannot read {self.path}: {error}") from None
        try:
            return StateFile.model_validate(yaml.safe_load(text) or {})
        except (yaml.YAMLError, ValidationError) as error:
            line = str(error).splitlines()[0]
            raise GridStoreError(f"{self.path} is not a valid state: {line}") from None

    def _reload(self) -> None:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime == self._mtime_ns:
            return
        self._adopt(self._read() or StateFile(), mtime)

    def _adopt(self, state: StateFile, mtime_ns: int | None) -> None:
        with self._lock:
            if state.grids != self._state.grids:
                self.version += 1
            self._state = state
            self._mtime_ns = mtime_ns
