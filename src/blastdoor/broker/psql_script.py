"""A plain ``pg_dump`` file read the way ``psql`` will read it, before psql is given it.

psql treats a backslash as the start of one of its own commands (``\\!`` runs a shell command,
``\\o`` writes a file, ``\\copy ... to program`` runs a program, ``\\i`` reads another script,
``\\set`` changes psql itself) anywhere outside quotes and comments, not only at the start of a
line. So the dump is lexed here as psql lexes it (fe_utils/psqlscan.l), byte by byte: single
quotes (a doubled quote stands for itself), double quotes, dollar quotes (``$tag$ ... $tag$``), ``--``
comments (ended by a newline or a carriage return) and nested ``/* */`` comments. A backslash
anywhere else refuses the dump. The one exception is a line that is exactly pg_dump's own
``\\restrict KEY`` or ``\\unrestrict KEY`` between statements; :func:`lines` marks those so the restore
can leave them out (it runs psql restricted with a key of its own, broker/pg_backup.py).

Where psql's reading depends on something the text cannot settle, the dump is refused rather than
guessed at:

- A ``'...'`` string is read with backslash escapes when it is ``E'...'``, and without otherwise,
  as pg_dump writes them (``SET standard_conforming_strings = on``). A line outside COPY data that
  names ``standard_conforming_strings`` in any other way is refused, and so is one that names
  ``client_encoding`` other than pg_dump's ``SET client_encoding = '...'`` of an encoding psql lexes
  byte by byte (SJIS, BIG5, GBK, UHC, GB18030 and JOHAB can hide a quote or backslash inside a
  character). A string psql may read as the continuation of an ``E'...'`` one (only spaces,
  newlines and comments between them) is refused when an odd number of backslashes stands before
  one of its quotes, where the two readings part.
- A ``$`` right after a number or a ``$1`` parameter starts a dollar quote in some psql versions and
  not in others: refused.
- After ``COPY ... FROM STDIN;`` psql reads lines as raw data until one that is exactly ``\\.``
  (backslashes in the data are data). A statement that starts with ``COPY`` and names ``STDIN`` in
  any other shape, or one psql 14 and later would not end at that ``;`` (inside ``CREATE FUNCTION
  ... BEGIN ATOMIC``) while older ones would, is refused. A ``;`` inside parentheses ends nothing,
  as in psql.

What the text settles only as far as it goes (a setting changed by a computed name, say) is left
to the second wall: psql runs restricted, with a key of Blastdoor's (broker/pg_backup.py).

Lines are read at most ``LINE_BYTES`` at a time; a longer line outside COPY data is refused (a COPY
row may be longer: it is read in pieces and never lexed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from blastdoor.broker.errors import BrokerError

LINE_BYTES = 1 << 22  # the most of one line read at once (4 MiB)
_STATEMENT_KEPT = 1 << 16  # of a statement's text, enough to tell a COPY FROM STDIN apart
_HINT = "make the dump with pg_dump --format=custom (without --create) and verify that"

_IDENT = rb"[A-Za-z_\x80-\xff][A-Za-z0-9_$\x80-\xff]*"
_NUMBER_TAIL = rb"[0-9A-Za-z_.\x80-\xff]*"
# What matters in code, leftmost first: identifiers (which take in any $), numbers and parameters
# (after which a $ is refused), dollar-quote openers, comments, quotes, backslashes, ; ( ).
_CODE = re.compile(
    rb"(?P<ident>" + _IDENT + rb")"
    rb"|(?P<number>(?:[0-9]|\.[0-9]|\$[0-9])" + _NUMBER_TAIL + rb")"
    rb"|(?P<dollar>\$(?:[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)?\$)"
    rb"|(?P<other>--|/\*|['\"\\;()])"
)
_QUOTE_END = re.compile(rb"(\\*)'")
_COMMENT_MARK = re.compile(rb"/\*|\*/")
_LINE_COMMENT_END = re.compile(rb"[\r\n]")
_ALLOWED = re.compile(rb"\\(?:un)?restrict [A-Za-z0-9]+\r?\n?")
# Who owns and who may use each object, one statement to a line as pg_dump writes them: left out of
# a restore, as pg_restore --no-owner --no-privileges leaves them (the restoring role owns nothing
# else and may grant nothing else, broker/pg_backup.py).
_OWNERSHIP = re.compile(
    rb"(?:ALTER [A-Z][A-Z ]* [^;]* OWNER TO (?:" + _IDENT + rb'|"(?:[^"]|"")*")'
    rb"|(?:GRANT|REVOKE|ALTER DEFAULT PRIVILEGES) [^;]*);\r?\n?"
)
_STRING_PREFIX = frozenset(b"eEbBxXnN")
_WORD_END = rb"(?![A-Za-z0-9_$\x80-\xff])"
_COPY = re.compile(rb"\s*copy" + _WORD_END, re.IGNORECASE)
_STDIN = re.compile(rb"(?<![A-Za-z0-9_$\x80-\xff])stdin" + _WORD_END, re.IGNORECASE)
_NAME = rb"(?:" + _IDENT + rb'|"(?:[^"]|"")*")'
_COPY_IN = re.compile(rb"\s*copy\s+" + _NAME + rb"(?:\s*\.\s*" + _NAME + rb"){0,2}\s*(?:\([^()]*\)\s*)?from\s+stdin" + _WORD_END,
                      re.IGNORECASE)  # fmt: skip
_SETTING = re.compile(rb"standard_conforming_strings|client_encoding", re.IGNORECASE)
_PG_DUMP_SETTING = re.compile(
    rb"SET standard_conforming_strings = on;\r?\n?|SET client_encoding = '(?:UTF-?8|UNICODE|SQL_ASCII|LATIN\d+"
    rb"|EUC_[A-Z0-9_]+|WIN12\d\d|WIN866|WIN874|KOI8-?[RU]|ISO_8859_\d+|MULE_INTERNAL)';\r?\n?",
    re.IGNORECASE,
)
_CODE_STATE, _SINGLE, _DOUBLE, _DOLLAR, _COMMENT = "code", "single", "double", "dollar", "comment"
# How a '...' string reads backslashes: not, as escapes, or either way.
_PLAIN, _ESCAPED, _EITHER = 0, 1, 2


@dataclass
class _Reader:
    """psql's lexer state carried from line to line."""

    name: str
    state: str = _CODE_STATE
    tag: bytes = b""  # the open dollar quote's delimiter
    comments: int = 0  # how deep in /* */ comments
    parens: int = 0
    begins: int = 0  # BEGIN ... END depth inside CREATE FUNCTION/PROCEDURE (psql 14 and later)
    # the statement's first identifiers, lower case; its code since the last ; (strings as '')
    words: list[bytes] = field(default_factory=list)
    statement: bytearray = field(default_factory=bytearray)
    long: bool = False  # the statement outgrew what is kept
    routine: bool = False  # the statement begins CREATE [OR REPLACE] FUNCTION/PROCEDURE
    spans: bool = False  # psql 14+ reads the statement as begun before the last ; (in BEGIN ATOMIC)
    copies: int = 0  # COPY FROM STDIN statements ended on this line, whose data follows it
    escapes: int = _PLAIN  # how the open '...' string reads backslashes
    after_escaped: bool = False  # only spaces and comments since an E'...' string closed

    def refuse(self, number: int, what: str) -> BrokerError:
        return BrokerError(
            f"{self.name} line {number} {what}, which a restore must not run", hint=_HINT
        )

    def line(self, text: bytes, number: int) -> None:
        """Lex one whole line (its newline included, if it has one)."""
        at, end = 0, len(text)
        while at < end:
            if self.state == _CODE_STATE:
                at = self._code(text, at, number)
            elif self.state == _SINGLE:
                found = _QUOTE_END.search(text, at)
                if found is None:
                    return
                at, odd = found.end(), len(found.group(1)) % 2
                if odd and self.escapes == _EITHER:
                    raise self.refuse(
                        number,
                        "has a quote after a backslash in a '...' string psql may read either way",
                    )
                if odd and self.escapes == _ESCAPED:
                    continue
                if text[at : at + 1] == b"'":
                    at += 1
                else:
                    self.state, self.after_escaped = _CODE_STATE, self.escapes != _PLAIN
            elif self.state == _DOUBLE:
                close = text.find(b'"', at)
                if close < 0:
                    return
                at = close + 1
                if text[at : at + 1] == b'"':
                    at += 1
                else:
                    self.state = _CODE_STATE
            elif self.state == _DOLLAR:
                close = text.find(self.tag, at)
                if close < 0:
                    return
                at, self.state = close + len(self.tag), _CODE_STATE
            else:
                mark = _COMMENT_MARK.search(text, at)
                if mark is None:
                    return
                at = mark.end()
                self.comments += 1 if mark.group() == b"/*" else -1
                if self.comments == 0:
                    self.state = _CODE_STATE
                    self._keep(b" ")

    def _code(self, text: bytes, at: int, number: int) -> int:
        token = _CODE.search(text, at)
        if token is None:
            self._keep(text[at:])
            return len(text)
        self._keep(text[at : token.start()])
        word, start, after = token.group(), token.start(), token.end()
        # psql continues an E'...' string only across spaces and comments
        if text[at : token.start()].strip(b" \t\n\r\f\v") or word not in (b"--", b"/*", b"'"):
            self.after_escaped = False
        if token.lastgroup == "ident":
            if len(word) == 1 and text[after : after + 1] == b"'" and word[0] in _STRING_PREFIX:
                self.escapes = _ESCAPED if word in b"eE" else _PLAIN
                self.state = _SINGLE
                self._keep(b"''")
                return after + 1
            self._identifier(word)
            self._keep(word)
        elif token.lastgroup == "number":
            if text[after : after + 1] == b"$":
                raise self.refuse(
                    number,
                    f"has a $ right after {word[:20].decode('utf-8', 'replace')!r} (psql versions read it differently)",
                )
            self._keep(word)
        elif token.lastgroup == "dollar":
            self.state, self.tag = _DOLLAR, word
            self._keep(b"''")
        elif word == b"--":
            line_end = _LINE_COMMENT_END.search(text, after)
            self._keep(b" ")
            return len(text) if line_end is None else line_end.start()
        elif word == b"/*":
            self.state, self.comments = _COMMENT, 1
        elif word == b"'":
            self.state, self.escapes = _SINGLE, _EITHER if self.after_escaped else _PLAIN
            self._keep(b"''")
        elif word == b'"':
            close = _closing_double(text, after)
            if close < 0:
                self.state = _DOUBLE
                self._keep(b'""')
                return len(text)
            self._keep(text[start:close])
            return close
        elif word == b"\\":
            if (
                start == 0
                and _ALLOWED.fullmatch(text)
                and not self.statement.strip()
                and not self.parens
            ):
                return len(text)
            shown = text[start : start + 40].decode("utf-8", "replace").strip()
            raise self.refuse(number, f"has the psql command '{shown}'")
        elif word == b"(":
            self.parens += 1
            self._keep(word)
        elif word == b")":
            self.parens = max(0, self.parens - 1)
            self._keep(word)
        else:  # ;
            self._semicolon(number)
        return after

    def _identifier(self, word: bytes) -> None:
        """psql 14+'s count of BEGIN ... END inside CREATE [OR REPLACE] FUNCTION/PROCEDURE."""
        if len(self.words) < 4:
            self.words.append(word.lower())
            first = [
                w[:1] if w in (b"create", b"function", b"procedure", b"or", b"replace") else b""
                for w in self.words
            ]
            self.routine = first[:1] == [b"c"] and (
                first[1:2] in ([b"f"], [b"p"])
                or (first[1:3] == [b"o", b"r"] and first[3:4] in ([b"f"], [b"p"]))
            )
        if not self.routine or self.parens:
            return
        word = word.lower()
        if word == b"begin" or (word == b"case" and self.begins):
            self.begins += 1
        elif word == b"end" and self.begins:
            self.begins -= 1

    def _keep(self, text: bytes) -> None:
        if len(self.statement) + len(text) > _STATEMENT_KEPT:
            self.long = True
            text = text[: max(0, _STATEMENT_KEPT - len(self.statement))]
        self.statement += text

    def _semicolon(self, number: int) -> None:
        if self.parens:
            self._keep(b";")
            return
        statement = bytes(self.statement)
        copy_in = bool(_COPY.match(statement)) and (self.long or bool(_STDIN.search(statement)))
        if copy_in and (self.begins or self.spans):
            raise self.refuse(
                number, "has a COPY FROM STDIN that psql versions start at different places"
            )
        if copy_in and (self.long or not _COPY_IN.match(statement)):
            raise self.refuse(number, "has a COPY naming STDIN in a shape this check does not read")
        self.copies += copy_in
        self.statement, self.long = bytearray(), False
        if self.begins:
            self.spans = True  # psql 14+ reads on; older versions ended the statement here
        else:
            self.words, self.spans, self.routine = [], False, False


