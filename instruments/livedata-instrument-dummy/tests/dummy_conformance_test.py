from ess.livedata.core.conformance import conformance_problems
from ess.livedata.core.message import StreamId, StreamKind
from ess.livedata.core.plugins import installed_instruments, load_instrument
from ess.livedata.core.streams import Topology


def test_dummy_is_installed_through_its_entry_point():
    assert "dummy" in installed_instruments()


def test_dummy_passes_conformance():
    assert conformance_problems(load_instrument("dummy")) == []


def test_dummy_banks_have_the_declared_shapes():
    instrument = load_instrument("dummy").instrument
    assert instrument.detector("panel_0").geometry.sizes == {"y": 128, "x": 128}
    assert instrument.detector("tubes_1").geometry.sizes == {"tube": 48, "pixel": 64}
    first, last = instrument.detector("panel_0").pixel_id_range()
    assert (first, last) == (1, 128 * 128)
    # The facility's area detector (ad00 images, 256 x 256 from its fake).
    assert instrument.area_detector("area_panel").shape == (256, 256)


def test_area_panel_arrives_on_the_area_detector_topic():
    mapping = load_instrument("dummy").stream_mapping(Topology.DEV)
    stream = mapping.resolve("dummy_area_detector", "area_panel")
    assert stream == StreamId(StreamKind.AREA_DETECTOR, "area_panel")


def test_production_topology_equals_dev_so_fakes_feed_services_without_dev():
    loaded = load_instrument("dummy")
    assert loaded.stream_mapping(Topology.PRODUCTION) == loaded.stream_mapping(
        Topology.DEV
    )
