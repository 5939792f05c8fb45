"""Test matrix: one session per distribution, each in its own venv.

Each session installs only its distribution, its ``test`` extra and the
in-repo distributions those need, so a missing dependency fails here instead
of being hidden by a shared environment. Run ``nox -l`` to list sessions.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tomllib
from pathlib import Path

import nox
from nox.command import CommandFailed

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True

PYTHON_VERSION = "3.12"


def _interpreter(version: str) -> str:
    """``version``, or the path of a pyenv-installed one that is not on PATH.

    nox (and uv) look for ``python3.12`` on PATH; under pyenv that is a shim
    which fails unless 3.12 is the active version, and uv cannot download
    interpreters without internet. So a pyenv 3.12 is used by path, with no
    ``pyenv global`` or ``PYENV_VERSION`` step on the user's side.
    """
    on_path = shutil.which(f"python{version}")
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    if on_path and Path(on_path).parent != pyenv_root / "shims":
        return version
    releases = {
        int(match.group(1)): path / "bin" / f"python{version}"
        for path in (pyenv_root / "versions").glob(f"{version}.*")
        if (match := re.fullmatch(rf"{re.escape(version)}\.(\d+)", path.name))
    }
    return str(releases[max(releases)]) if releases else version


PYTHON = _interpreter(PYTHON_VERSION)
DISTRIBUTIONS = {
    path.name: path
    for parent in ("packages", "instruments")
    for path in sorted((ROOT / parent).iterdir())
    if (path / "pyproject.toml").is_file()
}
_NAME = re.compile(r"^[A-Za-z0-9_.-]+")


def _requirements(name: str, extras: tuple[str, ...]) -> list[str]:
    project = tomllib.loads((DISTRIBUTIONS[name] / "pyproject.toml").read_text())[
        "project"
    ]
    optional = project.get("optional-dependencies", {})
    reqs = list(project.get("dependencies", []))
    for extra in extras:
        reqs += optional.get(extra, [])
    return reqs


def in_repo_closure(name: str, extras: tuple[str, ...] = ("test",)) -> list[str]:
    """``name`` and every in-repo distribution it (transitively) requires."""
    seen: list[str] = []
    todo = [(name, extras)]
    while todo:
        current, current_extras = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        for req in _requirements(current, current_extras):
            match = _NAME.match(req)
            dep = match.group(0) if match else ""
            if dep in DISTRIBUTIONS:
                todo.append((dep, ()))
    return seen


def _install(session: nox.Session, name: str, extras: str = "test") -> None:
    local = in_repo_closure(name, (extras,) if extras else ())
    targets = [str(DISTRIBUTIONS[d]) for d in local]
    targets[0] += f"[{extras}]" if extras else ""
    session.install(*targets)


def _pytest(
    session: nox.Session, *paths: str, success_codes: tuple[int, ...] = (0,)
) -> None:
    session.run(
        "python",
        "-m",
        "pytest",
        *paths,
        *session.posargs,
        env={"LIVEDATA_ISOLATED": session.name},
        success_codes=list(success_codes),
    )


APT_INSTALL = ROOT / "scripts" / "apt_install.sh"


def _install_chromium(session: nox.Session) -> None:
    """Browser tests drive Debian's headless chromium; installed if missing."""
    session.run(
        "sh",
        str(APT_INSTALL),
        "/usr/bin/chromium",
        "chromium",
        "chromium-driver",
        external=True,
    )


def _install_docker_compose(session: nox.Session) -> None:
    """The compose tests run Debian's docker-compose; installed if missing."""
    session.run(
        "sh", str(APT_INSTALL), "docker-compose", "docker-compose", external=True
    )


def _make_session(name: str) -> None:
    def run(session: nox.Session) -> None:
        _install(session, name)
        if name == "livedata-dashboard":
            _install_chromium(session)
        _pytest(session, str(DISTRIBUTIONS[name] / "tests"))

    run.__doc__ = f"Tests of {name}, installed alone with its in-repo dependencies."
    nox.session(python=PYTHON, name=name)(run)


for _name in DISTRIBUTIONS:
    _make_session(_name)


NOTHING_SELECTED = 5
"""pytest's exit code when no test is selected, e.g. ``-k`` names none of a phase."""

INTEGRATION_WORKERS = os.environ.get("LIVEDATA_TEST_WORKERS", "2")
"""Test files run at once in the integration session, each worker with its
own session broker (0: one after another, in the nox process). Tests marked
``alone`` (they measure the machine or fill it) run after, one at a time."""


