"""A Terraform state's identity: its ``lineage`` (fixed when the state is first made) and its
``serial`` (raised by every write). A state with a known lineage whose serial is lower than one
seen before is an older copy put back (the DataTalks.Club incident: an old state archive unpacked
over the current one, then ``terraform destroy``).

Read from the top of the state file (``version``, ``terraform_version``, ``serial``, ``lineage``
come first): only its first ``HEAD`` bytes are read, so a state of any size is marked and costs no
JSON parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TAG = "tfstate"  # tfstate=LINEAGE:SERIAL on an effect: the local state it would write over
PUSH_TAG = "tfstate-push"  # the state `terraform state push FILE` would upload
HEAD = 8192  # bytes read from the top of a state
_SERIAL = re.compile(r'"serial"\s*:\s*(\d{1,18})')
_LINEAGE = re.compile(r'"lineage"\s*:\s*"([0-9A-Za-z-]{1,64})"')


@dataclass(frozen=True)
class StateMark:
    lineage: str
    serial: int

    def tag(self, name: str = TAG) -> str:
        return f"{name}={self.lineage}:{self.serial}"


def mark(text: str | None) -> StateMark | None:
    """The lineage and serial of the state ``text``, or None when it is not a state."""
    if not text:
        return None
    head = text[:HEAD]
    serial, lineage = _SERIAL.search(head), _LINEAGE.search(head)
    if serial is None or lineage is None:
        return None
    return StateMark(lineage.group(1), int(serial.group(1)))


def from_tag(tag: str) -> tuple[str, StateMark] | None:
    """``(tag name, mark)`` for a ``tfstate=`` or ``tfstate-push=`` tag."""
    name, _, value = tag.partition("=")
    lineage, _, serial = value.rpartition(":")
    if name not in (TAG, PUSH_TAG) or not lineage or not serial.isdigit():
        return None
    return name, StateMark(lineage, int(serial))
