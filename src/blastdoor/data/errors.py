"""The data layer's one error class."""

from __future__ import annotations

from blastdoor.errors import BlastdoorError


class DataError(BlastdoorError):
    """History cannot be installed, read, sealed or undone as asked."""
