"""Cost of serialising detector images as da00, against the library's writer.

Times ``ess.livedata.kafka.schemas.da00.encode_da00`` (what every service
runs once per output per window) and, in the same run, the same variables
through ``streaming_data_types.serialise_da00``, for square int64 images
with edge coords and a time window, as ``detector_data`` publishes them.
Prints a markdown table (medians).

    .venv/bin/python benchmarks/da00_encode.py
"""

from __future__ import annotations

import argparse
import platform

import numpy as np
import scipp as sc

# Shared with the monitor benchmark (run as a script, its folder is on the path).
from monitor_histogram import time_per_call
from streaming_data_types.dataarray_da00 import serialise_da00

from ess.livedata.kafka.schemas import da00

SIDES = (64, 512, 1000, 2000)


def image(side: int) -> sc.DataArray:
    counts = np.arange(side * side, dtype=np.int64).reshape(side, side)
    return sc.DataArray(
        sc.array(dims=["y", "x"], values=counts, unit="counts"),
        coords={
            "x": sc.linspace("x", -0.5, 0.5, side + 1, unit="m"),
            "y": sc.linspace("y", -0.5, 0.5, side + 1, unit="m"),
            "start_time": sc.datetime(1_700_000_000_000_000_000, unit="ns"),
            "end_time": sc.datetime(1_700_000_001_000_000_000, unit="ns"),
        },
        name="detector_data/panel_0/plane_current",
    )


def library_encode(data: sc.DataArray) -> bytes:
    """What ``encode_da00`` did before: the same variables, the library's writer."""
    variables = [da00._to_da00(da00.SIGNAL, data.data, label=data.name)]
    variables += [da00._to_da00(name, coord) for name, coord in data.coords.items()]
    return serialise_da00("detector_data", 0, variables)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    args = parser.parse_args()
    total, block, repeats = (0.05, 0.01, 3) if args.quick else (1.0, 0.05, 9)
    print(f"{platform.node()}, numpy {np.__version__}, scipp {sc.__version__}\n")
    print("| image | payload | encode_da00 | serialise_da00 | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for side in SIDES[:2] if args.quick else SIDES:
        data = image(side)
        payload = da00.encode_da00("detector_data", 0, data)
        assert payload == library_encode(data), "writers disagree"
        ours = time_per_call(
            lambda d=data: da00.encode_da00("detector_data", 0, d),
            total,
            block,
            repeats,
        )
        theirs = time_per_call(lambda d=data: library_encode(d), total, block, repeats)
        print(
            f"| {side} x {side} int64 | {len(payload) / 1e6:.1f} MB "
            f"| {ours * 1e3:.2f} ms | {theirs * 1e3:.2f} ms | {theirs / ours:.1f}x |"
        )


if __name__ == "__main__":
    main()
