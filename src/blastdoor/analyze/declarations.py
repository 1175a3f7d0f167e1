"""How ``export``, ``declare``, ``local`` and ``set -a`` set and export variables.

bash reads a declaration's arguments as words first and looks for ``NAME=value`` after quote
removal, so ``export "GIT_SSH_COMMAND=./x"`` and ``export GIT_SSH_COMMAND"=./x"`` assign and export
just as ``export GIT_SSH_COMMAND=./x`` does, though tree-sitter-bash reads only the last as an
assignment. Its nodes for one word touch with no blank between them (``A`` and ``"=./x"``), so
they are grouped back into words here.

``set -a`` (``set -o allexport``) exports every variable assigned after it, until ``set +a``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tree_sitter import Node

from blastdoor.analyze.invocation import Word

_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\+?=(.*)", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def words_of(nodes: Sequence[Node]) -> list[list[Node]]:
    """``nodes`` grouped into the shell words they make: nodes that touch are one word."""
    groups: list[list[Node]] = []
    for node in nodes:
        if groups and groups[-1][-1].end_byte == node.start_byte:
            groups[-1].append(node)
        else:
            groups.append([node])
    return groups


def assignment(word: Word) -> tuple[str, Word] | None:
    """``NAME=value`` (or ``NAME+=value``) in a declaration's word: the name and the value, which
    is known only at run time when part of the word is; None for any other word."""
    match = _ASSIGNMENT.fullmatch(word.text)
    if match is None:
        return None
    return match.group(1), Word(match.group(2), word.dynamic, word.variables)


def is_name(word: Word) -> bool:
    return not word.dynamic and _NAME.fullmatch(word.text) is not None


def exporting(command: str, options: Sequence[str]) -> bool | None:
    """What ``export`` / ``declare`` / ``typeset`` / ``local`` with ``options`` does to the names it
    is given: True exports them (``export``, ``declare -x``), False un-exports them (``export -n``,
    ``declare +x``), None only sets them."""
    letters = "".join(o[1:] for o in options if o.startswith("-") and not o.startswith("--"))
    removed = "".join(o[1:] for o in options if o.startswith("+"))
    if command == "export":
        return "n" not in letters
    if "x" in removed:
        return False
    return True if "x" in letters else None


def allexport(args: Sequence[str]) -> bool | None:
    """What ``set ARGS`` does to ``allexport``: True for ``-a`` / ``-o allexport``, False for
    ``+a`` / ``+o allexport``, None when it leaves it alone."""
    state: bool | None = None
    at = 0
    while at < len(args):
        arg = args[at]
        if arg in ("-", "--") or not re.fullmatch(r"[-+][A-Za-z]+", arg):
            break  # the positional parameters start
        on = arg[0] == "-"
        if "a" in arg:
            state = on
        for _ in range(arg.count("o")):  # each -o takes the next word: an option's long name
            at += 1
            if at < len(args) and args[at] == "allexport":
                state = on
        at += 1
    return state
