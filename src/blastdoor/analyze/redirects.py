"""Reading a command's words and redirects the way bash does, where tree-sitter-bash does not.

tree-sitter-bash attaches the words after an inline redirect to the redirect
(``rm 2>/dev/null -rf /`` is one redirect with three destinations), hangs ``<<EOF | cmd`` inside
the heredoc, and reads ``$ ls`` as the expansion ``$ls``. :class:`RedirectReader` puts each word
back on the command, turns ``<``, heredocs and here-strings into the command's standard input
(the file's text when it can be read), and hands back the commands nested in a heredoc.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tree_sitter import Node

from blastdoor.analyze.flows import secret_words
from blastdoor.analyze.invocation import Redirect, Stdin, Word
from blastdoor.analyze.paths import is_secret_path
from blastdoor.analyze.words import WordResolver, plain_word, text_of

FileReader = Callable[[str], str | None]


@runtime_checkable
class HeadReader(Protocol):
    """A :data:`FileReader` that can also read the start of a file too large to read whole."""

    def __call__(self, path: str) -> str | None: ...

    def head(self, path: str, size: int) -> str | None:
        """The first ``size`` bytes of the file at ``path`` as text, whatever its length."""
        ...

REDIRECT_NODES = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})
_HEREDOC_PARTS = frozenset({"heredoc_start", "heredoc_body", "heredoc_end", "file_redirect"})
_LONE_DOLLAR = re.compile(r"^\$\s")


@dataclass(frozen=True)
class Redirected:
    """What a command's redirects add: the redirects, its standard input, the words that followed
    a redirect on the line (``rm 2>/dev/null -rf /``) and the commands nested in a heredoc."""

    redirects: tuple[Redirect, ...]
    stdin: Stdin | None
    words: tuple[Word, ...]
    then: tuple[Node, ...] = ()  # `<<EOF | cmd`, `<<EOF && cmd`


class RedirectReader:
    """Reads redirect and word nodes against the variables known so far on the line."""

    def __init__(self, words: WordResolver, files: FileReader) -> None:
        self._words = words
        self._files = files

    def words_of(self, node: Node) -> list[Word]:
        """The words ``node`` becomes: an unquoted expansion is split on blanks, and two words
        where tree-sitter-bash reads ``$ ls`` (a lone ``$``, then a word) as the expansion ``$ls``;
        bash runs a program called ``$``."""
        kind = node.type
        if kind == "word":
            return [plain_word(node)]
        if kind == "simple_expansion" and _LONE_DOLLAR.match(text_of(node)):
            return [Word("$"), Word(text_of(node)[1:].strip())]
        return self._words.split(node)

    def read(self, nodes: Sequence[Node]) -> Redirected:
        redirects: list[Redirect] = []
        words: list[Word] = []
        then: list[Node] = []
        stdin: Stdin | None = None
        for node in nodes:
            if node.type == "heredoc_redirect":
                found = self._heredoc(node)
                redirects.extend(found.redirects)
                words.extend(found.words)
                then.extend(found.then)
                stdin = found.stdin
            elif node.type == "herestring_redirect":
                value = node.named_children[0] if node.named_children else None
                word = self._words.word(value) if value is not None else Word("")
                text = None if word.dynamic else word.text + "\n"
                stdin = Stdin(text=text, source="a here-string", secret=secret_words([word]))
            elif node.type == "file_redirect":
                redirect, more = self._file_redirect(node)
                redirects.append(redirect)
                words.extend(more)
                if redirect.op == "<":
                    stdin = self.file_stream(redirect.target)
        return Redirected(tuple(redirects), stdin, tuple(words), tuple(then))

    def _heredoc(self, node: Node) -> Redirected:
        body = next((c for c in node.children if c.type == "heredoc_body"), None)
        nested = self.read([c for c in node.named_children if c.type == "file_redirect"])
        args = node.children_by_field_name("argument")
        spans = {(arg.start_byte, arg.end_byte) for arg in args}
        then = [
            c
            for c in node.named_children
            if c.type not in _HEREDOC_PARTS and (c.start_byte, c.end_byte) not in spans
        ]
        return Redirected(
            nested.redirects,
            Stdin(text=text_of(body) if body is not None else ""),
            tuple(self._words.word(arg) for arg in args),
            (*nested.then, *then),
        )

    def _file_redirect(self, node: Node) -> tuple[Redirect, list[Word]]:
        """The redirect and the words after it: only the first destination is the file."""
        fd = node.child_by_field_name("descriptor")
        dests = node.children_by_field_name("destination")
        op = "".join(text_of(c) for c in node.children if not c.is_named)
        target = self._words.word(dests[0]) if dests else Word("")
        more = [self._words.word(dest) for dest in dests[1:]]
        return Redirect(op=op, target=target, fd=text_of(fd) if fd is not None else ""), more

    def file_stream(self, path: Word) -> Stdin:
        """Standard input read from the file ``path``: its text when it can be read."""
        text = None if path.dynamic else self._files(path.text)
        secret = f"the secrets in {path.text}" if is_secret_path(path.text) else ""
        made_by = path.text[2:-1] if path.dynamic and path.text.startswith("<(") else ""
        return Stdin(text=text, source=f"file {path.text}", secret=secret, made_by=made_by)
