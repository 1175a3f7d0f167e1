"""Valid bash that tree-sitter-bash cannot parse, rewritten into an equivalent it can.

tree-sitter-bash rejects a few forms bash accepts (each checked with ``bash -n``):

- a line continuation at the very end of the text (``find . -exec rm {} \\``): bash drops it
  (in a script) or passes a lone backslash (``bash -c``); either way nothing else changes;
- a substring expansion whose offset is a variable (``${name:$i:1}``): the offset is arithmetic,
  so ``${name:i :1}`` means the same;
- the read-write redirection ``<>file``. Without a number it opens standard input, so it is read
  as ``<file`` (``bash <>payload.sh`` runs payload.sh); ``3<>file`` opens a further descriptor,
  and like ``3>>file`` it opens the file, creating it when missing, without truncating it;
- a heredoc whose delimiter line never comes (``ssh host <<'EOF'`` as the last line): bash reads
  to the end of the text and warns.

A form is rewritten only where tree-sitter-bash reports the error (an ``ERROR`` node or a missing
token touches it), so text that only looks like one of them and parsed fine (``'a<>b'`` in quotes,
``$((1<<X))``, a comment) is left alone. Each rewrite keeps every other character where it was (or
only appends), so what the walker reports still quotes the command as written. The rewritten text
is used only when the original does not parse and the rewrite does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tree_sitter import Node

from blastdoor.analyze.bash_tree import parse

_SUBSTRING_OFFSET = re.compile(r"(\$\{#?\w+):\$(\w+)")
_READ_WRITE = re.compile(r"(\d*)<>(?=\s*[^\s>])")
_HEREDOC = re.compile(r"(?<!<)<<-?\s*(?:'(\w+)'|\"(\w+)\"|\\(\w+)|(\w+))")
_BEFORE_DESCRIPTOR = frozenset(" \t\n;&|()")  # what may come before a redirect's number
_ROUNDS = 4  # each round fixes the errors tree-sitter-bash reports; one may hide the next

Near = Callable[[int, int], bool]


def repaired(script: str) -> str:
    """``script`` with the forms above rewritten where they stop it parsing; ``script`` itself
    when none applies."""
    return repair(script, parse(script))[0]


def repair(script: str, root: Node) -> tuple[str, Node]:
    """:func:`repaired` for a ``script`` already parsed into ``root``: the rewritten text and its
    tree (``script`` and ``root`` themselves when none applies), so no text is parsed twice."""
    text = script
    for _ in range(_ROUNDS):
        if not root.has_error:
            break
        fixed = _rewritten(text, _error_spans(text, root))
        if fixed == text:
            break
        text, root = fixed, parse(fixed)
    return text, root


def _error_spans(text: str, root: Node) -> list[tuple[int, int]]:
    """The character ranges tree-sitter-bash marks as errors (a missing token: where it is due)."""
    encoded = text.encode("utf-8", "surrogatepass")

    def at(offset: int) -> int:
        return offset if text.isascii() else len(encoded[:offset].decode("utf-8", "ignore"))

    spans: list[tuple[int, int]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            spans.append((at(node.start_byte), at(node.end_byte)))
        elif node.has_error:
            stack.extend(node.children)
    return spans


def _rewritten(text: str, spans: list[tuple[int, int]]) -> str:
    def near(start: int, end: int) -> bool:
        return any(low <= end and start <= high for low, high in spans)

    text = _SUBSTRING_OFFSET.sub(
        lambda m: f"{m[1]}:{m[2]} " if near(m.start(), m.end()) else m[0], text
    )
    text = _READ_WRITE.sub(lambda m: _read_write(m) if near(m.start(), m.end()) else m[0], text)
    text = _without_final_continuation(text, near)
    return _with_heredoc_ends(text, near)


def _read_write(match: re.Match[str]) -> str:
    digits, start = match[1], match.start()
    if digits and (start == 0 or match.string[start - 1] in _BEFORE_DESCRIPTOR):
        if int(digits) > 0:
            return f"{digits}>>"  # `3<>f`: another descriptor, opened without truncating
        # `0<>f` is standard input. tree-sitter-bash reads `0<f` as an argument 0, so the number
        # goes too.
        return " " * len(digits) + "< "
    if digits:
        return f"{digits}< "  # `echo a3<>f`: the number ends a word, the file is standard input
    if start and match.string[start - 1] in "}<>&":
        return match[0]  # `{fd}<>f` names a new descriptor: left unparsed
    return "< "  # `bash <>payload.sh`: standard input


def _without_final_continuation(text: str, near: Near) -> str:
    body = text.rstrip()
    trailing = len(body) - len(body.rstrip("\\"))
    if trailing % 2 == 0:  # no backslash, or an escaped one (``\\``): a literal backslash
        return text
    cut = len(body) - 1
    if not near(cut, len(text)):  # the error is at the backslash or where the text ends
        return text
    return text[:cut] + " " + text[cut + 1 :]


def _with_heredoc_ends(text: str, near: Near) -> str:
    for match in _HEREDOC.finditer(text):
        if not near(match.start(), match.end()):
            continue
        delimiter = next(group for group in match.groups() if group)
        after = text[match.end() :].split("\n")[1:]
        if not any(line.strip() == delimiter for line in after):
            text = text.rstrip("\n") + "\n" + delimiter + "\n"
    return text
