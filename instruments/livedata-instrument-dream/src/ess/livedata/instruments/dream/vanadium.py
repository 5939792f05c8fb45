"""Where a job finds its vanadium run: a NeXus file the facility writes.

The job names the file; a bare name is looked up in ``LIVEDATA_DATA_DIR``
(as geometry files are), a path is taken as is. A file that is not there
fails the job's start in one line, before anything is built; essdiffraction
reads it (``Filename[VanadiumRun]``) when the job is built.
"""

from __future__ import annotations

import os
from pathlib import Path

from ess.livedata.core.geometry_files import DATA_DIR_VARIABLE

FACILITY_VANADIUM = "268227_00024779_Vana_inc_BC_offset_240_deg_wlgth.hdf"
"""The vanadium run the facility's live reduction names (BC240)."""


def locate_vanadium_file(name: str) -> Path:
    """The vanadium run's path.

    Raises
    ------
    ValueError
        Saying where it was looked for.
    """
    given = Path(name)
    data_dir = os.environ.get(DATA_DIR_VARIABLE)
    path = given if given.is_absolute() or not data_dir else Path(data_dir) / given
    if not path.is_file():
        where = data_dir or "(unset)"
        raise ValueError(
            f"vanadium run {name} not found (bare names are looked up in "
            f"{DATA_DIR_VARIABLE}={where})"
        )
    return path
