"""Fake detector events at 14 Hz: one ev44 message per bank per pulse, and
one ad00 image per area detector per pulse.

Run ``python -m ess.livedata.services.fake_detectors --instrument dummy``
(``--mode ev44`` or ``--mode ad00`` sends only one of them, as the
facility's fake); with ``--nexus-file F [--speedup X]`` it replays the
file's NXdetector events.
"""

from __future__ import annotations

from collections.abc import Sequence

from ess.livedata.fake.cli import fake_parser, run_fake
from ess.livedata.fake.detectors import add_mode_option, run_detectors
from ess.livedata.fake.replay import add_replay_options, replay_detectors


def main(argv: Sequence[str] | None = None) -> None:
    parser = fake_parser(
        "fake_detectors",
        "Produce fake detector events and area-detector images at 14 Hz, "
        "patterned by the instrument.",
        default_events_per_pulse=3000,
    )
    add_mode_option(parser)
    add_replay_options(parser)
    args = parser.parse_args(argv)
    run_fake(args, replay_detectors if args.nexus_file else run_detectors)


if __name__ == "__main__":
    main()