@nox.session(python=PYTHON)
def integration(session: nox.Session) -> None:
    """Cross-distribution tests over the real Kafka broker (everything installed)."""
    for name in DISTRIBUTIONS:
        _install(session, name)
    _install_chromium(session)
    _install_docker_compose(session)
    session.install("pytest-xdist")
    # The slowest tests are listed so CI time can be kept under its budget.
    # Both phases run even if the first fails, so one run reports every failure.
    phases = [
        ("not alone", ("--numprocesses", INTEGRATION_WORKERS, "--dist", "loadfile")),
        ("alone", ("--numprocesses", "0")),
    ]
    failed = []
    for marks, workers in phases:
        try:
            _pytest(
                session,
                str(ROOT / "tests"),
                *("-m", marks, *workers, "--durations=15"),
                success_codes=(0, NOTHING_SELECTED),
            )
        except CommandFailed:
            failed.append(marks)
    if failed:
        session.error(f"integration tests failed: {', '.join(failed)}")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check over the whole repository."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


TYPED = {
    # distribution: (packages to check, strict?)
    "livedata-protocol": (["ess.livedata.protocol"], True),
    "livedata-core": (["ess.livedata.core", "ess.livedata.config"], False),
    "livedata-kafka": (["ess.livedata.kafka"], False),
    "livedata-fake": (["ess.livedata.fake", "ess.livedata.services"], False),
    "livedata-services": (
        [
            "ess.livedata.services",
            "ess.livedata.processing",
            "ess.livedata.demo",
            "ess.livedata.reduction",
        ],
        False,
    ),
    "livedata-ess": (["ess.livedata.ess"], False),
    "livedata-dashboard": (["ess.livedata.dashboard"], False),
}
TYPED_EXTRAS = {"livedata-services": "[reduction]"}
"""Extras a checked package imports (``ess.livedata.reduction``: essreduce)."""
STUBS = ["types-PyYAML", "types-gunicorn", "types-python-dateutil", "pandas-stubs"]


def _mypy_targets(name: str, package: str) -> list[str]:
    """mypy arguments naming ``package`` of distribution ``name``.

    A namespace portion (no ``__init__.py``, e.g. ``ess.livedata.services``,
    shared by two distributions) is named module by module: ``-p`` would
    check only the first portion mypy finds.
    """
    path = DISTRIBUTIONS[name] / "src" / package.replace(".", "/")
    if (path / "__init__.py").is_file():
        return ["-p", package]
    modules = sorted(path.glob("*.py"))
    return [arg for module in modules for arg in ("-m", f"{package}.{module.stem}")]


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy over the distributions whose public interfaces are fully typed.

    The contract package is checked strictly; the rest join as they are made
    to pass, so this list only grows. They and the in-repo distributions they
    need are installed editable: mypy resolves the ``ess`` namespace in
    site-packages, and a regular install there is a copy uv does not rebuild
    when only a module changed.
    """
    local = dict.fromkeys(dep for name in TYPED for dep in in_repo_closure(name, ()))
    session.install(
        *(
            arg
            for name in local
            for arg in ("-e", f"{DISTRIBUTIONS[name]}{TYPED_EXTRAS.get(name, '')}")
        )
    )
    session.install("mypy", *STUBS)
    for name, (packages, strict) in TYPED.items():
        flags = ["--strict"] if strict else []
        args = [arg for package in packages for arg in _mypy_targets(name, package)]
        session.run("mypy", "--namespace-packages", *flags, *args)


@nox.session(python=PYTHON, default=False)
def demo(session: nox.Session) -> None:
    """Install every distribution and run the live demo (``livedata demo``).

    Instruments come with their ``reduction`` extra, so the reduction page can
    start every workflow (without it the service cannot import sciline).
    """
    for name, path in DISTRIBUTIONS.items():
        if name != "livedata-testing":
            instrument = path.parent.name == "instruments"
            _install(session, name, extras="reduction" if instrument else "")
    # nox stops a command on Ctrl-C only: SIGTERM or SIGHUP would end nox alone.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    session.run(
        "livedata",
        "demo",
        "--instrument",
        "dummy",
        *session.posargs,
        # nox's defaults SIGKILL the demo 0.5 s after an interrupt, before it
        # has stopped its broker and deleted the broker's data: wait 1 s for
        # a Ctrl-C to reach it, then SIGTERM it and give it time to clean up.
        interrupt_timeout=1.0,
        terminate_timeout=120.0,
    )


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation; any Sphinx warning fails the build."""
    session.install("sphinx", "myst-parser")
    session.run(
        "sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html"
    )
