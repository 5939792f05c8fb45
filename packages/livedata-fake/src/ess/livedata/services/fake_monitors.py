"""Fake beam-monitor data at 14 Hz: ``--mode ev44`` events or ``--mode da00`` spectra.

Run ``python -m ess.livedata.services.fake_monitors --mode ev44 --instrument dummy``;
with ``--nexus-file F [--speedup X]`` it replays the file's NXmonitor events
(as ev44).
"""

from __future__ import annotations

from collections.abc import Sequence

from ess.livedata.fake.cli import fake_parser, run_fake
from ess.livedata.fake.monitors import run_monitors
from ess.livedata.fake.replay import add_replay_options, replay_monitors


def main(argv: Sequence[str] | None = None) -> None:
    parser = fake_parser(
        "fake_monitors",
        "Produce fake beam-monitor data at 14 Hz.",
        default_events_per_pulse=2000,
    )
    parser.add_argument(
        "--mode", choices=("ev44", "da00"), default="ev44", help="events or histograms"
    )
    add_replay_options(parser)
    args = parser.parse_args(argv)
    if args.nexus_file and args.mode != "ev44":
        parser.error("--nexus-file replays events: use --mode ev44")
    run_fake(args, replay_monitors if args.nexus_file else run_monitors)


if __name__ == "__main__":
    main()
