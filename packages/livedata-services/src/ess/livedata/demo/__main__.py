"""``python -m ess.livedata.demo``: the same as ``livedata demo``."""

from .cli import demo_parser, run_demo

if __name__ == "__main__":
    run_demo(demo_parser("python -m ess.livedata.demo").parse_args())
