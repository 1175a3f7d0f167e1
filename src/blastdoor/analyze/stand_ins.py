"""Variables that stand for a process listing's lines: where a kill's PIDs come from.

``for pid in $(pgrep nginx)``, ``pids=$(ps aux | grep nginx | awk '{print $2}')``, ``ps aux |
while read -r user pid rest``, ``done < <(ps -eo pid,cmd)``: the variable's value is only known at
run time, but it is a PID (or a line) of that listing. The walker keeps such variables as
*stand-ins*: ``$pid`` expands to a run-time word whose text is the listing (``$(pgrep nginx)``),
so ``kill $pid`` is judged as a kill of the processes the listing selects
(:mod:`blastdoor.analyze.commands.process_listing`). A value made from a stand-in
(``pid=$(echo $line | awk '{print $1}')``) stands for the same listing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from tree_sitter import Node

from blastdoor.analyze.bash_tree import command_name
from blastdoor.analyze.commands.getopt import bundle
from blastdoor.analyze.commands.process_listing import process_listing
from blastdoor.analyze.invocation import Word
from blastdoor.analyze.words import text_of

# The letters of bash's `read` that take a value (its getopt string is "ersa:d:i:n:N:p:t:u:"):
# -a names an array, which the line fills too; the others are the prompt, delimiter, count,
# timeout, file descriptor and initial text.
_READ_VALUED = "adinNptu"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def listing_origin(value: Word, node: Node, stand_ins: Mapping[str, str]) -> str:
    """The process listing the run-time ``value`` assigned by ``node`` comes from, or ``""``."""
    if not value.dynamic:
        return ""
    if process_listing(value.text) is not None:
        return value.text
    if stand_ins:
        text = text_of(node)
        for name, origin in stand_ins.items():
            if re.search(rf"\$\{{?{re.escape(name)}\b", text):
                return origin
    return ""


def loop_origin(values: Sequence[Word]) -> str:
    """The listing a ``for`` loop's run-time values come from (``for pid in $(pgrep x)``)."""
    return next((w.text for w in values if w.dynamic and process_listing(w.text) is not None), "")


def read_loop(loop: Node, made_by: str) -> Iterator[tuple[str, str]]:
    """For a ``while read ...`` loop fed by the output of ``made_by``: each variable ``read``
    fills, with the listing it stands for (nothing when ``made_by`` is no process listing)."""
    if process_listing(made_by) is None:
        return
    body = loop.child_by_field_name("body")
    stack = [c for c in loop.named_children if c != body]
    while stack:
        current = stack.pop()
        if current.type != "command" or command_name(current) != "read":
            stack.extend(current.named_children)
            continue
        args = [text_of(a) for a in current.children_by_field_name("argument")]
        for variable in read_variables(args):
            yield variable, f"$({made_by})"


def read_variables(args: Sequence[str]) -> list[str]:
    """The variables ``read ARGS`` fills (``REPLY`` when it names none).

    Options are read as bash's builtin getopt reads them: bundled (``-rp PROMPT``), a value
    attached or in the next word, ``--`` or the first operand ending them; every word after that
    names a variable."""
    words = [Word(arg) for arg in args]
    names: list[str] = []
    at = 0
    while at < len(words):
        text = words[at].text
        if text == "--" or not text.startswith("-") or text == "-":
            names.extend(w.text for w in words[at + (text == "--") :])
            break
        letters, at = bundle(words, at, _READ_VALUED)
        names.extend(value.text for letter, value in letters if letter == "a" and value is not None)
        at += 1
    return [name for name in names if _NAME.match(name)] or ["REPLY"]
