"""Run a livedata service module as ``python -m`` would, with config overlays.

    python service_main.py ess.livedata.services.detector_data --instrument dummy --dev

``LIVEDATA_BENCH_OVERRIDES`` (JSON) is merged into the packaged defaults
before the service starts, e.g. ``{"kafka_upstream": {"consumer":
{"fetch.wait.max.ms": 10}}, "services": {"poll_timeout_ms": 20}}``, so a
benchmark can compare settings in one run without editing the shared YAML
files. Without the variable this is exactly ``python -m <module> <args>``.

The key ``"patches"`` runs earlier code, to measure a change against its
baseline in the same run: ``"legacy_consume"`` restores the single blocking
``consume(batch_size, timeout)`` of ``KafkaSource`` before ``_poll`` (commit
8d959a1); the names in ``baselines.PATCHES`` restore the generated-accessor
ev44 decoder (``generated_ev44``), the stream resolution on every message
(``streams_unremembered``) and the command poll that waited too
(``commands_blocking``).
``LIVEDATA_BENCH_PROFILE=<file>`` runs the service under cProfile and
writes the statistics there on exit.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from typing import Any


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _legacy_poll(self: Any) -> Any:
    return self._consumer.consume(self._batch_size, self._poll_timeout_s)


def _install(overrides: dict[str, Any]) -> None:
    import ess.livedata.kafka.settings as settings
    import ess.livedata.processing.service as service
    from ess.livedata.kafka.source import KafkaSource

    patches = set(overrides.pop("patches", ()))
    if "legacy_consume" in patches:
        KafkaSource._poll = _legacy_poll
        patches.remove("legacy_consume")
    if patches:
        from baselines import PATCHES

        for name in sorted(patches):
            PATCHES[name]()

    original = settings.load_config

    def load_config(name: str, env: Any = None) -> dict[str, Any]:
        return _merge(original(name, env), overrides.get(name, {}))

    settings.load_config = load_config
    service.load_config = load_config


def main() -> None:
    module, args = sys.argv[1], sys.argv[2:]
    overrides = os.environ.get("LIVEDATA_BENCH_OVERRIDES")
    if overrides:
        _install(json.loads(overrides))
    sys.argv = [module, *args]
    profile = os.environ.get("LIVEDATA_BENCH_PROFILE")
    if not profile:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return
    import cProfile

    profiler = cProfile.Profile()
    try:
        profiler.runcall(runpy.run_module, module, run_name="__main__", alter_sys=True)
    finally:
        profiler.dump_stats(profile)


if __name__ == "__main__":
    main()
