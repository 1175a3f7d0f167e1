"""The broker's one error class."""

from __future__ import annotations

from blastdoor.errors import BlastdoorError


class BrokerError(BlastdoorError):
    """A profile cannot be stored or read, or a brokered call cannot be carried out."""
