"""How a piece of shell text is read before it is walked, in three tries:

1. as bash, by tree-sitter-bash (:mod:`blastdoor.analyze.bash_tree`);
2. when that fails, as the equivalent text ``bash_repair`` rewrites it to (valid bash that
   tree-sitter-bash rejects: ``<>file``, ``${s:$i:1}``, a trailing ``\\``);
3. when bash itself would reject it too, as database text typed at the shell (``CREATE INDEX i
   ON t(c)``, ``db.x.drop()``: :func:`blastdoor.analyze.commands.db_typed.typed_line`), judged
   as what it would do in a database.

Text none of these reads is still walked as far as tree-sitter-bash got, and what it would run
is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from blastdoor.analyze.bash_repair import repair
from blastdoor.analyze.bash_tree import first_error, parse
from blastdoor.analyze.commands.db_typed import typed_line
from blastdoor.analyze.invocation import Invocation, unknown
from blastdoor.model import Effect


@dataclass(frozen=True, slots=True)
class Reading:
    """The tree to walk (None: the text is typed database text, not bash) and the effects the
    reading itself found (the database text's, or that the text could not be parsed)."""

    root: Node | None
    effects: list[Effect]


def read_script(script: str, *, via: tuple[str, ...]) -> Reading:
    """Read the shell text ``script``, met through the commands ``via``."""
    root = parse(script)
    if root.has_error:
        again = repair(script, root)[1]
        root = root if again.has_error else again
    if (typed := typed_line(script, bash_error=root.has_error, via=via)) is not None:
        return Reading(None, typed)
    if not root.has_error:
        return Reading(root, [])
    failed = unknown(
        Invocation(words=(), text=script[:200], via=via),
        f"the shell text could not be parsed ({first_error(root)}); what it would run is unknown",
        tags={"unparseable"},
    )
    return Reading(root, [failed])
