"""Choosing an instrument's geometry file by date and finding it on disk.

The file valid at a date is the last one whose ``valid_from`` is not after
it. It is looked for in ``LIVEDATA_DATA_DIR``, then in the download cache
(``LIVEDATA_CACHE_DIR``, default pooch's per-user cache), then downloaded
from the plugin's registry URL. Every copy's checksum is verified. Failures
are :class:`GeometryFileError`, which the command lines print as one line.

Needs the ``nexus`` extra (pooch), imported only when a file is looked up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ess.livedata.config import ConfigError

from .instrument import GeometryFile, GeometryFiles

DATA_DIR_VARIABLE = "LIVEDATA_DATA_DIR"
CACHE_DIR_VARIABLE = "LIVEDATA_CACHE_DIR"
OVERRIDE_VARIABLE = "LIVEDATA_GEOMETRY_FILE"
"""A file used instead of the declared ones, unchecked: for stand-in geometry
(tests, demos) and for trying a new file before it is registered."""


class GeometryFileError(ConfigError):
    """No usable geometry file: missing, unreachable, or a wrong checksum."""


@dataclass(frozen=True)
class ChosenFile:
    """The file valid at ``when`` and the date rule that chose it."""

    file: GeometryFile
    when: datetime
    valid_until: datetime | None

    @property
    def reason(self) -> str:
        until = self.valid_until.isoformat() if self.valid_until else "open-ended"
        return (
            f"valid from {self.file.valid_from.isoformat()} until {until}, "
            f"covering {self.when.isoformat()}"
        )


def choose_geometry_file(
    files: GeometryFiles, when: datetime | None = None
) -> ChosenFile:
    """The file valid at ``when`` (default now): each file is valid from its
    date until the next file's date; the last is open-ended."""
    when = when or datetime.now(UTC)
    ordered = sorted(files.files, key=lambda f: f.valid_from)
    valid = [f for f in ordered if f.valid_from <= when]
    if not valid:
        first = ordered[0]
        raise GeometryFileError(
            f"no geometry file valid at {when.isoformat()}: the earliest, "
            f"{first.name}, is valid from {first.valid_from.isoformat()}"
        )
    chosen = valid[-1]
    later = ordered[len(valid) :]
    return ChosenFile(chosen, when, later[0].valid_from if later else None)


def geometry_override() -> tuple[Path, str] | None:
    """The file named by ``LIVEDATA_GEOMETRY_FILE`` and why, if set."""
    configured = os.environ.get(OVERRIDE_VARIABLE)
    if not configured:
        return None
    path = Path(configured)
    if not path.is_file():
        raise GeometryFileError(f"{OVERRIDE_VARIABLE}={path}: no such file")
    return path, f"{OVERRIDE_VARIABLE} overrides the declared files (unchecked)"


def cache_dir() -> Path:
    """Where downloaded geometry files are kept."""
    if configured := os.environ.get(CACHE_DIR_VARIABLE):
        return Path(configured)
    import pooch

    return Path(pooch.os_cache("ess-livedata"))


def locate_geometry_file(file: GeometryFile, registry_url: str = "") -> Path:
    """A verified local copy of ``file``: data dir, cache, else downloaded."""
    data_dir = os.environ.get(DATA_DIR_VARIABLE)
    if data_dir and (candidate := Path(data_dir) / file.name).is_file():
        return _verified(candidate, file)
    cached = cache_dir() / file.name
    if cached.is_file():
        return _verified(cached, file)
    if not registry_url:
        raise GeometryFileError(_not_found(file, data_dir, "no registry URL"))
    return _download(file, registry_url, data_dir)


def _not_found(file: GeometryFile, data_dir: str | None, why: str) -> str:
    where = f"{data_dir}" if data_dir else "(unset)"
    return (
        f"geometry file {file.name} not found in {DATA_DIR_VARIABLE}={where} "
        f"nor in {cache_dir()}, and not downloadable ({why}); put it in "
        f"{DATA_DIR_VARIABLE}"
    )


def _verified(path: Path, file: GeometryFile) -> Path:
    import pooch

    algorithm, _, expected = file.checksum.partition(":")
    actual = pooch.file_hash(str(path), alg=algorithm)
    if actual != expected.lower():
        raise GeometryFileError(
            f"geometry file {path}: {algorithm} checksum {actual} does not match "
            f"the declared {expected}"
        )
    return path


def _download(file: GeometryFile, registry_url: str, data_dir: str | None) -> Path:
    import pooch

    url = f"{registry_url.rstrip('/')}/{file.name}"
    try:
        fetched = pooch.retrieve(
            url,
            known_hash=file.checksum,
            fname=file.name,
            path=cache_dir(),
            progressbar=False,
        )
    except ValueError as error:  # pooch's checksum mismatch
        raise GeometryFileError(
            f"geometry file {file.name} from {url}: {one_line(error)}"
        ) from None
    except Exception as error:  # network: requests' many exception types
        why = f"{url}: {type(error).__name__}"
        raise GeometryFileError(_not_found(file, data_dir, why)) from None
    return Path(fetched)


def one_line(error: Exception) -> str:
    """The error's message on one line, for the command lines' one-line failures."""
    return " ".join(str(error).split())
