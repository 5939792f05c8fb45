"""Reading a NeXus file's event groups pulse by pulse for replay."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import h5py
import numpy as np
import pytest

from ess.livedata.config import ConfigError
from ess.livedata.core.instrument import (
    DetectorBank,
    GeometryFile,
    GeometryFiles,
    Instrument,
)
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.nexus_geometry import NexusDetector
from ess.livedata.core.plugins import load_instrument
from ess.livedata.fake import replay
from ess.livedata.fake.replay import event_streams, read_pulses
from ess.livedata.testing.nexus_files import (
    Bank,
    Component,
    NexusEvents,
    random_counts,
    write_nexus_file,
)

PANEL = Bank("panel_0", 1, (64, 64))
PULSES = 300  # more than one read of PULSES_PER_READ


@pytest.fixture
def run_file(tmp_path):
    events = NexusEvents(
        pulses=PULSES,
        detector_counts={"panel_0": random_counts(PANEL, 2.0, seed=1)},
        monitor_counts={"monitor1": 500},
    )
    path = tmp_path / "run.nxs"
    extra = Bank("not_dummy", 10_000, (2, 2))
    write_nexus_file(
        path,
        [PANEL, extra],
        [Component("monitor1", (0, 0, -5))],
        events=events,
    )
    return path, events


def test_event_groups_map_to_the_instruments_streams(run_file):
    path, _ = run_file
    instrument = load_instrument("dummy").instrument
    detectors = event_streams(path, instrument, StreamKind.DETECTOR_EVENTS)
    monitors = event_streams(path, instrument, StreamKind.MONITOR_EVENTS)
    assert detectors == {
        "/entry/instrument/panel_0/events": StreamId(
            StreamKind.DETECTOR_EVENTS, "panel_0"
        )
    }
    assert list(monitors.values()) == [StreamId(StreamKind.MONITOR_EVENTS, "monitor1")]


def test_a_bank_reading_its_geometry_from_a_group_replays_that_group(run_file):
    path, _ = run_file
    files = GeometryFiles(
        files=(GeometryFile("g.nxs", datetime(2020, 1, 1, tzinfo=UTC), "md5:00"),)
    )
    rear = DetectorBank("rear", "rear", NexusDetector(files, "panel_0"))
    instrument = Instrument("t", detectors=(rear,))
    assert event_streams(path, instrument, StreamKind.DETECTOR_EVENTS) == {
        "/entry/instrument/panel_0/events": StreamId(StreamKind.DETECTOR_EVENTS, "rear")
    }


def test_pulses_keep_the_files_structure(run_file, monkeypatch):
    monkeypatch.setattr(replay, "PULSES_PER_READ", 128)
    path, events = run_file
    group = "/entry/instrument/panel_0/events"
    stream = StreamId(StreamKind.DETECTOR_EVENTS, "panel_0")
    pulses = list(read_pulses(path, group, stream))
    with h5py.File(path) as f:
        index = f[group]["event_index"][()]
        ids = f[group]["event_id"][()]
        times = f[group]["event_time_zero"][()]
        toa = f[group]["event_time_offset"][()]
    assert [p.time_ns for p in pulses] == times.tolist()
    bounds = [*index.tolist(), ids.size]
    for pulse, (begin, end) in zip(pulses, itertools.pairwise(bounds), strict=True):
        np.testing.assert_array_equal(pulse.event_id, ids[begin:end])
        np.testing.assert_array_equal(pulse.time_of_arrival, toa[begin:end])
        assert pulse.event_id.dtype == np.int32
    counts = np.bincount(np.concatenate([p.event_id for p in pulses]), minlength=4097)
    np.testing.assert_array_equal(counts[1:], events.detector_counts["panel_0"].ravel())


def test_a_file_that_is_not_hdf5_is_one_line(tmp_path):
    (tmp_path / "bad.nxs").write_text("nope")
    instrument = load_instrument("dummy").instrument
    with pytest.raises(ConfigError, match="cannot read NeXus file"):
        event_streams(tmp_path / "bad.nxs", instrument, StreamKind.DETECTOR_EVENTS)
