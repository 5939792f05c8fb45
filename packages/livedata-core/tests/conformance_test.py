from functools import partial

import numpy as np
import scipp as sc
from pydantic import BaseModel

from ess.livedata.core.conformance import conformance_problems, factory_problems
from ess.livedata.core.hookspecs import hookimpl
from ess.livedata.core.instrument import DetectorBank, Instrument, LogicalView
from ess.livedata.core.message import StreamKind
from ess.livedata.core.plugins import LoadedInstrument, create_plugin_manager
from ess.livedata.core.workflow import WorkflowSpec


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


def test_detector_numbers_beyond_int32_are_a_problem():
    ids = [1, 2, 2**31]
    bank = DetectorBank("a", "a", partial(geometry, ids, np.ones((3, 3))))
    bank_views = DetectorBank(
        "a", "a", partial(geometry, ids, np.ones((3, 3))), (LogicalView("v"),)
    )
    assert conformance_problems(loaded(bank_views)) == [
        "detector a: detector numbers beyond int32 (ev44 pixel ids)"
    ]
    assert len(conformance_problems(loaded(bank))) == 2


def test_a_spec_without_factory_is_a_problem():
    spec = WorkflowSpec(
        name="w",
        version=1,
        title="W",
        description="",
        params=BaseModel,
        outputs={"x": "an output"},
        source_kinds=(StreamKind.DETECTOR_EVENTS,),
    )

    class Plugin:
        @hookimpl
        def livedata_register_workflow_specs(self, instrument, register):
            register(spec)

    manager = create_plugin_manager()
    manager.register(Plugin())
    instrument = LoadedInstrument(Instrument(name="t"), manager)
    assert factory_problems(instrument) == ["workflow w/v1 has a spec but no factory"]
