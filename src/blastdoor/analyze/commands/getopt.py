"""How command lines are split into options and operands, shared by the families.

``bundle`` reads getopt's bundled single-letter options: ``-xvf FILE`` is three options; the first
letter that takes a value ends the bundle, and its value is the rest of the word (``-fFILE``) or,
when nothing is left, the next word (``-f FILE``). Some programs (git's ``-uno``, mysql's
``-pSECRET``) also have letters whose optional value can only be attached.

``split_options`` splits a whole line into options (each with its value or none) and operands;
``read_options`` gives the same options and operands as one stream, in the order written, with
:data:`END` where ``--`` ended the options (git tells the paths after it from revisions). The
programs' parsers agree on most of it (``--name=value``, ``--`` ends the options, ``-`` alone is an
operand) and differ in a few places, which a :class:`Syntax` names:

* whether single-letter options bundle (``psql -Atc SQL`` is ``-A -t -c SQL``, ``mysql -uroot`` is
  ``-u root``). getopt_long, MySQL's my_getopt, optparse and argparse, click, Go's pflag, git's
  parse-options and boost's default style all bundle; Go's flag package, sqlite3 (whose options
  are single-dash long names: ``-cmd``, ``-bail``) and redis-cli (which compares whole words) do
  not, and their words are read whole.
* whether an option that takes a value takes the next word when that word looks like an option
  itself (``--host --dry-run``). getopt_long, MySQL's my_getopt, optparse, Go's pflag and
  commander take it, whatever it is (``psql -h -c`` connects to a host named ``-c``); argparse,
  clap, yargs and go-flags refuse it (an error, or the option is left without a value), and boost
  and oclif refuse a word that is one of the program's own options.
  Where the program refuses, the next word is read as the option it looks like, which also sees
  what a program that reported an error would not have run: the cautious reading.
* whether a short option's value may be attached (``-hHOST``), and whether ``-name=value`` splits at
  the ``=`` (Go's flag package, pflag and argparse; getopt gives ``-h=x`` the value ``=x``).
* whether ``-1`` is a negative number (an operand) or an option letter.
* whether the first operand ends the options (redis-cli: ``redis-cli get -h`` reads a key ``-h``).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass

from blastdoor.analyze.invocation import Word

__all__ = ["END", "GETOPT", "Option", "Syntax", "bundle", "read_options", "split_options"]


def bundle(
    words: Sequence[Word],
    at: int,
    valued: Container[str],
    *,
    attached: Container[str] = "",
    dashed: bool = True,
    equals: bool = False,
) -> tuple[list[tuple[str, Word | None]], int]:
    """The letters of the option word ``words[at]`` (which starts with a single ``-``), each with
    its value or ``None``, and the index of the last word the bundle used (``at`` itself, or the
    next word when that was a value). A valued letter at the end of the line gets ``None``;
    a letter in ``attached`` gets the rest of the word, possibly empty, and never the next word.
    Without ``dashed`` a valued letter refuses a next word that looks like an option (see
    :class:`Syntax`); with ``equals`` an attached value may be written after an ``=``
    (pflag's ``-X=DELETE``)."""
    word = words[at]
    text = word.text
    found: list[tuple[str, Word | None]] = []
    for index, letter in enumerate(text[1:], start=1):
        if letter not in valued and letter not in attached:
            found.append((letter, None))
            continue
        rest = text[index + 1 :]
        rest = rest[1:] if equals and rest.startswith("=") else rest
        if rest or letter in attached:
            found.append((letter, Word(rest, word.dynamic)))
        elif at + 1 < len(words) and (dashed or not _refused(words[at + 1].text)):
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
    bundles: bool = False  # -Atc is -A -t -c, the first valued letter taking the rest or next word
    ordered: bool = False  # the first operand ends the options: the rest are operands
    end_word: str = ""  # ends the options, but not as --: a later -- is still END (git)


GETOPT = Syntax(dash_values=True, attached=True, bundles=True)
"""getopt_long and the parsers that read like it: MySQL's my_getopt, optparse, click, and (with
``short_equals`` and negative numbers) Go's pflag."""


@dataclass(frozen=True)
class Option:
    """One option as written (``--host``, ``-h``) and its value (``None``: none was given)."""

    name: str
    value: Word | None = None

    @property
    def text(self) -> str:
        return self.value.text if self.value is not None else ""


END = Option("--")
"""In :func:`read_options`' stream: ``--`` ended the options here."""


def split_options(
    args: Sequence[Word],
    valued: Container[str],
    syntax: Syntax,
    *,
    guess: Callable[[Sequence[Word], int], bool] | None = None,
    optional: Container[str] = (),
) -> tuple[list[Option], list[Word]]:
    """The options of ``args`` in order, and its operands in order.

    ``valued`` are the options that take a value; ``guess(args, i)`` says whether another long
    option ``args[i]`` takes the next word as one (for programs with too many to list);
    ``optional`` are the short options whose value is optional and can only be attached
    (``mysql -pSECRET``; ``-p`` alone takes no value)."""
    options: list[Option] = []
    operands: list[Word] = []
    for item in read_options(args, valued, syntax, guess=guess, optional=optional):
        if isinstance(item, Word):
            operands.append(item)
        elif item is not END:
            options.append(item)
    return options, operands


def read_options(
    args: Sequence[Word],
    valued: Container[str],
    syntax: Syntax,
    *,
    guess: Callable[[Sequence[Word], int], bool] | None = None,
    optional: Container[str] = (),
    resolve: Callable[[str], str] | None = None,
) -> Iterator[Option | Word]:
    """The options and operands of ``args`` as :func:`split_options` reads them, in the order
    written, with :data:`END` where ``--`` ended the options. ``resolve`` gives the full name of
    a long option as written (git takes an unambiguous prefix: ``--har`` is ``--hard``)."""
    letters, optional_letters = _Letters(valued), _Letters(optional)
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        if text == "--":
            yield END
            yield from args[i + 1 :]
            return
        if syntax.end_word and text == syntax.end_word:
            yield Option(text)
            after = args[i + 1 :]
            cut = next((at for at, w in enumerate(after) if w.text == "--"), len(after))
            yield from after[:cut]
            if cut < len(after):  # a later -- still parts git's revisions from its paths
                yield END
                yield from after[cut + 1 :]
            return
        long = text.startswith("--")
        if not _option_like(text, syntax):
            yield word
            if syntax.ordered:
                yield from args[i + 1 :]
                return
        elif long:
            name, eq, value = text.partition("=")
            name = resolve(name) if resolve is not None else name
            if eq:
                yield Option(name, Word(value, word.dynamic))
            elif name in valued or (guess is not None and guess(args, i)):
                option, i = _take_next(args, i, name, syntax)
                yield option
            else:
                yield Option(name)
        elif syntax.bundles:
            found, i = bundle(
                args,
                i,
                letters,
                attached=optional_letters,
                dashed=syntax.dash_values,
                equals=syntax.short_equals,
            )
            yield from (Option("-" + letter, value) for letter, value in found)
        elif text in valued:
            option, i = _take_next(args, i, text, syntax)
            yield option
        elif syntax.attached and (text[:2] in valued or text[:2] in optional):
            rest = text[2:]  # -XDELETE; pflag also reads -X=DELETE, getopt gives that "=DELETE"
            rest = rest[1:] if syntax.short_equals and rest.startswith("=") else rest
            yield Option(text[:2], Word(rest, word.dynamic))
        elif "=" in text and syntax.short_equals:
            name, _, value = text.partition("=")
            yield Option(name, Word(value, word.dynamic))
        else:
            yield Option(text)
        i += 1


def _take_next(args: Sequence[Word], at: int, name: str, syntax: Syntax) -> tuple[Option, int]:
    """The valued option ``name`` at ``args[at]`` with the next word as its value, if it takes
    it, and the index of the last word used."""
    following = args[at + 1] if at + 1 < len(args) else None
    if following is not None and (syntax.dash_values or not _refused(following.text)):
        return Option(name, following), at + 1
    return Option(name), at


class _Letters:
    """The letters of the single-letter options among ``names`` (``-c`` → ``c``), for
    :func:`bundle`."""

    def __init__(self, names: Container[str]) -> None:
        self.names = names

    def __contains__(self, letter: object) -> bool:
        return isinstance(letter, str) and "-" + letter in self.names


def _option_like(text: str, syntax: Syntax) -> bool:
    if not text.startswith("-") or text == "-":
        return False
    return not (syntax.numbers and text[1:].isdigit())


def _refused(text: str) -> bool:
    """Whether a parser that refuses option-like values refuses ``text`` (a negative number is a
    value to all of them)."""
    return text.startswith("-") and text != "-" and not text[1:].isdigit()
