"""Turning tree-sitter-bash word nodes into :class:`Word` values.

Quoting is removed the way bash removes it (``'...'`` literal, ``"..."`` with ``\\`` escapes,
``$'...'`` ANSI-C escapes, backslashes outside quotes). Variables take the value assigned earlier on
the same line or given in the context's environment; anything else is kept as ``$NAME`` and marks
the word dynamic. Command substitutions are handed back to the walker (they run) and, where their
output is obvious (``$(which rm)``, ``$(pwd)``, ``$(echo x)``), that output becomes the value.
"""

from __future__ import annotations

import codecs
import re
import shlex
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from typing import NamedTuple, Protocol

from tree_sitter import Node

from blastdoor.analyze.invocation import Word

_ESCAPE_IN_DOUBLE = re.compile(r"\\([\\$`\"\n])")
_ESCAPE_OUTSIDE = re.compile(r"\\(.)", re.DOTALL)
_ANSI_C = re.compile(r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)")
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n",
    "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?",
}  # fmt: skip

_BLANKS = re.compile(r"[ \t\n]+")


class _Part(NamedTuple):
    """A piece of a word: its text, whether it is only known at run time, and whether bash splits
    it into words (an unquoted expansion or command substitution)."""

    text: str
    dynamic: bool
    splits: bool = False


SubstitutionWalker = Callable[[Node], str | None]
"""Walks a command substitution's body and returns its output when statically known."""


