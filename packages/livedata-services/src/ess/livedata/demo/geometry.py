"""Geometry for the demo: the instrument's file, or its plugin's stand-in.

Services and fakes of an instrument with geometry files read one at start-up.
A demo on a machine that cannot reach the files uses the stand-in the plugin
writes (``livedata_stand_in_geometry``) rather than failing, and says so.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ess.livedata.core.geometry_files import OVERRIDE_VARIABLE, GeometryFileError
from ess.livedata.core.nexus_geometry import with_file_positions
from ess.livedata.core.plugins import LoadedInstrument

logger = logging.getLogger(__name__)


def ensure_geometry(loaded: LoadedInstrument, directory: Path) -> None:
    """Make the instrument's geometry readable by the demo's programs,
    setting ``LIVEDATA_GEOMETRY_FILE`` to a stand-in written to
    ``directory`` if no declared file is reachable."""
    if loaded.instrument.geometry_files is None or os.environ.get(OVERRIDE_VARIABLE):
        return
    try:
        with_file_positions(loaded)
        return
    except GeometryFileError as error:
        missing = error
    path = loaded.manager.hook.livedata_stand_in_geometry(
        instrument=loaded.instrument, path=directory / f"{loaded.name}-stand-in.nxs"
    )
    if path is None:
        raise missing
    logger.warning("%s; the demo uses stand-in geometry %s", missing, path)
    os.environ[OVERRIDE_VARIABLE] = str(path)
