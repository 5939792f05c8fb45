"""How a service's accumulators refuse what a job asks of them."""

from __future__ import annotations


class CommandRejected(Exception):
    """Raised by an accumulator or a job binding to refuse, with the reason
    the command's ERR response carries."""
