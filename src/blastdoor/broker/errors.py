"""The broker's one error class, and the one way a database driver's error becomes one."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from blastdoor.errors import BlastdoorError


class BrokerError(BlastdoorError):
    """A profile cannot be stored or read, or a brokered call cannot be carried out."""


@contextlib.contextmanager
def failing(what: str, *, hint: str, errors: type[Exception] | tuple[type[Exception], ...],
            said: Callable[[Exception], str]) -> Iterator[None]:  # fmt: skip
    """An error of the kinds ``errors`` (a driver's) raised inside the block, as one line:
    ``WHAT: said(error)``."""
    try:
        yield
    except errors as error:
        raise BrokerError(f"{what}: {said(error)}", hint=hint) from None
