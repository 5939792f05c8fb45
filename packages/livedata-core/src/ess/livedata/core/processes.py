"""Child-process lifetime: children never outlive the program that started them."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable


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
    pr_set_pdeathsig = 1
    parent = os.getpid()

    def set_death_signal() -> None:
        if prctl(pr_set_pdeathsig, signal.SIGKILL) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return set_death_signal
