"""Fake beam-monitor data at 14 Hz: ``--mode ev44`` events or ``--mode da00`` spectra.

Run ``python -m ess.livedata.services.fake_monitors --mode ev44 --instrument dummy``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ess.livedata.fake.cli import fake_parser, run_fake
from ess.livedata.fake.monitors import run_monitors


def main(argv: Sequence[str] | None = None) -> None:
    parser = fake_parser(
        "fake_monitors",
        "Produce fake beam-monitor data at 14 Hz.",
        default_events_per_pulse=2000,
    )
    parser.add_argument(
        "--mode", choices=("ev44", "da00"), default="ev44", help="events or histograms"
    )
    run_fake(parser.parse_args(argv), run_monitors)


if __name__ == "__main__":
    main()
