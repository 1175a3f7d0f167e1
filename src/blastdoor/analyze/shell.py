"""Shell analysis on tree-sitter-bash: find every simple command a line would run.

The walker visits the whole syntax tree, so commands nested in pipelines, lists, subshells, loops,
conditionals, ``$(...)`` and backticks are all seen. It keeps what bash keeps while reading one line
(variables assigned, functions and aliases defined) and follows what feeds a command's standard
input (heredocs, here-strings, ``echo ... |``, ``base64 -d |``) so that text piped into a shell or a
database client is analyzed as code, and text that is only data is not.

Each simple command becomes an :class:`Invocation` handed to its command family
(``analyze/commands``). Families call back through :meth:`ShellWalker.run_argv` and
:meth:`ShellWalker.run_script` for the commands they wrap.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from blastdoor.analyze.commands import lookup
from blastdoor.analyze.commands.filesystem import redirect_effects
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.invocation import NO_STDIN, Invocation, Redirect, Stdin, Word, unknown
from blastdoor.analyze.pipes import static_output
from blastdoor.analyze.words import WordResolver, text_of
from blastdoor.model import Effect

MAX_DEPTH = 8  # bash -c inside bash -c ...: deeper than this is decided as execute-unknown
MAX_LOOP_VALUES = 4
FileReader = Callable[[str], str | None]

_STRUCTURAL_SKIP = frozenset({"comment", "heredoc_body", "heredoc_end", "heredoc_start"})


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


def parse(script: str) -> Node:
    return _parser().parse(script.encode("utf-8", "surrogatepass")).root_node


def _no_files(_path: str) -> str | None:
    return None


class ShellWalker:
    """Walks one shell script and collects the effects of every command in it."""

    def __init__(
        self,
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        files: FileReader = _no_files,
        depth: int = 0,
    ) -> None:
        self._cwd = cwd
        self._env: Mapping[str, str] = env or {}
        self._files = files
        self._depth = depth
        self.variables: dict[str, str] = dict(self._env)
        self.functions: dict[str, Node] = {}
        self.called: set[str] = set()
        self.aliases: dict[str, list[str]] = {}
        self.effects: list[Effect] = []
        self._via: tuple[str, ...] = ()
        self._words = WordResolver(self.variables, self._substitution)

    # -- the Analysis protocol -------------------------------------------------------------
    @property
    def cwd(self) -> str | None:
        return self._cwd

    @property
    def env(self) -> Mapping[str, str]:
        return self._env

    def read_file(self, path: str) -> str | None:
        return self._files(path)

    def run_argv(
        self, inv: Invocation, words: Sequence[Word], *, via: str, stdin: Stdin | None = None
    ) -> list[Effect]:
        if not words:
            return []
        inner = Invocation(
            words=tuple(words),
            text=shlex.join(w.text for w in words),
            stdin=stdin or NO_STDIN,
            via=(*inv.via, via),
        )
        if len(inner.via) > MAX_DEPTH:
            return [unknown(inner, "commands are nested too deeply to follow", tags={"nesting"})]
        return self._dispatch(inner)

    def run_script(self, inv: Invocation, script: str, *, via: str) -> list[Effect]:
        chain = (*inv.via, via)
        if len(chain) > MAX_DEPTH:
            return [unknown(inv, "commands are nested too deeply to follow", tags={"nesting"})]
        with self._collecting(chain) as collected:
            self.walk_script(script)
        return collected

    # -- entry point -----------------------------------------------------------------------
    def walk_script(self, script: str) -> None:
        root = parse(script)
        if root.has_error:
            where = _first_error(root)
            self.effects.append(
                unknown(
                    Invocation(words=(), text=script[:200], via=self._via),
                    f"the shell text could not be parsed ({where}); what it would run is unknown",
                    tags={"unparseable"},
                )
            )
        self._walk(root, NO_STDIN)
        for name, body in list(self.functions.items()):
            if name not in self.called:  # defined but not called here: it may run later (traps)
                self.called.add(name)
                self._walk(body, NO_STDIN)

    # -- tree walking ----------------------------------------------------------------------
    def _walk(self, node: Node, stdin: Stdin) -> str | None:
        """Visit ``node``; return its standard output when that is statically known."""
        kind = node.type
        if kind in _STRUCTURAL_SKIP:
            return None
        if kind == "command":
            return self._command(node, (), stdin)
        if kind == "redirected_statement":
            return self._redirected(node, stdin)
        if kind == "pipeline":
            return self._pipeline(node, stdin)
        if kind == "variable_assignment":
            self._assign(node)
            return None
        if kind == "declaration_command":
            for child in node.named_children:
                if child.type == "variable_assignment":
                    self._assign(child)
            return None
        if kind == "function_definition":
            name = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            if name is not None and body is not None:
                self.functions[text_of(name)] = body
            return None
        if kind == "for_statement":
            self._for(node)
            return None
        output: str | None = None
        for child in node.named_children:
            output = self._walk(child, NO_STDIN)
        return output

    def _pipeline(self, node: Node, stdin: Stdin) -> str | None:
        feed = stdin
        output: str | None = None
        for stage in node.named_children:
            output = self._walk(stage, feed)
            feed = Stdin(text=output) if output is not None else Stdin(source=_stage_name(stage))
        return output

    def _redirected(self, node: Node, stdin: Stdin) -> str | None:
        body = node.child_by_field_name("body")
        redirects, fed = self._redirects(node.children_by_field_name("redirect"))
        feed = fed or stdin
        if body is not None and body.type == "command":
            return self._command(body, redirects, feed)
        if body is not None:
            self._walk(body, feed)
        inv = Invocation(words=(), text=text_of(node)[:200], redirects=redirects, via=self._via)
        self.effects.extend(redirect_effects(inv, self))
        return None

    def _redirects(self, nodes: Sequence[Node]) -> tuple[tuple[Redirect, ...], Stdin | None]:
        redirects: list[Redirect] = []
        stdin: Stdin | None = None
        for node in nodes:
            if node.type == "heredoc_redirect":
                body = next((c for c in node.children if c.type == "heredoc_body"), None)
                stdin = Stdin(text=text_of(body) if body is not None else "")
                nested = [c for c in node.named_children if c.type == "file_redirect"]
                more, _ = self._redirects(nested)
                redirects.extend(more)
                for pipe in (c for c in node.named_children if c.type not in _HEREDOC_PARTS):
                    self._walk(pipe, NO_STDIN)  # `<<EOF | cmd` and friends
            elif node.type == "herestring_redirect":
                value = node.named_children[0] if node.named_children else None
                word = self._words.word(value) if value is not None else Word("")
                stdin = Stdin(text=None if word.dynamic else word.text + "\n", source="a here-string")
            elif node.type == "file_redirect":
                redirect = self._file_redirect(node)
                redirects.append(redirect)
                if redirect.op == "<":
                    stdin = Stdin(source=f"file {redirect.target.text}")
        return tuple(redirects), stdin

    def _file_redirect(self, node: Node) -> Redirect:
        fd = node.child_by_field_name("descriptor")
        dest = node.child_by_field_name("destination")
        op = "".join(text_of(c) for c in node.children if not c.is_named)
        target = self._words.word(dest) if dest is not None else Word("")
        return Redirect(op=op, target=target, fd=text_of(fd) if fd is not None else "")

    def _command(self, node: Node, outer: tuple[Redirect, ...], stdin: Stdin) -> str | None:
        assignments: dict[str, str] = {}
        words: list[Word] = []
        inline: list[Node] = []
        for child in node.named_children:
            kind = child.type
            if kind == "variable_assignment":
                name, value = self._assignment(child)
                assignments[name] = value
            elif kind in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                inline.append(child)
            elif kind == "command_name":
                words.append(self._words.word(child.named_children[0]) if child.named_children else Word(""))
            elif kind != "comment":
                words.append(self._words.word(child))
        more, fed = self._redirects(inline)
        if not words:
            self.variables.update(assignments)
            return None
        inv = Invocation(
            words=tuple(words),
            text=text_of(node),
            redirects=outer + more,
            assignments=assignments,
            stdin=fed or stdin,
            via=self._via,
        )
        self.effects.extend(self._dispatch(inv))
        return static_output(inv)

    def _dispatch(self, inv: Invocation) -> list[Effect]:
        effects = list(redirect_effects(inv, self)) if inv.redirects else []
        head = inv.words[0]
        if head.dynamic:
            effects.append(unknown(inv, f"the program name {head.text!r} is only known at run time"))
            return effects
        alias = self.aliases.get(head.text)
        if alias is not None and inv.via[-1:] != ("alias",):
            words = [Word(w) for w in alias] + list(inv.args)
            return effects + self.run_argv(inv, words, via="alias", stdin=inv.stdin)
        body = self.functions.get(head.text)
        if body is not None:
            self.called.add(head.text)
            if inv.via.count("function " + head.text) == 0:
                with self._collecting((*inv.via, "function " + head.text)) as collected:
                    self._walk(body, inv.stdin)
                return effects + collected
            return effects
        if inv.name == "alias":
            self._define_aliases(inv)
            return effects
        family = lookup(inv.name)
        if family is None:
            effects.append(ordinary_program(inv))
        else:
            effects.extend(family(inv, self))
        return effects

    # -- variables, loops, aliases ---------------------------------------------------------
    def _assignment(self, node: Node) -> tuple[str, str]:
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        word = self._words.word(value) if value is not None else Word("")
        return (text_of(name) if name is not None else "", word.text)

    def _assign(self, node: Node) -> None:
        name, value = self._assignment(node)
        if name:
            self.variables[name] = value

    def _for(self, node: Node) -> None:
        var = node.child_by_field_name("variable")
        body = node.child_by_field_name("body")
        values = [self._words.word(v) for v in node.children_by_field_name("value")]
        if var is None or body is None:
            return None
        name = text_of(var)
        static = [w.text for w in values if not w.dynamic]
        if values and len(static) == len(values):
            for value in static[:MAX_LOOP_VALUES]:
                self.variables[name] = value
                self._walk(body, NO_STDIN)
        else:
            self.variables.pop(name, None)
            self._walk(body, NO_STDIN)
        return None

    def _define_aliases(self, inv: Invocation) -> None:
        for word in inv.args:
            name, sep, value = word.text.partition("=")
            if sep:
                try:
                    self.aliases[name] = shlex.split(value)
                except ValueError:
                    self.aliases[name] = value.split()

    def _substitution(self, node: Node) -> str | None:
        """Walk a ``$(...)``, backtick or ``<(...)`` body; its output when obvious."""
        output: str | None = None
        with self._collecting((*self._via, "$(...)")) as collected:
            for child in node.named_children:
                output = self._walk(child, NO_STDIN)
        self.effects.extend(collected)
        return output

    @contextmanager
    def _collecting(self, via: tuple[str, ...]) -> Iterator[list[Effect]]:
        saved_effects, saved_via = self.effects, self._via
        collected: list[Effect] = []
        self.effects, self._via = collected, via
        try:
            yield collected
        finally:
            self.effects, self._via = saved_effects, saved_via


_HEREDOC_PARTS = frozenset({"heredoc_start", "heredoc_body", "heredoc_end", "file_redirect"})


def _stage_name(stage: Node) -> str:
    node = stage
    while node.type != "command" and node.named_children:
        node = node.named_children[0]
    name = node.child_by_field_name("name")
    return f"the output of {text_of(name)}" if name is not None else "a pipe"


def _first_error(root: Node) -> str:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            row, col = node.start_point
            return f"near line {row + 1}, column {col + 1}"
        stack.extend(reversed(node.children))
    return "syntax error"


def analyze_shell(
    script: str,
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    files: FileReader = _no_files,
) -> list[Effect]:
    """Every effect the shell text ``script`` would have."""
    walker = ShellWalker(cwd=cwd, env=env, files=files)
    walker.walk_script(script)
    return walker.effects