def text_of(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _unescape(text: str) -> str:
    """An unquoted word with its backslash escapes removed."""
    return _ESCAPE_OUTSIDE.sub(r"\1", text) if "\\" in text else text


def plain_word(node: Node) -> Word:
    """The value of a ``word`` node: a token with no quotes or expansions in it, only backslash
    escapes (the most common word by far, so it skips the general resolver)."""
    return Word(_unescape(text_of(node)))


def decode_ansi_c(body: str) -> str:
    """Decode the inside of ``$'...'`` (bash's ANSI-C quoting)."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        head = code[0]
        if head in "xuU":
            return chr(int(code[1:], 16))
        if head.isdigit():
            return chr(int(code, 8) & 0xFF)
        if head == "c":
            return chr(ord(code[1]) & 0x1F)
        return _SIMPLE_ESCAPES.get(code, "\\" + code)

    return _ANSI_C.sub(one, body)


class Memory(Protocol):
    """What the resolver reads of the shell's memory (:class:`~blastdoor.analyze.shell_state.
    ShellState`), looked up at each word: a child shell's end puts other tables in its place."""

    @property
    def variables(self) -> Mapping[str, str]: ...

    @property
    def assigned(self) -> AbstractSet[str]:
        """Names set on this line: their values are not the environment's."""
        ...

    @property
    def stand_ins(self) -> Mapping[str, str]:
        """Variables only known at run time whose origin is known (a loop over a process
        listing): they expand to a run-time word whose text says where the value comes from."""
        ...


class WordResolver:
    """Resolves word nodes against the variables known so far on this line."""

    def __init__(self, memory: Memory, walk: SubstitutionWalker) -> None:
        self.memory = memory
        self.walk = walk

    def word(self, node: Node) -> Word:
        return self._word(node, node.type)

    def _word(self, node: Node, kind: str) -> Word:
        if kind == "word":
            return plain_word(node)
        return self._joined(node, self._parts(node, kind))

    def _joined(self, node: Node, parts: list[_Part]) -> Word:
        outside = variables_in(node) - self.memory.assigned
        splits = any(part.dynamic and part.splits for part in parts)
        if len(parts) == 1:
            return Word(parts[0].text, parts[0].dynamic, outside, splits=splits)
        text = "".join(part.text for part in parts)
        return Word(text, any(part.dynamic for part in parts), outside, splits=splits)

    def _parts(self, node: Node, kind: str) -> list[_Part]:
        if kind == "word" or kind == "number":
            return [_Part(_unescape(text_of(node)), False)]
        if kind == "raw_string":
            return [_Part(text_of(node)[1:-1], False)]
        if kind == "ansi_c_string":
            return [_Part(decode_ansi_c(text_of(node)[2:-1]), False)]
        if kind == "translated_string":  # $"..."
            return self._quoted(node.named_children[0]) if node.named_children else []
        if kind == "string":
            return self._quoted(node)
        if kind == "string_content":
            text = text_of(node)
            return [_Part(_ESCAPE_IN_DOUBLE.sub(r"\1", text) if "\\" in text else text, False)]
        if kind == "concatenation":
            return self._children_parts(node)
        if kind in ("simple_expansion", "expansion"):
            return [_Part(*self._expansion(node), splits=True)]
        if kind in ("command_substitution", "process_substitution"):
            output = self.walk(node)
            splits = kind == "command_substitution"  # <(...) is one path, /dev/fd/N
            if output is None:
                return [_Part(text_of(node), True, splits)]
            return [_Part(output, False, splits)]
        if kind == "arithmetic_expansion":  # `$((1 + $(cmd)))` still runs cmd
            self._walk_nested(node)
            return [_Part(text_of(node), True)]
        if kind == "brace_expression":
            return [_Part(text_of(node), False)]
        # Anything else (globs, extglobs, array literals): keep the source text as it is.
        return [_Part(text_of(node), False)]

    def _quoted(self, node: Node) -> list[_Part]:
        """The parts inside double quotes: nothing in them is split."""
        return [part._replace(splits=False) for part in self._children_parts(node)]

    def _children_parts(self, node: Node) -> list[_Part]:
        parts: list[_Part] = []
        for child in node.children:
            kind = child.type
            if kind == '"':
                continue
            if not child.is_named:
                # Literal characters tree-sitter keeps anonymous (like "$" at the end of a string).
                parts.append(_Part(text_of(child), False))
                continue
            parts.extend(self._parts(child, kind))
        return parts

    def _expansion(self, node: Node) -> tuple[str, bool]:
        """``$NAME``, ``${NAME}``, ``${NAME:-default}`` and friends."""
        raw = text_of(node)
        names = [
            c for c in node.named_children if c.type in ("variable_name", "special_variable_name")
        ]
        if not names:
            return (raw, True)
        name = text_of(names[0])
        memory = self.memory
        if name in memory.variables:
            return (memory.variables[name], False)
        if name in memory.stand_ins:
            return (memory.stand_ins[name], True)
        self._walk_nested(node)  # `${X:-$(cmd)}`: the fallback runs when X is not set
        inner = raw[2:-1] if raw.startswith("${") else raw[1:]
        default = _default_of(inner, name)
        if default is not None:
            return (default, False)
        return (f"${name}", True)

    def _walk_nested(self, node: Node) -> None:
        """Walk the command substitutions inside an arithmetic expansion or a parameter
        expansion: their value is not a word Blastdoor can use, but the commands run."""
        stack = list(reversed(node.named_children))
        while stack:
            current = stack.pop()
            if current.type in ("command_substitution", "process_substitution"):
                self.walk(current)
            else:
                stack.extend(reversed(current.named_children))

    def split(self, node: Node) -> list[Word]:
        """The words an unquoted expansion becomes: bash splits its value on blanks, and an empty
        value is no word at all (``W='rm -rf ~'; $W`` runs rm). Inside a longer word the text
        around the expansion joins its first and last field (``X='rm -rf /srv '; ${X}x`` runs
        ``rm -rf /srv x``)."""
        kind = node.type
        if kind == "word":
            return [plain_word(node)]
        parts = self._parts(node, kind)
        word = self._joined(node, parts)
        if word.dynamic or not any(part.splits for part in parts):
            return [word]
        return [Word(field, False, word.variables) for field in _fields(parts)]


def _fields(parts: list[_Part]) -> list[str]:
    """The fields bash makes of a word's static parts, splitting those that split on blanks (the
    default ``IFS``). A quoted empty part still makes a field (``""$X``)."""
    fields: list[str] = []
    current: str | None = None  # the field being built; None before its first character
    for part in parts:
        if not part.splits:
            current = (current or "") + part.text
            continue
        for index, piece in enumerate(_BLANKS.split(part.text)):
            if index and current is not None:  # a run of blanks ends the field before it
                fields.append(current)
                current = None
            if piece:
                current = (current or "") + piece
    if current is not None:
        fields.append(current)
    return fields


def variables_in(node: Node) -> frozenset[str]:
    """The variables whose values end up in the word ``node`` (``$TOKEN``, ``"${TOKEN}"``).

    ``${#NAME}`` (a length) and ``${NAME:+text}`` (a fixed text) do not carry the value; command
    substitutions are separate commands and are not looked into.
    """
    if b"$" not in (node.text or b""):
        return frozenset()
    names: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in ("command_substitution", "process_substitution"):
            continue
        if current.type in ("simple_expansion", "expansion"):
            raw = text_of(current)
            named = [c for c in current.named_children if c.type == "variable_name"]
            if named and not raw.startswith("${#") and ":+" not in raw and not _is_alternate(raw):
                names.add(text_of(named[0]))
            continue
        stack.extend(current.named_children)
    return frozenset(names)


def _is_alternate(raw: str) -> bool:
    """``${NAME+text}``: the text when NAME is set, never NAME's value."""
    match = re.match(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\+", raw)
    return match is not None


def _default_of(inner: str, name: str) -> str | None:
    """The fallback in ``${NAME:-fallback}`` / ``${NAME-fallback}``, when it is a plain literal."""
    rest = inner[len(name) :]
    for op in (":-", "-", ":="):
        if rest.startswith(op):
            value = rest[len(op) :]
            if "$" not in value and "`" not in value:
                return value
    return None


def decode_base64(text: str) -> str | None:
    try:
        raw = codecs.decode("".join(text.split()).encode(), "base64")
        return bytes(raw).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def decode_hex(text: str) -> str | None:
    try:
        return bytes.fromhex("".join(text.split())).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def split_words(text: str) -> list[str]:
    """``text`` split as the shell would split a plain command line, or on blanks when its quotes
    do not close (a value from a config file, an alias, an environment assignment)."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()
