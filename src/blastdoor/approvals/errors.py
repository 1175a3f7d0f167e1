"""The approvals' own error."""

from blastdoor.errors import BlastdoorError


class ApprovalError(BlastdoorError):
    """An approval, denial or enrollment was refused or could not be carried out."""
