"""Child-process lifetime: children never outlive the program that started them."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """Return a ``preexec_fn`` that kills a child process when its parent dies.

    A broker or service orphaned by a crashed or SIGKILLed test run or demo
    would keep its port and go on producing, so the kernel is asked to
    SIGKILL the child when the process that started it dies (Linux
    ``prctl(PR_SET_PDEATHSIG)``). The signal fires when the *thread* that
    spawned the child exits, so start children from a thread that lives as
    long as they should (normally the main thread). Elsewhere than Linux this
    returns ``None`` and stopping children explicitly is the only cleanup.
    """
    if not sys.platform.startswith("linux"):
        return None
    # Resolved before fork: the child must not load libraries.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def set_death_signal() -> None:
        _set_death_signal(prctl, signal.SIGKILL, parent)

    return set_death_signal


def signal_when_parent_dies(sig: signal.Signals) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies.

    For a program that cleans up on ``sig``: killed with its launcher (e.g.
    nox got SIGKILL), it would otherwise run on, orphaned. The same caveat
    as :func:`die_with_parent` applies: it is the parent's *thread* that
    counts. Does nothing elsewhere than Linux.
    """
    if sys.platform.startswith("linux"):
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        _set_death_signal(prctl, sig, os.getppid())


def _set_death_signal(prctl: Callable[..., int], sig: int, parent: int) -> None:
    if prctl(_PR_SET_PDEATHSIG, sig) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), sig)
