"""Logical views that fold a flat bank into its layout and sum some dims."""

from __future__ import annotations

import numpy as np
import pytest
import scipp as sc

from ess.livedata.core.instrument import DetectorBank, LogicalView
from ess.livedata.processing.views import LogicalImage


def flat_bank(size: int) -> DetectorBank:
    ids = sc.arange("detector_number", 1, size + 1, unit=None, dtype="int32")
    return DetectorBank(
        "bank",
        "bank",
        lambda: sc.DataArray(
            sc.zeros(sizes=ids.sizes, dtype="int64"),
            coords={
                "detector_number": ids,
                "position": sc.vectors(
                    dims=ids.dims, values=np.zeros((size, 3)), unit="m"
                ),
            },
        ),
    )


def test_summed_dims_leave_a_2d_image_with_the_counts_added_up():
    view = LogicalView(
        "v",
        fold={"detector_number": {"wire": 2, "sector": 3, "strip": 4}},
        transpose=("strip", "sector"),
        sum=("wire",),
    )
    image = LogicalImage(flat_bank(24), view)
    counts = np.arange(24)
    result = image.image(counts)
    expected = counts.reshape(2, 3, 4).sum(axis=0).T
    assert result.dims == ("strip", "sector")
    assert np.array_equal(result.values, expected)
    x, y = image.pixel_coordinates()
    # Pixel 13: wire 1, sector 0, strip 1 -> x (sector) 0.5, y (strip) 1.5.
    assert (x[13], y[13]) == (0.5, 1.5)


def test_summing_an_unknown_dim_is_refused():
    view = LogicalView("v", fold={"detector_number": {"a": 4, "b": 6}}, sum=("c",))
    with pytest.raises(ValueError, match="cannot sum"):
        LogicalImage(flat_bank(24), view)
