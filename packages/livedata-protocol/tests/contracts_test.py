import pytest

from ess.livedata.protocol import (
    CONTRACTS,
    DETECTOR_DATA,
    MONITOR_DATA,
    DetectorOutputs,
    MonitorStatus,
    ServiceName,
    Temporality,
    split_result_name,
    temporality_of,
)


@pytest.mark.parametrize(
    ("name", "temporality"),
    [
        ("monitor_data/monitor1/current", Temporality.WINDOW),
        ("monitor_data/monitor1/cumulative", Temporality.CUMULATIVE),
        ("monitor_data/monitor1/counts_total", Temporality.WINDOW),
        ("monitor_data/monitor1/counts_total_cumulative", Temporality.CUMULATIVE),
        ("detector_data/panel_0/current", Temporality.WINDOW),
        ("detector_data/panel_0/cumulative", Temporality.CUMULATIVE),
        ("detector_data/panel_0/toa_current", Temporality.WINDOW),
        ("detector_data/panel_0/roi_spectra_cumulative", Temporality.CUMULATIVE),
        ("detector_data/panel_0/roi_spectra_current", Temporality.WINDOW),
        ("detector_data/panel_0/roi_rectangle", Temporality.SERIES),
        ("timeseries/motor_x/history", Temporality.SERIES),
        # A reduction output is never summed, whatever its name says.
        ("data_reduction/job-1/ratio_cumulative", Temporality.SERIES),
        ("data_reduction/current_job/iofq", Temporality.SERIES),
        # Foreign or unknown names stand as newest.
        ("other/panel_0/current", Temporality.SERIES),
        ("monitor_data/monitor1/unknown", Temporality.SERIES),
    ],
)
def test_temporality_is_the_declared_one(name, temporality):
    assert temporality_of(name) is temporality


def test_every_service_has_one_contract():
    assert set(CONTRACTS) == set(ServiceName)


def test_result_names_are_built_from_the_declaration():
    name = DETECTOR_DATA.result_name("panel_0", DetectorOutputs.ROI_SPECTRA_CURRENT)
    assert name == "detector_data/panel_0/roi_spectra_current"
    assert split_result_name(name) == (
        "detector_data",
        "panel_0",
        "roi_spectra_current",
    )
    assert (
        DETECTOR_DATA.output("roi_spectra_current")
        is DetectorOutputs.ROI_SPECTRA_CURRENT
    )


def test_unknown_output_is_a_key_error():
    with pytest.raises(KeyError, match="declares no output"):
        MONITOR_DATA.output("pixels_current")


def test_status_reads_details_and_ignores_unknown_fields():
    details = {
        "ledger": {"monitor1": {"received": 5, "counted": 5, "balanced": True}},
        "binning": {"monitor1": {"toa_min": 0, "toa_max": 71, "bins": 10}},
        "running": {"monitor1": True},
        "commands_accepted": 2,
        "a_field_from_a_newer_service": 1,
    }
    status = MONITOR_DATA.parse_status(details)
    assert isinstance(status, MonitorStatus)
    assert status.ledger["monitor1"].counted == 5
    assert status.binning["monitor1"].bins == 10
    assert status.commands_accepted == 2
