"""A file-writing tool call (an agent's Write, Edit or patch tool) → effects.

Judged exactly like a shell write to the same path (:func:`write_effect`): agent rules and
Blastdoor's files are protected, credential files ask, system paths ask, start-up files persist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from blastdoor.analyze.commands.filesystem import write_effect
from blastdoor.analyze.invocation import Invocation, Word, unknown
from blastdoor.model import Effect

MAX_PATHS = 1_000


@dataclass(frozen=True)
class Place:
    """The working directory and environment the tool's paths are relative to."""

    cwd: str | None
    env: Mapping[str, str] = field(default_factory=dict)
    here: str | None = None


def analyze_file_write(paths: str, *, tool: str, place: Place, edit: bool = False) -> list[Effect]:
    """Effects of writing each path in ``paths`` (one per line, as a patch may touch several).

    ``edit`` is a change to part of an existing file; otherwise the whole file is (over)written.
    """
    named = [line.strip() for line in paths.splitlines() if line.strip()]
    inv = Invocation(
        words=(Word(tool or "write"),), text=f"{tool or 'write'} {' '.join(named)}".strip()
    )
    if not named or len(named) > MAX_PATHS or any("\0" in name for name in named):
        return [unknown(inv, "the file tool named no usable path")]
    how = "edit" if edit else "write"
    effects = []
    for name in named:
        one = Invocation(
            words=(Word(tool or "write"), Word(name)), text=f"{tool or 'write'} {name}"
        )
        found = write_effect(one, place, Word(name), how=how, overwrite=not edit)
        if found is not None:
            effects.append(found)
    return effects
