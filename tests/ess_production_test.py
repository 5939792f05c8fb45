"""Every installed ESS instrument's fakes, on its production topology, through
detector_data and monitor_data: the counts ledgers balance.

The fakes publish on the production topics and source names
(``--production-topics``) and the services run without ``--dev``, so the
instrument's production stream mapping is what routes every event. Banks
use a stand-in geometry file with the fake detector ranges.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import run_fakes_through_services

from ess.livedata.core.plugins import (
    LoadedInstrument,
    installed_instruments,
    load_instrument,
)
from ess.livedata.core.streams import Topology
from ess.livedata.ess.instrument import is_ess_instrument
from ess.livedata.ess.stand_in import on_stand_in_geometry

ESS_INSTRUMENTS = [
    name
    for name in installed_instruments()
    if is_ess_instrument(load_instrument(name).instrument)
]
PULSES = 70  # 5 s at 14 Hz
EVENTS_PER_PULSE = 200


@pytest.fixture(scope="module", params=ESS_INSTRUMENTS)
def loaded(request, tmp_path_factory) -> Iterator[LoadedInstrument]:
    with on_stand_in_geometry(request.param, tmp_path_factory.mktemp("geo")) as it:
        yield it


def test_the_ess_instruments_are_installed():
    expected = {"beer", "bifrost", "dream", "estia", "loki", "magic", "nmx", "odin"}
    assert expected | {"tbl"} <= set(ESS_INSTRUMENTS)


@pytest.mark.kafka
def test_fakes_on_production_topics_balance_the_ledgers(loaded, kafka_broker, tmp_path):
    run_fakes_through_services(
        loaded,
        kafka_broker.bootstrap_servers,
        tmp_path,
        Topology.PRODUCTION,
        pulses=PULSES,
        events_per_pulse=EVENTS_PER_PULSE,
    )
