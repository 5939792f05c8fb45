"""Hook specifications instrument plugins implement.

An instrument plugin is a module (or object) with functions named like the
hooks below, decorated with :data:`hookimpl`, exposed through the
``livedata.instruments`` entry-point group. The entry point's name is the
instrument name users pass to ``--instrument``.

Hooks that register things receive a ``register`` callback, so a plugin can
register several items and the host owns validation and de-duplication.
Heavy imports belong inside hook bodies, never at module level of a plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .fake_shapes import FakeDataShapes
    from .instrument import Instrument
    from .streams import StreamMapping, Topology
    from .workflow import WorkflowFactory, WorkflowSpec

PROJECT_NAME = "livedata"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def livedata_register_instruments(register: Callable[[Instrument], None]) -> None:
    """Register the instruments this plugin defines.

    Called once when the plugin is loaded. Building an :class:`Instrument` must
    be cheap: detector geometry is built lazily by ``make_geometry``.

    :param register:
        Call with each :class:`~ess.livedata.core.instrument.Instrument`. A
        second instrument with the same name is an error.
    """


@hookspec(firstresult=True)
def livedata_stream_mapping(
    instrument: Instrument, topology: Topology
) -> StreamMapping | None:
    """Map Kafka (topic, source name) pairs to the instrument's logical streams.

    Implement this when the facility's topics or source names do not follow
    the default scheme (``{instrument}_detector``, ``{instrument}_beam_monitor``,
    ``{instrument}_{topic_kind}`` for logs).

    :param instrument: The instrument being run.
    :param topology: ``dev`` (simplified topics of the fake producers) or
        ``production``.
    :return: The mapping, or ``None`` to let the next plugin (ultimately the
        default mapping) answer.

    Stops at the first non-``None`` result.
    """


@hookspec
def livedata_register_workflow_specs(
    instrument: Instrument, register: Callable[[WorkflowSpec], None]
) -> None:
    """Register specs of the reduction workflows offered for ``instrument``.

    Specs are what dashboards read: keep this hook free of reduction imports.
    A spec declares the service that runs it (``data_reduction`` unless
    said otherwise), its outputs with temporality and unit
    (:class:`~ess.livedata.protocol.OutputSpec`) and its NICOS devices. The
    views of the built-in services (``monitor_histogram``, ``{bank}_{view}``,
    ``timeseries_data``) are registered for every instrument by livedata.

    :param instrument: The instrument being run.
    :param register: Call with each
        :class:`~ess.livedata.core.workflow.WorkflowSpec`.
    """


@hookspec
def livedata_register_workflow_factories(
    instrument: Instrument, register: Callable[[str, int, WorkflowFactory], None]
) -> None:
    """Register factories that build workflow instances (the heavy part).

    Only the reduction service calls this hook, so this is where reduction
    libraries (sciline, essreduce, ...) may be imported, inside the body.

    :param instrument: The instrument being run.
    :param register: Call as ``register(name, version, factory)`` for each
        spec registered by :func:`livedata_register_workflow_specs`.
    """


@hookspec(firstresult=True)
def livedata_fake_data_shapes(instrument: Instrument) -> FakeDataShapes | None:
    """Describe what fake data for ``instrument`` should look like.

    :param instrument: The instrument fake producers run for.
    :return: Shapes of monitor spectra and detector patterns, or ``None`` for
        the defaults.

    Stops at the first non-``None`` result.
    """


@hookspec(firstresult=True)
def livedata_stand_in_geometry(instrument: Instrument, path: Path) -> Path | None:
    """Write a geometry file standing in for the instrument's declared ones.

    Used where the real files cannot be had (offline demos, tests): banks
    carry the fake detector ranges. The demo points ``LIVEDATA_GEOMETRY_FILE``
    at it when no declared file is reachable.

    :param instrument: The instrument whose geometry files are missing.
    :param path: Where to write the file.
    :return: ``path`` once written, or ``None`` if the plugin has no stand-in.

    Stops at the first non-``None`` result.
    """


@hookspec(firstresult=True)
def livedata_dashboard_grids(
    instrument: Instrument, specs: Mapping[str, WorkflowSpec]
) -> list[dict[str, Any]] | None:
    """The first plot grids dashboards offer for ``instrument``.

    Plain data, see :mod:`ess.livedata.core.dashboard_templates` (whose
    ``default_grids`` answers when no plugin does); a plugin may start from
    those and adjust them. Must not import plotting code.

    :param instrument: The instrument the dashboard shows.
    :param specs: Every workflow spec registered for it, keyed ``name/vN``.
    :return: The grids, or ``None`` for the defaults.

    Stops at the first non-``None`` result.
    """
