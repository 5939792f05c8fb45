"""Sampling times of arrival from an instrument's declared shape."""

from __future__ import annotations

import numpy as np

from ess.livedata.core.fake_shapes import ToaShape

MS = 1_000_000


def sample_toa(shape: ToaShape, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` times of arrival (int32 ns) within the frame: peaks plus background.

    Peak samples falling outside the frame are folded back by redrawing them
    uniformly, so every event stays a valid time of arrival.
    """
    frame_ns = shape.frame_ms * MS
    weights = np.array([p.weight for p in shape.peaks] + [0.0])
    peak_total = weights.sum()
    weights[-1] = shape.background * peak_total / max(1e-12, 1 - shape.background)
    counts = rng.multinomial(n, weights / weights.sum())
    parts = [
        rng.normal(p.center_ms * MS, p.width_ms * MS, size=c)
        for p, c in zip(shape.peaks, counts[:-1], strict=True)
    ]
    parts.append(rng.uniform(0, frame_ns, size=counts[-1]))
    toa = np.concatenate(parts)
    bad = (toa < 0) | (toa >= frame_ns)
    toa[bad] = rng.uniform(0, frame_ns, size=int(bad.sum()))
    rng.shuffle(toa)
    return toa.astype(np.int32)
