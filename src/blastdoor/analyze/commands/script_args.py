"""Reading the arguments of a call in code Blastdoor has no parser for, token by token.

String literals are decoded with the language's escapes; interpolations (``${x}``, ``#{x}``,
``$x``), variables and other expressions become parts only known at run time, so
``system("rm -rf " + dir)`` reads as one argument ``rm -rf ${__runtime_value}``. A list literal
(``["rm", "-rf", x]``, R's ``c(...)``) keeps its items; an object or block is a group; ``key =
value`` and ``key: value`` are named. The language's quoting comes from
:mod:`.script_languages`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from blastdoor.analyze.commands.library_calls import names
from blastdoor.analyze.commands.script_languages import JS, Lang
from blastdoor.analyze.invocation import Word
from blastdoor.analyze.words import decode_ansi_c

RUNTIME = "${__runtime_value}"  # how a value only known at run time is written into shell text


@dataclass
class Arg:
    """One argument of a call: its text in parts, each known (False) or only known at run time."""

    parts: list[tuple[str, bool]] = field(default_factory=list)
    items: list[Arg] | None = None  # a list literal
    group: bool = False  # an object, block or other bracketed value
    named: bool = False  # key = value / key: value
    raw: str = ""

    @property
    def word(self) -> Word:
        dynamic = any(dyn for _, dyn in self.parts) or not self.parts
        return Word(
            "".join(RUNTIME if dyn else text for text, dyn in self.parts) or RUNTIME, dynamic
        )

    @property
    def is_path(self) -> bool:
        return not (self.group or self.named) and self.items is None


def flatten(args: list[Arg]) -> Iterator[Arg]:
    """The arguments with list literals replaced by their items."""
    for arg in args:
        if arg.items is not None:
            yield from flatten(arg.items)
        else:
            yield arg


_CLOSE = {"(": ")", "[": "]", "{": "}"}
_STOP_WORDS = names(
    """
    or and if unless do then while until with end
    """
)


def call_args(code: str, pos: int, lang: Lang) -> list[Arg] | None:
    """The arguments of the call whose name ends at ``pos``: ``f(a, b)`` or ``f a, b``."""
    while pos < len(code) and code[pos] in " \t":
        pos += 1
    if pos < len(code) and code[pos] == "(":
        end = _balanced(code, pos, lang)
        return _split_args(code[pos + 1 : end - 1], lang)
    if pos < len(code) and (code[pos] in lang.quotes or code[pos] in "$@[" or code[pos].isalpha()):
        end = pos
        while end < len(code) and code[end] not in ";\n}":
            if code[end] in lang.quotes:
                end = _string_end(code, end)
                continue
            word = re.match(r"\w+", code[end:])
            if (
                word
                and (end == pos or not code[end - 1].isalnum())
                and word.group(0) in _STOP_WORDS
            ):
                break
            end += len(word.group(0)) if word else 1
        return _split_args(code[pos:end], lang)
    return None


def _split_args(text: str, lang: Lang) -> list[Arg]:
    args: list[Arg] = []
    current = Arg()
    start = pos = 0
    while pos < len(text):
        char = text[pos]
        if char == ",":
            current.raw = text[start:pos]
            args.append(current)
            current, start = Arg(), pos + 1
            pos += 1
        elif char in lang.quotes:
            end = _string_end(text, pos)
            current.parts.extend(string_arg(text[pos + 1 : end - 1], lang, char).parts)
            pos = end
        elif char in _CLOSE:
            end = _balanced(text, pos, lang)
            if char == "[" and not current.parts and current.items is None:
                current.items = _split_args(text[pos + 1 : end - 1], lang)
            elif char == "(" and text[start:pos].strip() == "c":  # R's c("a", "b")
                current.items, current.parts = _split_args(text[pos + 1 : end - 1], lang), []
            elif char == "{" and not current.parts:
                current.group = True
            else:
                current.parts.append((text[pos:end], True))
            pos = end
        elif char in "=:" and text[pos : pos + 2] not in ("==", "::") and not current.items:
            current.named = True
            pos += 1
        elif char.isspace() or char in lang.joiners or (char == "." and lang.joiners == "."):
            pos += 1
        else:
            token = re.match(r"[\w$@.>-]+", text[pos:])
            size = len(token.group(0)) if token else 1
            if not (token and token.group(0) in ("new", "my", "our", "local", "=>")):
                current.parts.append((text[pos : pos + size], True))
            pos += size
    current.raw = text[start:]
    if current.parts or current.items is not None or current.group or args:
        args.append(current)
    return args


def string_arg(body: str, lang: Lang, quote: str = '"') -> Arg:
    if quote in lang.raw_quotes:
        return plain(body.replace("\\" + quote, quote).replace("\\\\", "\\"), False)
    return interpolated(body, lang, quote)


def interpolated(body: str, lang: Lang, quote: str) -> Arg:
    arg = Arg(raw=body)
    pattern = r"\$\{[^}]*\}" if quote == "`" and lang is JS else lang.interpolation
    position = 0
    for match in re.finditer(pattern, body):
        arg.parts.append((decode_ansi_c(body[position : match.start()]), False))
        arg.parts.append((match.group(0), True))
        position = match.end()
    arg.parts.append((decode_ansi_c(body[position:]), False))
    return arg


def plain(text: str, dynamic: bool) -> Arg:
    """An argument of one part."""
    return Arg(parts=[(text, dynamic)], raw=text)


def _string_end(text: str, pos: int) -> int:
    quote = text[pos]
    pos += 1
    while pos < len(text) and text[pos] != quote:
        pos += 2 if text[pos] == "\\" else 1
    return min(pos + 1, len(text))


def _balanced(text: str, pos: int, lang: Lang) -> int:
    """The index just past the bracket that closes the one at ``pos``."""
    depth = 0
    while pos < len(text):
        char = text[pos]
        if char in lang.quotes:
            pos = _string_end(text, pos)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
    return len(text)
