"""Code freeze: while frozen, every write to production (or to an unknown target) is denied.

``blastdoor freeze`` needs no proof (it only tightens). ``blastdoor unfreeze`` loosens, so it needs a
person: the confirmation is read from the controlling terminal (``/dev/tty``), never from standard
input, a flag or the environment, so an agent cannot pipe its way through it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from blastdoor.errors import FreezeError
from blastdoor.files import write_atomic

CONFIRM_WORD = "unfreeze"


def is_frozen(marker: Path) -> bool:
    return marker.exists()


def freeze(marker: Path, *, reason: str) -> dict[str, object]:
    record: dict[str, object] = {"since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                 "by": os.environ.get("USER", ""), "reason": reason}  # fmt: skip
    write_atomic(marker, json.dumps(record))
    return record


def read_tty(prompt: str) -> str:
    """Ask on the controlling terminal; refuse when there is none."""
    try:
        with open("/dev/tty", "r+", encoding="utf-8") as tty:
            tty.write(prompt)
            tty.flush()
            return tty.readline().strip()
    except OSError:
        raise FreezeError("unfreeze needs a person at a terminal",
                          hint="run `blastdoor unfreeze` yourself in an interactive terminal") from None  # fmt: skip


def unfreeze(marker: Path, *, ask: Callable[[str], str] = read_tty) -> None:
    if not marker.exists():
        raise FreezeError("there is no freeze in force", hint="nothing to do")
    answer = ask(f"Type '{CONFIRM_WORD}' to lift the code freeze: ")
    if answer != CONFIRM_WORD:
        raise FreezeError(
            "the freeze stays: confirmation did not match", hint=f"type {CONFIRM_WORD!r} exactly"
        )
    marker.unlink()
