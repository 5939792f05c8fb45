"""Fake detector events at 14 Hz: one ev44 message per bank per pulse.

Run ``python -m ess.livedata.services.fake_detectors --instrument dummy``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ess.livedata.fake.cli import fake_parser, run_fake
from ess.livedata.fake.detectors import run_detectors


def main(argv: Sequence[str] | None = None) -> None:
    parser = fake_parser(
        "fake_detectors",
        "Produce fake detector events at 14 Hz, patterned by the instrument.",
        default_events_per_pulse=3000,
    )
    run_fake(parser.parse_args(argv), run_detectors)


if __name__ == "__main__":
    main()
