"""How command lines are split into options and operands, shared by the families.

``bundle`` reads getopt's bundled single-letter options: ``-xvf FILE`` is three options; the first
letter that takes a value ends the bundle, and its value is the rest of the word (``-fFILE``) or,
when nothing is left, the next word (``-f FILE``). Some programs (git's ``-uno``) also have letters
whose optional value can only be attached.

``split_options`` splits a whole line into options (each with its value or none) and operands. The
programs' parsers agree on most of it (``--name=value``, ``--`` ends the options, ``-`` alone is an
operand) and differ in a few places, which a :class:`Syntax` names:

* whether an option that takes a value takes the next word when that word looks like an option
  itself (``--host --dry-run``). getopt_long, MySQL's my_getopt, optparse, Go's pflag and
  commander take it, whatever it is (``psql -h -c`` connects to a host named ``-c``); argparse,
  clap, yargs, go-flags and boost refuse it (an error, or the option is left without a value).
  Where the program refuses, the next word is read as the option it looks like, which also sees
  what a program that reported an error would not have run: the cautious reading.
* whether a short option's value may be attached (``-hHOST``), and whether ``-name=value`` splits at
  the ``=`` (Go's flag package, pflag and argparse; getopt gives ``-h=x`` the value ``=x``).
* whether ``-1`` is a negative number (an operand) or an option letter.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass

from blastdoor.analyze.invocation import Word

__all__ = ["GETOPT", "Option", "Syntax", "bundle", "split_options"]


def bundle(
    words: Sequence[Word], at: int, valued: Container[str], *, attached: Container[str] = ""
) -> tuple[list[tuple[str, Word | None]], int]:
    """The letters of the option word ``words[at]`` (which starts with a single ``-``), each with
    its value or ``None``, and the index of the last word the bundle used (``at`` itself, or the
    next word when that was a value). A valued letter at the end of the line gets ``None``;
    a letter in ``attached`` gets the rest of the word, possibly empty, and never the next word."""
    word = words[at]
    text = word.text
    found: list[tuple[str, Word | None]] = []
    for index, letter in enumerate(text[1:], start=1):
        if letter not in valued and letter not in attached:
            found.append((letter, None))
            continue
        rest = text[index + 1 :]
        if rest or letter in attached:
            found.append((letter, Word(rest, word.dynamic)))
        elif at + 1 < len(words):
            found.append((letter, words[at + 1]))
            at += 1
        else:
            found.append((letter, None))
        break
    return found, at


@dataclass(frozen=True)
class Syntax:
    """Where a program's option parser differs from the others (see the module's notes)."""

    dash_values: bool  # a valued option takes the next word even when it looks like an option
    attached: bool = False  # a two-letter valued option takes the rest of its word: -hHOST
    short_equals: bool = False  # -name=value is the option -name with the value after the =
    numbers: bool = False  # -1 is a negative number, an operand, not an option


GETOPT = Syntax(dash_values=True, attached=True)
"""getopt_long and the parsers that read like it (my_getopt, optparse, sqlite3's, redis-cli's)."""


@dataclass(frozen=True)
class Option:
    """One option as written (``--host``, ``-h``) and its value (``None``: none was given)."""

    name: str
    value: Word | None = None

    @property
    def text(self) -> str:
        return self.value.text if self.value is not None else ""


def split_options(
    args: Sequence[Word],
    valued: Container[str],
    syntax: Syntax,
    *,
    guess: Callable[[Sequence[Word], int], bool] | None = None,
) -> tuple[list[Option], list[Word]]:
    """The options of ``args`` in order, and its operands in order.

    ``valued`` are the options that take a value; ``guess(args, i)`` says whether another long
    option ``args[i]`` takes the next word as one (for programs with too many to list)."""
    options: list[Option] = []
    operands: list[Word] = []
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        if text == "--":
            operands.extend(args[i + 1 :])
            break
        long = text.startswith("--")
        if not _option_like(text, syntax):
            operands.append(word)
        elif "=" in text and long:
            name, _, value = text.partition("=")
            options.append(Option(name, Word(value, word.dynamic)))
        elif text in valued or (guess is not None and long and guess(args, i)):
            following = args[i + 1] if i + 1 < len(args) else None
            if following is not None and (syntax.dash_values or not _refused(following.text)):
                options.append(Option(text, following))
                i += 1
            else:
                options.append(Option(text))
        elif syntax.attached and text[:2] in valued and not long:
            rest = text[2:]  # -XDELETE; pflag also reads -X=DELETE, getopt gives that "=DELETE"
            rest = rest[1:] if syntax.short_equals and rest.startswith("=") else rest
            options.append(Option(text[:2], Word(rest, word.dynamic)))
        elif "=" in text and syntax.short_equals:
            name, _, value = text.partition("=")
            options.append(Option(name, Word(value, word.dynamic)))
        else:
            options.append(Option(text))
        i += 1
    return options, operands


def _option_like(text: str, syntax: Syntax) -> bool:
    if not text.startswith("-") or text == "-":
        return False
    return not (syntax.numbers and text[1:].isdigit())


def _refused(text: str) -> bool:
    """Whether a parser that refuses option-like values refuses ``text`` (a negative number is a
    value to all of them)."""
    return text.startswith("-") and text != "-" and not text[1:].isdigit()
