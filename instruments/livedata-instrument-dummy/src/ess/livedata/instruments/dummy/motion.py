"""The dummy panel on its carriage: pixel positions follow the ``panel_0_z`` motor.

``panel_0_z`` is the carriage's displacement along the beam (z) from the
position the geometry is built at, so ``0`` means the nominal 4 m and the
fake motor moving within +-50 mm moves the panel by as much.

How a service uses it: keep a
:class:`~ess.livedata.core.log_values.LatestLogValues` of the instrument's
logs, feed it every LOG message, and ask for the motor's value at the data
time of the result being computed::

    logs = LatestLogValues(instrument.logs)
    ...
    for message in log_messages:  # each window, before the detector data
        logs.update(message)
    z = logs.value_at(PANEL_Z_LOG, window.end)  # None until the motor reports
    nominal = instrument.detector(PANEL).geometry.coords["position"]
    positions = panel_positions(nominal, z)

The service needs the LOG streams among its inputs to see the motor.
"""

from __future__ import annotations

import scipp as sc

PANEL = "panel_0"
PANEL_Z_LOG = "panel_0_z"


def panel_positions(nominal: sc.Variable, panel_z: sc.Variable | None) -> sc.Variable:
    """Pixel positions of the panel moved along z by the carriage motor.

    Parameters
    ----------
    nominal:
        The bank's pixel positions (vector3) as built by the geometry.
    panel_z:
        Latest ``panel_0_z`` value, a scalar length; None (no value yet)
        leaves the panel where the geometry puts it.

    Returns
    -------
    :
        New positions in the unit of ``nominal``; ``nominal`` is not modified.
    """
    if panel_z is None:
        return nominal.copy()
    if panel_z.ndim != 0:
        raise ValueError(f"{PANEL_Z_LOG} must be a scalar, got dims {panel_z.dims}")
    shift = panel_z.to(unit=nominal.unit, dtype="float64")
    return nominal + sc.vector([0.0, 0.0, 1.0]) * shift
