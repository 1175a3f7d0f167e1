"""Records left out of a corpus file's figures because Blastdoor disagrees with that peer on purpose.

The issue's rule (item 10): beyond the cc-safety-net records whose assertion carried a cwd, env
or options the record lacks, at most 3% of a file may be excluded, each with the effect-level
reason for disagreeing with that peer. ``bench/evaluation_exclusions.toml`` lists them: one table
per corpus file, one key per record id (ids only, never the record's text), and a value that
starts with the tag of a disagreement documented in docs/evaluation.md (``D-temp-root: ...``).

The list is checked on every run, and a run refuses to report when it is wrong:

- a file's exclusions exceed 3% of its records;
- an id that is not in the file, a record without a label to disagree with (``unknown``), or one
  already reported separately (``has_extra_args``);
- a record Blastdoor now decides as its label says (a stale exclusion: remove it);
- a reason without a ``D-...`` tag, or a tag docs/evaluation.md does not define (``[D-...]``).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

MAX_SHARE = 0.03
_REASON = re.compile(r"^(D-[a-z0-9-]+):\s*\S")
_DEFINED = re.compile(r"\[(D-[a-z0-9-]+)\]")


class ExclusionError(Exception):
    """The exclusion list cannot be used as it stands (one line, for the command line)."""


@dataclass(frozen=True)
class Exclusion:
    record_id: str
    tag: str
    reason: str


def load(path: Path) -> dict[str, dict[str, Exclusion]]:
    """The exclusions in ``path``, by corpus file and record id."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ExclusionError(f"cannot read {path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ExclusionError(f"{path} is not valid TOML: {error}") from None
    found: dict[str, dict[str, Exclusion]] = {}
    for file, table in raw.items():
        if not isinstance(table, dict):
            raise ExclusionError(f'{path}: {file} must be a table of record id = "D-tag: reason"')
        entries: dict[str, Exclusion] = {}
        for record_id, reason in table.items():
            match = _REASON.match(reason) if isinstance(reason, str) else None
            if match is None:
                raise ExclusionError(
                    f"{path}: {file} {record_id}: the reason must start with a disagreement tag "
                    '("D-name: why")'
                )
            entries[record_id] = Exclusion(record_id, match.group(1), reason)
        found[file] = entries
    return found


def documented_tags(doc: Path) -> set[str]:
    """The disagreement tags docs/evaluation.md defines, written ``[D-name]``."""
    try:
        return set(_DEFINED.findall(doc.read_text(encoding="utf-8")))
    except OSError as error:
        raise ExclusionError(f"cannot read {doc}: {error.strerror or error}") from None


@dataclass(frozen=True)
class Outcome:
    """How Blastdoor decided one record, next to the peer's label."""

    label: str
    extra: bool  # meta.has_extra_args: reported separately
    wrong: bool  # decided against the label


def problems(
    file: str, excluded: dict[str, Exclusion], outcomes: dict[str, Outcome], tags: set[str]
) -> list[str]:
    """Every reason ``excluded`` cannot be applied to ``file`` (empty when it can)."""
    found: list[str] = []
    limit = math.floor(MAX_SHARE * len(outcomes))
    if len(excluded) > limit:
        found.append(
            f"{file}: {len(excluded)} exclusions, more than 3% of its {len(outcomes)} records "
            f"({limit})"
        )
    for record_id, exclusion in excluded.items():
        outcome = outcomes.get(record_id)
        if outcome is None:
            found.append(f"{file}: no record {record_id}")
        elif outcome.label not in ("block", "ask", "allow"):
            found.append(f"{file}: {record_id} has no label to disagree with ({outcome.label})")
        elif outcome.extra:
            found.append(f"{file}: {record_id} is a has_extra_args record, reported separately")
        elif not outcome.wrong:
            found.append(f"{file}: {record_id} is decided as its label says: a stale exclusion")
        if exclusion.tag not in tags:
            found.append(
                f"{file}: {record_id}: {exclusion.tag} is not defined in docs/evaluation.md"
            )
    return found
