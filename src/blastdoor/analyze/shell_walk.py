"""Walking tree-sitter-bash's syntax tree: every simple command a script would run, in order.

The walk visits the whole tree, so commands nested in pipelines, lists, subshells, loops,
conditionals, ``$(...)`` and backticks are all seen. Each simple command becomes an
:class:`Invocation` handed to :meth:`TreeWalk._dispatch` (the walker in
:mod:`blastdoor.analyze.shell` sends it to its command family). On the way it keeps the shell's
memory (:mod:`blastdoor.analyze.shell_state`: assignments, ``export``, ``declare``, ``for``
loops, function definitions) and follows what feeds a command's standard input (heredocs,
here-strings, files, ``echo ... |``, ``base64 -d |``), so that text piped into a shell or a
database client is analyzed as code, text that is only data is not, and a secret piped to the
network is exfiltration (:mod:`blastdoor.analyze.flows`). Words and redirects are read by
:mod:`blastdoor.analyze.redirects`.

A subshell, ``$(...)`` or child shell runs with a copy of that memory, put back when it ends
(:meth:`TreeWalk._own_variables`); the effects found inside a wrapped command are collected under
the commands that led to it (:meth:`TreeWalk._collecting`, ``via``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace

from tree_sitter import Node

from blastdoor.analyze.bash_tree import STRUCTURAL_SKIP, stage_name
from blastdoor.analyze.declarations import assignment, exporting, is_name, words_of
from blastdoor.analyze.flows import PRINTS_SECRET, carried, exfiltration, keeps_secret, secret_read
from blastdoor.analyze.invocation import NO_STDIN, Invocation, Redirect, Stdin, Word
from blastdoor.analyze.pipes import static_output
from blastdoor.analyze.redirects import REDIRECT_NODES, RedirectReader
from blastdoor.analyze.shell_state import ShellState
from blastdoor.analyze.stand_ins import loop_origin, read_loop
from blastdoor.analyze.words import WordResolver, text_of
from blastdoor.model import Effect, Verb

MAX_LOOP_VALUES = 4  # a `for` over more known values is walked with the first ones only


class TreeWalk(ABC):
    """Walks syntax trees of one shell and collects the effects of every command in them."""

    def __init__(self, *, env: Mapping[str, str]) -> None:
        self.state = ShellState(env)
        self.effects: list[Effect] = []
        self.called: set[Node] = set()  # the function bodies walked so far
        self._via: tuple[str, ...] = ()  # the commands that led to the script being walked
        self._kept = False  # the last command took a secret on stdin and printed none of it
        self._words = WordResolver(self.state, self._substitution)
        self._reader = RedirectReader(self._words, self.read_file)

    # -- supplied by the walker in shell.py -----------------------------------------------
    @abstractmethod
    def read_file(self, path: str) -> str | None:
        """The text of a file a redirect or ``cat`` reads, or None when it is not known."""

    @abstractmethod
    def _dispatch(self, inv: Invocation) -> list[Effect]:
        """The effects of running the simple command ``inv``."""

    @abstractmethod
    def _redirected(self, inv: Invocation) -> list[Effect]:
        """The effects of the redirects of ``inv``, a compound command (``{ ...; } >file``)."""

    @abstractmethod
    def _startup_file(self, inv: Invocation, path: Word) -> list[Effect]:
        """The effects of the file ``BASH_ENV`` names, which a bash ``inv`` starts runs first."""

    # -- tree walking ----------------------------------------------------------------------
    def _walk(self, node: Node, stdin: Stdin) -> Stdin:
        """Visit ``node``; return what it writes to standard output, as far as that is known."""
        kind = node.type
        if kind in STRUCTURAL_SKIP:
            return NO_STDIN
        if kind == "command":
            return self._command(node, (), stdin)
        if kind == "redirected_statement":
            return self._bound(node, (), stdin)
        if kind == "pipeline":
            return self._pipeline(node, stdin, ())
        if kind == "variable_assignment":
            self._assign(node)
            return NO_STDIN
        if kind == "declaration_command":
            return self._declaration(node)
        if kind == "function_definition":
            name = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            if name is not None and body is not None:
                self.state.functions[text_of(name)] = body
            return NO_STDIN
        if kind == "for_statement":
            self._for(node)
            return NO_STDIN
        if kind == "while_statement" and stdin.made_by:
            for variable, origin in read_loop(node, stdin.made_by):
                self.state.stand_in(variable, origin)
        if kind == "subshell":
            with self._own_variables():  # `(X=/tmp)` does not change X for what follows
                return self._children(node)
        return self._children(node)

    def _children(self, node: Node) -> Stdin:
        output = NO_STDIN
        for child in node.named_children:
            output = self._walk(child, NO_STDIN)
        return output

    def _pipeline(self, node: Node, stdin: Stdin, tail: Sequence[Node]) -> Stdin:
        """Each stage reads what the one before wrote; ``tail`` redirects bind to the last stage.

        A secret read by one stage flows on to the next. Sent over the network it is exfiltrated;
        taken in by a program that prints none of it (``| docker login --password-stdin``,
        ``| sha256sum``) it never reaches the agent, so reading it was not exposure.
        """
        stages = [child for child in node.named_children if child.type != "comment"]
        whole = node.text or b""
        feed = stdin
        exposed: list[Effect] = []  # credential reads whose output is still flowing down the pipe
        for index, stage in enumerate(stages):
            start = len(self.effects)
            self._kept = False
            last = index == len(stages) - 1
            output = self._bound(stage, tail, feed) if last and tail else self._walk(stage, feed)
            produced = self.effects[start:]
            if feed.secret:  # only a stage fed a secret can send it away
                self.effects.extend(exfiltration(self._stage_inv(stage), feed, produced))
            made_by = whole[: stage.end_byte - node.start_byte].decode("utf-8", "replace")
            feed = carried(output, feed, produced, default="" if output.source else stage_name(stage),
                           made_by=made_by)  # fmt: skip
            if self._kept:
                self.effects[:] = [e for e in self.effects if all(e is not x for x in exposed)]
                exposed, feed = [], replace(feed, secret="")
            exposed += [e for e in produced if e.verb is Verb.CREDENTIAL_USE]
        return feed

    def _bound(self, node: Node, outer: Sequence[Node], stdin: Stdin) -> Stdin:
        """Run ``node`` with the redirect nodes ``outer`` applied after its own.

        tree-sitter-bash hangs the redirects of ``a && b >log`` and ``a | b <in`` on the whole list
        or pipeline; bash binds them to the last command, and so does this walker.
        """
        if node.type == "redirected_statement":
            body = node.child_by_field_name("body")
            own = [*node.children_by_field_name("redirect"), *outer]
            return self._bound(body, own, stdin) if body is not None else NO_STDIN
        if not outer:
            return self._walk(node, stdin)
        if node.type == "command":
            return self._command(node, outer, stdin)
        if node.type == "pipeline":
            return self._pipeline(node, stdin, outer)
        if node.type == "list":
            parts = [child for child in node.named_children if child.type != "comment"]
            for part in parts[:-1]:
                self._walk(part, NO_STDIN)
            return self._bound(parts[-1], outer, NO_STDIN) if parts else NO_STDIN
        found = self._reader.read(outer)  # words after a compound's redirect are a syntax error
        self._walk(node, found.stdin or stdin)
        inv = Invocation(
            words=(), text=text_of(node)[:200], redirects=found.redirects, via=self._via
        )
        self.effects.extend(self._redirected(inv))
        return self._then(found.then, NO_STDIN)

    def _command(self, node: Node, outer: Sequence[Node], stdin: Stdin) -> Stdin:
        assignments: dict[str, str] = {}
        words: list[Word] = []
        redirects: list[Redirect] = []
        fed: Stdin | None = None
        then: list[Node] = []
        values: list[tuple[str, Word, Node]] = []
        own = len(node.named_children)
        for index, child in enumerate([*node.named_children, *outer]):
            if index == own:
                words.extend(_dropped_words(node, outer))
            kind = child.type
            if kind == "variable_assignment":
                name, value = self._assignment(child)
                assignments[name] = value.text
                values.append((name, value, child))
            elif kind in REDIRECT_NODES:
                found = self._reader.read([child])
                redirects.extend(found.redirects)
                words.extend(found.words)
                then.extend(found.then)
                fed = found.stdin or fed
            elif kind == "command_name":
                words.extend(
                    self._reader.words_of(child.named_children[0])
                    if child.named_children
                    else [Word("")]
                )
            elif kind != "comment":
                words.extend(self._reader.words_of(child))
        if not words:
            for name, value, child in values:
                self._set(name, value, child)
            return self._then(then, NO_STDIN)
        inv = Invocation(
            words=tuple(words),
            text=text_of(node),
            redirects=tuple(redirects),
            assignments=assignments,
            stdin=fed or stdin,
            via=self._via,
        )
        found_effects = self._dispatch(inv)
        for name, value, _ in values:
            if name == "BASH_ENV":  # `BASH_ENV=./x.sh cmd`: a bash cmd starts runs x.sh first
                found_effects += self._startup_file(inv, value)
        found_effects += exfiltration(inv, inv.stdin, found_effects)
        self._kept = bool(inv.stdin.secret) and keeps_secret(inv)
        if fed is not None and fed.secret and fed.source.startswith("file "):  # grep KEY < .env
            found_effects.append(secret_read(inv, fed.secret))
        self.effects.extend(found_effects)
        return self._then(then, self._output(inv, found_effects))

    def _then(self, nodes: Sequence[Node], output: Stdin) -> Stdin:
        """What tree-sitter-bash tucks into a heredoc redirect: ``<<EOF | cmd``, ``<<EOF && cmd``."""
        for node in nodes:
            output = (
                self._pipeline(node, output, ())
                if node.type == "pipeline"
                else self._walk(node, NO_STDIN)
            )
        return output

    def _output(self, inv: Invocation, found: Sequence[Effect]) -> Stdin:
        text = static_output(inv)
        files = [w for w in inv.args if w.text != "-"] if inv.name == "cat" else []
        if text is None and len(files) == 1 and not files[0].text.startswith("-"):
            stream = self._reader.file_stream(files[0])
            return carried(stream, inv.stdin, found)
        output = Stdin(text=text, source="" if text is not None else f"the output of {inv.name}")
        return carried(output, inv.stdin, found)

    def _stage_inv(self, stage: Node) -> Invocation:
        return Invocation(words=(), text=text_of(stage)[:200], via=self._via)

    # -- assignments, exports, loops --------------------------------------------------------
    def _declaration(self, node: Node) -> Stdin:
        """``export A=1``, ``local x``, ``declare -x "A=$v"``: assignments and exports, read word by
        word as bash reads them (``declarations``); the listings that print every variable
        (``export -p``, ``declare -x``) go to their family."""
        command = text_of(node.children[0]) if node.children else ""
        groups = words_of(node.named_children)
        options = [text_of(g[0]) for g in groups if len(g) == 1 and text_of(g[0])[:1] in "-+"]
        exports = exporting(command, options)
        words = [Word(command)] if command else []
        assigned = False
        for group in groups:
            if len(group) == 1 and group[0].type == "variable_assignment":
                name, value = self._assignment(group[0])
                found: tuple[str, Word] | None = (name, value) if name else None
            else:
                word = self._group_word(group)
                found = assignment(word) if word.text[:1] not in "-+" else None
                if found is None:
                    words.append(word)
                    if exports is not None and is_name(word):
                        self._exported(word.text, exports, node)
                    continue
            assigned = True
            if found is not None:
                self.state.assigned.add(found[0])
                self._set(*found, group[0] if len(group) == 1 else node, export=exports is True)
                if exports is False:
                    self.state.exported.discard(found[0])
        if not assigned:
            inv = Invocation(words=tuple(words), text=text_of(node), via=self._via)
            self.effects.extend(self._dispatch(inv))
        return NO_STDIN

    def _group_word(self, group: Sequence[Node]) -> Word:
        """The one word the touching nodes ``group`` make (``A"=./x"``)."""
        parts = [self._words.word(node) for node in group]
        if len(parts) == 1:
            return parts[0]
        return Word(
            "".join(part.text for part in parts),
            any(part.dynamic for part in parts),
            frozenset().union(*(part.variables for part in parts)),
            splits=any(part.splits for part in parts),
        )

    def _exported(self, name: str, exports: bool, node: Node) -> None:
        if exports:
            self._export(name, node)
        else:
            self.state.exported.discard(name)

    def _export(self, name: str, node: Node) -> None:
        """``name`` reaches the programs started from here on. A bash among them first runs the
        file ``BASH_ENV`` names, so exporting it runs that file."""
        self.state.exported.add(name)
        if name == "BASH_ENV":
            inv = Invocation(words=(), text=text_of(node), via=self._via)
            self.effects.extend(self._startup_file(inv, self.state.value(name)))

    def _assignment(self, node: Node) -> tuple[str, Word]:
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        word = self._words.word(value) if value is not None else Word("")
        named = text_of(name) if name is not None else ""
        self.state.assigned.add(named)
        return (named, word)

    def _assign(self, node: Node) -> None:
        name, value = self._assignment(node)
        if name:
            self._set(name, value, node)

    def _set(self, name: str, value: Word, node: Node, *, export: bool = False) -> None:
        """``name=value``, exported when ``export`` or under ``set -a``. A value only known at run
        time (``X=$(uname)``) stays one: ``$X`` expands to a run-time word, never to a program
        literally named ``$(uname)``."""
        self.state.assign(name, value, node)
        if export or self.state.allexport:
            self._export(name, node)

    def _for(self, node: Node) -> None:
        var = node.child_by_field_name("variable")
        body = node.child_by_field_name("body")
        values = [w for v in node.children_by_field_name("value") for w in self._words.split(v)]
        if var is None or body is None:
            return None
        name = text_of(var)
        self.state.assigned.add(name)
        static = [w.text for w in values if not w.dynamic]
        self.state.stand_ins.pop(name, None)
        if values and len(static) == len(values):
            for value in static[:MAX_LOOP_VALUES]:
                self.state.variables[name] = value
                self._walk(body, NO_STDIN)
        else:
            self.state.variables.pop(name, None)
            origin = loop_origin(values)
            if origin:  # `for pid in $(pgrep nginx)`: each value is a PID of that listing
                self.state.stand_in(name, origin)
            self._walk(body, NO_STDIN)
        return None

    # -- child shells ----------------------------------------------------------------------
    def _substitution(self, node: Node) -> str | None:
        """Walk a ``$(...)``, backtick or ``<(...)`` body; its output when obvious."""
        output = NO_STDIN
        with self._collecting((*self._via, "$(...)")) as collected, self._own_variables():
            for child in node.named_children:
                output = self._walk(child, NO_STDIN)
        # `$(echo $TOKEN)` hands the secret to the command around it; the agent does not see it.
        self.effects.extend(e for e in collected if PRINTS_SECRET not in e.tags)
        return output.text

    @contextmanager
    def _own_variables(self) -> Iterator[None]:
        """A subshell, command substitution or child shell (``bash -c``, ``ssh``): its assignments,
        ``cd``, functions and aliases are gone when it ends. It still sees this shell's (bash hands
        a child only exported variables and ``export -f`` functions; seeing all of them is the
        cautious reading). Only ``eval`` and ``source`` run in this shell itself."""
        saved = self.state.save()
        try:
            yield
            self._uncalled(
                body for name, body in self.state.functions.items()
                if saved.functions.get(name) != body
            )  # fmt: skip
        finally:
            self.state.restore(saved)

    @contextmanager
    def _collecting(self, via: tuple[str, ...]) -> Iterator[list[Effect]]:
        saved_effects, saved_via = self.effects, self._via
        collected: list[Effect] = []
        self.effects, self._via = collected, via
        try:
            yield collected
        finally:
            self.effects, self._via = saved_effects, saved_via

    def _uncalled(self, bodies: Iterable[Node]) -> None:
        """Walk the bodies not called yet: a function defined but never called may still run
        (from a trap, say) before its shell ends."""
        for body in list(bodies):
            if body not in self.called:
                self.called.add(body)
                self._walk(body, NO_STDIN)


def _dropped_words(command: Node, redirects: Sequence[Node]) -> list[Word]:
    """Words tree-sitter-bash leaves out of the tree between a command and its redirects: a lone
    ``-`` written just before a heredoc (``cat - <<EOF``, ``ip -batch - <<EOF``) belongs to no node,
    though bash passes it on as an argument."""
    after = [r for r in redirects if r.start_byte >= command.end_byte and r.parent is not None]
    if not after:
        return []
    first = min(after, key=lambda r: r.start_byte)
    holder = first.parent
    if holder is None or holder.text is None or holder.start_byte > command.end_byte:
        return []
    gap = holder.text[command.end_byte - holder.start_byte : first.start_byte - holder.start_byte]
    return [Word("-") for part in gap.split() if part == b"-"]  # not a line continuation's backslash