def _closing_double(text: bytes, at: int) -> int:
    """Where the ``"..."`` identifier whose text starts at ``at`` ends (after its quote); -1 when
    it goes on past the line."""
    while (close := text.find(b'"', at)) >= 0:
        if text[close + 1 : close + 2] != b'"':
            return close + 1
        at = close + 2
    return -1


def lines(handle: IO[bytes], name: str) -> Iterator[tuple[bytes, bool]]:
    """The dump's lines (or pieces of long COPY rows) in order, each with whether psql is to be
    given it (False for pg_dump's own ``\\restrict`` / ``\\unrestrict`` lines, and for its lines
    of ownership and privileges); a BrokerError at
    the first thing psql would run that is not SQL."""
    reader = _Reader(name)
    number, whole, data = 0, True, 0  # data: COPY statements whose rows are being read
    while piece := handle.readline(LINE_BYTES):
        number += whole
        line_start, whole = whole, piece.endswith(b"\n")
        if data:
            if line_start and piece in (b"\\.\n", b"\\.\r\n", b"\\."):
                data -= 1
            yield piece, True
            continue
        if not whole and len(piece) == LINE_BYTES:
            raise reader.refuse(number, f"is longer than {LINE_BYTES >> 20} MiB outside COPY data")
        if _SETTING.search(piece) and not (
            reader.state == _CODE_STATE and _PG_DUMP_SETTING.fullmatch(piece)
        ):
            raise reader.refuse(
                number,
                "changes how psql reads the rest (standard_conforming_strings or client_encoding)",
            )
        before = reader.statement.strip() == b"" and reader.state == _CODE_STATE
        reader.line(piece, number)
        ended = before and reader.state == _CODE_STATE  # begun between statements, ended outside quotes
        dropped = ended and (bool(_ALLOWED.fullmatch(piece))
                             or (not reader.statement.strip() and bool(_OWNERSHIP.fullmatch(piece))))  # fmt: skip
        data, reader.copies = reader.copies, 0
        yield piece, not dropped


def check(handle: IO[bytes], name: str) -> None:
    """Refuse (BrokerError) a dump that would make psql do more than run SQL."""
    for _ in lines(handle, name):
        pass
