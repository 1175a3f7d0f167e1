"""getopt's reading of bundled single-letter options, shared by the families that need it.

``-xvf FILE`` is three options; the first letter that takes a value ends the bundle, and its value
is the rest of the word (``-fFILE``) or, when nothing is left, the next word (``-f FILE``). Some
programs (git's ``-uno``) also have letters whose optional value can only be attached.
"""

from __future__ import annotations

from collections.abc import Container, Sequence

from blastdoor.analyze.invocation import Word

__all__ = ["bundle"]


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
