"""Hostile command payloads: every service's parser answers InvalidCommand, never more.

A command topic is writable by every dashboard, so whatever arrives on it must
end as a parsed :class:`Command` or an :class:`InvalidCommand` with a reason
that the service sends back as a rejection; any other exception would stop
the service. Random bytes, random JSON, random bodies built from the real
field names, and mutated valid commands are tried against each service's
command union. CI tries 150 examples per property; ``LIVEDATA_FUZZ=1`` makes
it 20 000 for a long run.
"""

from __future__ import annotations

import json
import os
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from ess.livedata.core.commands import (
    MAX_COMMAND_BYTES,
    MONITOR_COMMANDS,
    Command,
    InvalidCommand,
    parse_command,
)
from ess.livedata.core.detector_commands import DETECTOR_COMMANDS
from ess.livedata.core.job_commands import JOB_COMMANDS
from ess.livedata.core.timeseries_commands import TIMESERIES_COMMANDS

ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "monitor_data": MONITOR_COMMANDS,
    "detector_data": DETECTOR_COMMANDS,
    "timeseries": TIMESERIES_COMMANDS,
    "data_reduction": JOB_COMMANDS,
}
SERVICES = sorted(ADAPTERS)
FUZZ = settings(
    max_examples=20_000 if os.environ.get("LIVEDATA_FUZZ") else 150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _bodies(adapter: TypeAdapter[Any]) -> list[type[BaseModel]]:
    """The body models of a command union ``Annotated[A | B, discriminator]``."""
    union = typing.get_args(adapter._type)[0]  # type: ignore[attr-defined]
    return list(typing.get_args(union))


def _field_names(adapter: TypeAdapter[Any]) -> list[str]:
    return sorted({f for body in _bodies(adapter) for f in body.model_fields})


def _actions(adapter: TypeAdapter[Any]) -> list[str]:
    return sorted(body.model_fields["action"].default for body in _bodies(adapter))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()  # NaN and infinities too: json writes them, json reads them
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
"""Any JSON document, as Python objects."""

plausible = st.one_of(
    st.floats(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from([0, 1, -1, 10**9, 2**31, 2**63, 1e999, -1e999]),
    st.text(max_size=70),
    st.sampled_from(["ms", "us", "ns", "s", "rectangle", "polygon", "dummy/v1"]),
    st.lists(st.integers(min_value=-5, max_value=5000), max_size=4),
    st.lists(st.lists(st.floats(), max_size=3), max_size=40),
    json_values,
)
"""Values near the validators' boundaries, and a few absurd ones."""


@st.composite
def bodies(draw: st.DrawFn, adapter: TypeAdapter[Any]) -> dict[str, Any]:
    """A body with a real action and random values for real field names."""
    names = _field_names(adapter)
    body = draw(st.dictionaries(st.sampled_from(names), plausible, max_size=6))
    body["action"] = draw(st.sampled_from([*_actions(adapter), "explode", 3]))
    return body


def _parse(payload: bytes, service: str) -> Command | None:
    """The command, or None when rejected; any other exception fails the test."""
    rejected: InvalidCommand | None = None
    try:
        command = parse_command(payload, ADAPTERS[service])
    except InvalidCommand as error:
        rejected = error
    if rejected is not None:
        assert rejected.reason, "a rejection needs a reason to send back"
        assert len(rejected.command_id) <= 64
        assert len(rejected.service) <= 64
        return None
    assert isinstance(command.body, BaseModel)
    return command


def _payload(command_id: Any, service: Any, body: Any) -> bytes:
    return json.dumps({"command_id": command_id, "service": service, "body": body})


@pytest.mark.parametrize("service", SERVICES)
@FUZZ
@given(payload=st.binary(max_size=400))
def test_random_bytes(service: str, payload: bytes) -> None:
    _parse(payload, service)


@pytest.mark.parametrize("service", SERVICES)
@FUZZ
@given(document=json_values)
def test_random_json(service: str, document: Any) -> None:
    _parse(json.dumps(document).encode(), service)


@pytest.mark.parametrize("service", SERVICES)
@FUZZ
@given(data=st.data())
def test_random_bodies_with_real_field_names(service: str, data: st.DataObject) -> None:
    body = data.draw(bodies(ADAPTERS[service]))
    command_id = data.draw(st.one_of(st.text(max_size=80), json_values))
    _parse(_payload(command_id, service, body).encode(), service)


VALID = {
    "monitor_data": {
        "action": "set_toa_binning",
        "toa_min": 1,
        "toa_max": 50,
        "bins": 100,
    },
    "detector_data": {
        "action": "set_roi",
        "target": "panel",
        "view": "xy",
        "roi": 1,
        "shape": {"kind": "rectangle", "x_min": 0, "x_max": 2, "y_min": 0, "y_max": 3},
    },
    "timeseries": {"action": "set_history_caps", "length_s": 60, "max_points": 100},
    "data_reduction": {
        "action": "start_job",
        "target": "j1",
        "workflow": "w/v1",
        "sources": ["a"],
        "params": {"x": 1},
    },
}


@pytest.mark.parametrize("service", SERVICES)
def test_valid_samples_parse(service: str) -> None:
    assert _parse(_payload("c1", service, VALID[service]).encode(), service)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into a JSON document (dict keys and list indices)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@pytest.mark.parametrize("service", SERVICES)
@FUZZ
@given(data=st.data())
def test_mutated_valid_commands(service: str, data: st.DataObject) -> None:
    command = {"command_id": "c1", "service": service, "body": VALID[service]}
    command = json.loads(json.dumps(command))  # a deep copy to mutate
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(command)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        *parents, last = path
        node = command
        for key in parents:
            node = node[key]
        how = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if how == "replace":
            node[last] = data.draw(plausible)
        elif how == "delete":
            del node[last]
        elif isinstance(node, dict):
            node[data.draw(st.text(max_size=10))] = data.draw(plausible)
        else:
            node.append(data.draw(plausible))
    _parse(json.dumps(command).encode(), service)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[" * 50_000, "nested too deeply"),
        (b'{"body": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", "nested too deeply"),
        (b'{"command_id": ' + b"9" * 10_000 + b"}", "not JSON"),
        (b"\xff\xfe{}", "not JSON"),
        (b"x" * (MAX_COMMAND_BYTES + 1), f"larger than {MAX_COMMAND_BYTES} bytes"),
        (b'{"service": 1, "body": {}, "command_id": [2]}', "service"),
    ],
    ids=["deep", "deep-body", "huge-int", "binary", "oversized", "wrong-types"],
)
def test_hostile_payloads_are_rejected_with_a_reason(
    service: str, payload: bytes, reason: str
) -> None:
    with pytest.raises(InvalidCommand) as info:
        parse_command(payload, ADAPTERS[service])
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("service", "body", "field"),
    [
        (
            "monitor_data",
            {"action": "set_toa_binning", "toa_max": 50, "bins": 10**9},
            "bins",
        ),
        (
            "detector_data",
            {"action": "set_toa_binning", "toa_max": 50, "bins": 10**9},
            "bins",
        ),
        (
            "monitor_data",
            {"action": "set_toa_binning", "toa_min": -1, "toa_max": 50, "bins": 9},
            "toa_min",
        ),
        (
            "monitor_data",
            {"action": "set_toa_binning", "toa_max": float("inf"), "bins": 9},
            "toa_max",
        ),
        (
            "monitor_data",
            {"action": "set_toa_binning", "toa_min": float("nan"), "toa_max": 5},
            "toa_min",
        ),
        (
            "detector_data",
            {
                "action": "set_view_resolution",
                "target": "panel",
                "view": "xy",
                "resolution": [10**6, 10**6],
            },
            "resolution",
        ),
        (
            "detector_data",
            {
                "action": "set_roi",
                "target": "panel",
                "view": "xy",
                "roi": 0,
                "shape": {"kind": "polygon", "vertices": [[0, 0]] * 1_000},
            },
            "vertices",
        ),
        *(
            (
                # Both ends round to 0 ns: an empty range would stop histogramming.
                service,
                {
                    "action": "set_toa_binning",
                    "toa_min": 0.1,
                    "toa_max": 0.2,
                    "bins": 10,
                    "unit": "ns",
                },
                "toa_max",
            )
            for service in ("monitor_data", "detector_data")
        ),
        (
            "timeseries",
            {"action": "set_history_caps", "max_points": 10**9},
            "max_points",
        ),
        (
            "timeseries",
            {"action": "set_history_caps", "length_s": float("nan")},
            "length_s",
        ),
        (
            "data_reduction",
            {
                "action": "start_job",
                "target": "../../etc",
                "workflow": "w/v1",
                "sources": ["a"],
            },
            "target",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_absurd_values_are_refused_naming_the_field(
    service: str, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidCommand) as info:
        parse_command(_payload("c1", service, body).encode(), ADAPTERS[service])
    assert field in info.value.reason
    assert info.value.command_id == "c1"
