"""Fake f144 log data: motors, temperatures and switches of an instrument.

Run ``python -m ess.livedata.services.fake_logdata --instrument dummy``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ess.livedata.fake.cli import _positive_float, fake_base_parser, run_fake
from ess.livedata.fake.logs import run_logs


def main(argv: Sequence[str] | None = None) -> None:
    parser = fake_base_parser(
        "fake_logdata",
        "Produce fake f144 log values for each of the instrument's log streams.",
    )
    parser.add_argument(
        "--seconds",
        type=_positive_float,
        default=None,
        help="stop after this many seconds of data (default: run until Ctrl-C)",
    )
    run_fake(parser.parse_args(argv), run_logs)


if __name__ == "__main__":
    main()
