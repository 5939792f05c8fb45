"""Only reduction workflow factories import the ESS reduction pieces.

The histogramming services run where the ``reduction`` extra is missing, and
the reduction service must start before a job asks for a workflow: importing
every service and loading an instrument's specs pulls in none of it.
"""

import subprocess
import sys

HEAVY = ["ess.livedata.reduction", "tof", "ess.reduce", "sciline"]

CODE = f"""
import sys
import ess.livedata.services.monitor_data, ess.livedata.services.detector_data
import ess.livedata.services.timeseries, ess.livedata.services.data_reduction
from ess.livedata.core.plugins import load_instrument
load_instrument("dummy").workflow_specs
heavy = {HEAVY!r}
print(sorted(m for m in sys.modules for h in heavy if m == h or m.startswith(h + ".")))
"""


def test_services_do_not_import_the_reduction_stack():
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
