"""Choosing a geometry file by date and finding a verified copy of it."""

from __future__ import annotations

import gc
import hashlib
import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from ess.livedata.core.geometry_files import (
    CACHE_DIR_VARIABLE,
    DATA_DIR_VARIABLE,
    GeometryFileError,
    choose_geometry_file,
    locate_geometry_file,
)
from ess.livedata.core.instrument import GeometryFile, GeometryFiles

CONTENT = b"not really NeXus, but checksummed all the same"
SHA256 = "sha256:" + hashlib.sha256(CONTENT).hexdigest()


def dated(name: str, year: int, month: int = 1) -> GeometryFile:
    return GeometryFile(name, datetime(year, month, 1, tzinfo=UTC), SHA256)


FILES = GeometryFiles(
    files=(dated("c.nxs", 2026, 3), dated("a.nxs", 2024), dated("b.nxs", 2025))
)


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch) -> None:
    """No test sees the user's data directory or download cache."""
    monkeypatch.delenv(DATA_DIR_VARIABLE, raising=False)
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "cache"))


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(2024, 1, 1, tzinfo=UTC), "a.nxs"),  # first day of the first
        (datetime(2024, 12, 31, tzinfo=UTC), "a.nxs"),
        (datetime(2025, 1, 1, tzinfo=UTC), "b.nxs"),  # next one takes over
        (datetime(2026, 2, 28, tzinfo=UTC), "b.nxs"),
        (datetime(2030, 1, 1, tzinfo=UTC), "c.nxs"),  # last is open-ended
    ],
)
def test_each_file_is_valid_from_its_date_until_the_next(when, expected):
    assert choose_geometry_file(FILES, when).file.name == expected


def test_the_reason_states_the_date_rule():
    chosen = choose_geometry_file(FILES, datetime(2025, 6, 1, tzinfo=UTC))
    assert chosen.reason == (
        "valid from 2025-01-01T00:00:00+00:00 until 2026-03-01T00:00:00+00:00, "
        "covering 2025-06-01T00:00:00+00:00"
    )
    last = choose_geometry_file(FILES, datetime(2027, 1, 1, tzinfo=UTC))
    assert "until open-ended" in last.reason


def test_default_date_is_now():
    assert choose_geometry_file(FILES).file.name == "c.nxs"


def test_a_date_before_every_file_is_refused():
    with pytest.raises(
        GeometryFileError, match=r"earliest, a\.nxs, is valid from 2024"
    ):
        choose_geometry_file(FILES, datetime(2023, 1, 1, tzinfo=UTC))


def test_declarations_need_timezone_and_known_checksum():
    with pytest.raises(ValueError, match="timezone"):
        GeometryFile("x.nxs", datetime(2024, 1, 1), SHA256)
    with pytest.raises(ValueError, match="md5"):
        GeometryFile("x.nxs", datetime(2024, 1, 1, tzinfo=UTC), "crc32:1234")
    with pytest.raises(ValueError, match="same date"):
        GeometryFiles(files=(dated("a.nxs", 2024), dated("b.nxs", 2024)))


def test_found_in_the_data_directory(tmp_path, monkeypatch):
    (tmp_path / "a.nxs").write_bytes(CONTENT)
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    assert locate_geometry_file(dated("a.nxs", 2024)) == tmp_path / "a.nxs"


def test_md5_checksums_are_accepted(tmp_path, monkeypatch):
    (tmp_path / "a.nxs").write_bytes(CONTENT)
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    md5 = GeometryFile(
        "a.nxs",
        datetime(2024, 1, 1, tzinfo=UTC),
        "md5:" + hashlib.md5(CONTENT).hexdigest(),
    )
    assert locate_geometry_file(md5) == tmp_path / "a.nxs"


def test_the_data_directory_wins_over_the_cache(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    for directory in (data_dir, tmp_path / "cache"):
        directory.mkdir()
        (directory / "a.nxs").write_bytes(CONTENT)
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(data_dir))
    assert locate_geometry_file(dated("a.nxs", 2024)) == data_dir / "a.nxs"


def test_found_in_the_cache_without_a_data_directory(tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "a.nxs").write_bytes(CONTENT)
    assert locate_geometry_file(dated("a.nxs", 2024)) == tmp_path / "cache" / "a.nxs"


def test_a_checksum_mismatch_is_refused(tmp_path, monkeypatch):
    (tmp_path / "a.nxs").write_bytes(CONTENT + b"edited")
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(GeometryFileError) as error:
        locate_geometry_file(dated("a.nxs", 2024))
    message = str(error.value)
    assert "\n" not in message
    assert f"{tmp_path / 'a.nxs'}: sha256 checksum" in message
    assert f"does not match the declared {SHA256.split(':')[1]}" in message


def test_a_missing_file_is_one_line_naming_file_directory_and_variable(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(GeometryFileError) as error:
        locate_geometry_file(dated("a.nxs", 2024))
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(
        f"geometry file a.nxs not found in {DATA_DIR_VARIABLE}={tmp_path} "
    )
    assert message.endswith(f"put it in {DATA_DIR_VARIABLE}")


# pooch leaves the response of a failed download open; collected at teardown.
LEAKED_RESPONSE = pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture
def registry(tmp_path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server standing in for the plugin's registry."""
    served = tmp_path / "served"
    served.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/files/", served
    finally:
        server.shutdown()
        server.server_close()
        gc.collect()


def test_downloaded_into_the_cache_from_the_registry(tmp_path, registry):
    url, served = registry
    (served / "files").mkdir()
    (served / "files" / "a.nxs").write_bytes(CONTENT)
    path = locate_geometry_file(dated("a.nxs", 2024), url)
    assert path == tmp_path / "cache" / "a.nxs"
    assert path.read_bytes() == CONTENT


@LEAKED_RESPONSE
def test_a_download_with_a_wrong_checksum_is_refused(registry):
    url, served = registry
    (served / "files").mkdir()
    (served / "files" / "a.nxs").write_bytes(b"tampered")
    with pytest.raises(GeometryFileError) as error:
        locate_geometry_file(dated("a.nxs", 2024), url)
    assert "\n" not in str(error.value)
    assert f"a.nxs from {url}a.nxs" in str(error.value)


@LEAKED_RESPONSE
def test_an_unreachable_registry_is_the_missing_file_line(registry):
    url, _ = registry  # serves nothing: 404
    with pytest.raises(GeometryFileError) as error:
        locate_geometry_file(dated("a.nxs", 2024), url)
    message = str(error.value)
    assert "\n" not in message
    assert f"{DATA_DIR_VARIABLE}=(unset)" in message
    assert f"({url}a.nxs: HTTPError)" in message
