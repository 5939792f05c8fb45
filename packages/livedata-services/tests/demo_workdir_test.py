"""The demo's work folders: a killed demo's folder is removed, a live one's not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ess.livedata.demo.workdir import LOCK, WorkDir, remove_stale

OWN_AND_WAIT = """
import sys, time
from pathlib import Path
from ess.livedata.demo.workdir import WorkDir
owned = WorkDir(Path(sys.argv[1]))
print(owned.path, flush=True)
time.sleep(600)
"""


def test_folders_of_dead_owners_are_removed_and_live_ones_kept(tmp_path):
    mine = WorkDir(tmp_path)
    other = subprocess.Popen(
        [sys.executable, "-c", OWN_AND_WAIT, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        killed = Path(other.stdout.readline().strip())
        assert (killed / LOCK).is_file()
        assert remove_stale(tmp_path) == []  # both owners are running
    finally:
        other.kill()
        other.wait()
        other.stdout.close()
    assert remove_stale(tmp_path) == [killed]
    assert not killed.exists()
    assert mine.path.is_dir()
    mine.release()
    assert remove_stale(tmp_path) == [mine.path]


def test_folders_it_did_not_make_are_left_alone(tmp_path):
    foreign = tmp_path / "livedata-demo-by-hand"
    foreign.mkdir()
    assert remove_stale(tmp_path) == []
    assert foreign.is_dir()
