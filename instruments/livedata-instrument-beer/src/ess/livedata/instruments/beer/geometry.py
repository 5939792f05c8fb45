"""BEER's two banks, placed in code: no geometry file is registered for BEER.

Each bank is 12 panels of 1000 x 1000 pixels of 1 mm, stacked over 19 mm of
depth, 2 m from the sample at -90 (south) and +90 (north) degrees. Panels
face the sample: their ``y`` runs up, their ``x`` along the beam (which of
the two pixel axes follows the beam is not known; a swap would transpose
the images), the panel index away from the sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ess.livedata.ess.tables import BankTable

DISTANCE = 2.0
PIXEL = 0.001
STACK_DEPTH = 0.019


@dataclass(frozen=True)
class SideBank:
    """A bank beside the sample, ``side`` -1 (south, -x) or +1 (north, +x)."""

    side: int

    def positions(self, table: BankTable) -> np.ndarray:
        """Pixel positions (m), shape ``(count, 3)``, in the layout's order
        (panel, y, x)."""
        panels, rows, columns = (table.layout[d] for d in ("panel", "y", "x"))
        depth = STACK_DEPTH / (panels - 1)
        out = np.empty((panels, rows, columns, 3))
        out[..., 0] = self.side * (DISTANCE + depth * np.arange(panels))[:, None, None]
        out[..., 1] = ((np.arange(rows) - (rows - 1) / 2) * PIXEL)[None, :, None]
        out[..., 2] = ((np.arange(columns) - (columns - 1) / 2) * PIXEL)[None, None, :]
        return out.reshape(-1, 3)
