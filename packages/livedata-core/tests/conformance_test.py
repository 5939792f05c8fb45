from functools import partial

import numpy as np
import scipp as sc

from ess.livedata.core.conformance import conformance_problems
from ess.livedata.core.instrument import DetectorBank, Instrument, LogicalView
from ess.livedata.core.plugins import LoadedInstrument, create_plugin_manager


def geometry(ids, positions):
    return sc.DataArray(
        sc.zeros(dims=["pixel"], shape=[len(ids)]),
        coords={
            "detector_number": sc.array(dims=["pixel"], values=ids, unit=None),
            "position": sc.vectors(dims=["pixel"], values=positions, unit="m"),
        },
    )


def loaded(*banks):
    return LoadedInstrument(
        Instrument(name="t", detectors=banks), create_plugin_manager()
    )


def test_problems_are_reported_per_bank():
    good = np.zeros((3, 3))
    bad = good.copy()
    bad[1, 0] = np.nan
    problems = conformance_problems(
        loaded(
            DetectorBank(
                "a", "a", partial(geometry, [1, 2, 2], good), (LogicalView("v"),)
            ),
            DetectorBank("b", "b", partial(geometry, [2, 5, 6], bad)),
        )
    )
    assert problems == [
        "detector a: detector numbers not unique",
        "detector b: numbers overlap with a",
        "detector b: non-finite positions",
        "detector b: declares no views",
    ]


def test_clean_instrument_has_no_problems():
    bank = DetectorBank(
        "a", "a", partial(geometry, [1, 2, 3], np.ones((3, 3))), (LogicalView("v"),)
    )
    assert conformance_problems(loaded(bank)) == []
