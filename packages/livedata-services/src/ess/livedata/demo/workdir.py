"""The demo's scratch folder in the temp dir, removed even after a SIGKILL.

A local broker writes hundreds of MB there. A demo that is stopped by a
signal removes its folder's broker data on the way out; a demo that had no
chance to (SIGKILL, power cut) leaves it, and the next demo removes it.
Each folder holds an ``owner.lock`` that its demo keeps ``flock``-ed while
it runs: the kernel drops the lock when the process dies, however it dies,
and a reused pid cannot fool it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "livedata-demo-"
LOCK = "owner.lock"


class WorkDir:
    """A ``livedata-demo-*`` folder owned by this process while it lives."""

    def __init__(self, parent: Path | None = None) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
        # Locked before it gets its name, so no sweeper sees it unlocked.
        unnamed = self.path / f".{LOCK}.new"
        self._lock = unnamed.open("w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self._lock.write(f"{os.getpid()}\n")
        self._lock.flush()
        unnamed.rename(self.path / LOCK)

    def remove(self, name: str) -> None:
        """Delete ``name`` inside the folder, e.g. the broker's data."""
        shutil.rmtree(self.path / name, ignore_errors=True)

    def release(self) -> None:
        """Give up ownership: the next demo may remove what is left."""
        self._lock.close()


def remove_stale(parent: Path | None = None) -> list[Path]:
    """Delete the folders of demos that are no longer running; returns them."""
    removed = []
    for folder in sorted(Path(parent or tempfile.gettempdir()).glob(f"{PREFIX}*")):
        try:
            handle = (folder / LOCK).open()
        except OSError:
            continue  # not a folder this module made
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its demo is running
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
