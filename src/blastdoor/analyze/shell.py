"""Shell analysis on tree-sitter-bash: find every simple command a line would run.

The walker visits the whole syntax tree, so commands nested in pipelines, lists, subshells, loops,
conditionals, ``$(...)`` and backticks are all seen. It keeps what bash keeps while reading one line
(variables assigned, functions and aliases defined) and follows what feeds a command's standard
input (heredocs, here-strings, files, ``echo ... |``, ``base64 -d |``) so that text piped into a
shell or a database client is analyzed as code, text that is only data is not, and a secret piped
to the network is exfiltration (``flows``). Words and redirects are read by ``redirects``.

Each simple command becomes an :class:`Invocation` handed to its command family
(``analyze/commands``). Families call back through :meth:`ShellWalker.run_argv` and
:meth:`ShellWalker.run_script` for the commands they wrap.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace

from tree_sitter import Node

from blastdoor.analyze.bash_repair import repaired
from blastdoor.analyze.bash_tree import STRUCTURAL_SKIP, first_error, parse, stage_name
from blastdoor.analyze.commands import lookup
from blastdoor.analyze.commands.db_typed import typed_line
from blastdoor.analyze.commands.filesystem import redirect_effects
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.declarations import allexport, assignment, exporting, is_name, words_of
from blastdoor.analyze.directories import MOVES, Directories
from blastdoor.analyze.flows import PRINTS_SECRET, carried, exfiltration, keeps_secret, secret_read
from blastdoor.analyze.functions import aliases_defined, forks_itself, recursion
from blastdoor.analyze.invocation import (
    NO_STDIN,
    Invocation,
    Redirect,
    Stdin,
    Word,
    names_a_program_file,
    names_its_program,
    unknown,
)
from blastdoor.analyze.paths import UNKNOWN_DIR
from blastdoor.analyze.pipes import static_output
from blastdoor.analyze.redirects import REDIRECT_NODES, HeadReader, RedirectReader
from blastdoor.analyze.redirects import FileReader as FileReader  # re-exported for judge.py
from blastdoor.analyze.stand_ins import listing_origin, loop_origin, read_loop
from blastdoor.analyze.words import WordResolver, text_of
from blastdoor.model import Effect, Verb

MAX_DEPTH = 8  # bash -c inside bash -c ...: deeper than this is decided as execute-unknown
MAX_LOOP_VALUES = 4


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
        self.called: set[Node] = set()  # the function bodies walked so far
        self.aliases: dict[str, list[str]] = {}
        self.effects: list[Effect] = []
        self._dirs = Directories()
        self._via: tuple[str, ...] = ()
        self._kept = False  # the last command took a secret on stdin and printed none of it
        self.assigned: set[str] = set()  # variables this script sets itself (not the environment's)
        self.exported: set[str] = set()  # variables it exports (`export A=1`, `declare -x A`)
        self.allexport = False  # `set -a`: every variable assigned is exported
        self.stand_ins: dict[str, str] = {}  # variables standing for a process listing's lines
        # Of those, the ones that stand for nothing more than a run-time value (`X=$(uname)`):
        # `$X` is a run-time word, and a value made from it is no listing's line.
        self.run_time: set[str] = set()
        self._words = WordResolver(
            self.variables, self._substitution, self.assigned, self.stand_ins
        )
        self._reader = RedirectReader(self._words, self.read_file)

    # -- the Analysis protocol -------------------------------------------------------------
    @property
    def cwd(self) -> str | None:
        return self._cwd

    @property
    def env(self) -> Mapping[str, str]:
        return self._env

    @property
    def here(self) -> str | None:
        return self._dirs.here

    @property
    def exports(self) -> Mapping[str, str]:
        # A name exported with a value only known at run time (`read X; export X`) keeps it as
        # shell text (`$X`, `$(cmd)`), so a consumer that reads it as a command sees it unknown.
        return {name: self._value(name).text for name in self.exported}

    def read_file(self, path: str) -> str | None:
        where = self._dirs.file(path)
        return self._files(where) if where is not None else None

    def read_head(self, path: str, size: int) -> str | None:
        where = self._dirs.file(path)
        if where is None:
            return None
        if isinstance(self._files, HeadReader):
            return self._files.head(where, size)
        text = self._files(where)
        return text[:size] if text is not None else None

    def run_argv(
        self,
        inv: Invocation,
        words: Sequence[Word],
        *,
        via: str,
        stdin: Stdin | None = None,
        stand_ins: Mapping[str, str] | None = None,
        assignments: Mapping[str, str] | None = None,
    ) -> list[Effect]:
        if not words:
            return []
        inner = Invocation(
            words=tuple(words),
            text=shlex.join(w.text for w in words),
            assignments=dict(assignments or {}),
            stdin=stdin or NO_STDIN,
            via=(*inv.via, via),
        )
        if len(inner.via) > MAX_DEPTH:
            return [unknown(inner, "commands are nested too deeply to follow", tags={"nesting"})]
        bash_env = inner.assignments.get("BASH_ENV")
        startup = (  # `env BASH_ENV=./x.sh cmd`; one `inv` got already counted
            self._startup_file(inner, Word(bash_env))
            if bash_env is not None and bash_env != inv.assignments.get("BASH_ENV")
            else []
        )
        if not stand_ins:
            return startup + self._dispatch(inner)
        with self._own_variables():  # a process of its own: the stand-ins end with it
            for name, origin in stand_ins.items():
                self._stand_in(name, origin)
            return startup + self._dispatch(inner)

    def run_script(self, inv: Invocation, script: str, *, via: str, same_shell: bool = False) -> list[Effect]:
        chain = (*inv.via, via)
        if len(chain) > MAX_DEPTH:
            return [unknown(inv, "commands are nested too deeply to follow", tags={"nesting"})]
        own = nullcontext() if same_shell else self._own_variables()
        with self._collecting(chain) as collected, own:
            self.walk_script(script)
        return collected

    # -- entry point -----------------------------------------------------------------------
    def walk_script(self, script: str) -> None:
        root = parse(script)
        if root.has_error and (fixed := repaired(script)) != script:
            again = parse(fixed)  # valid bash tree-sitter-bash rejects (bash_repair.py)
            root = root if again.has_error else again
        if (typed := typed_line(script, bash_error=root.has_error, via=self._via)) is not None:
            self.effects.extend(typed)  # `CREATE INDEX i ON t(c)`, `db.x.drop()`: not bash
            return
        if root.has_error:
            where = first_error(root)
            self.effects.append(
                unknown(
                    Invocation(words=(), text=script[:200], via=self._via),
                    f"the shell text could not be parsed ({where}); what it would run is unknown",
                    tags={"unparseable"},
                )
            )
        self._walk(root, NO_STDIN)
        self._uncalled(self.functions.values())

    def _uncalled(self, bodies: Iterable[Node]) -> None:
        """Walk the bodies not called yet: a function defined but never called may still run
        (from a trap, say) before its shell ends."""
        for body in list(bodies):
            if body not in self.called:
                self.called.add(body)
                self._walk(body, NO_STDIN)

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
                self.functions[text_of(name)] = body
            return NO_STDIN
        if kind == "for_statement":
            self._for(node)
            return NO_STDIN
        if kind == "while_statement" and stdin.made_by:
            for variable, origin in read_loop(node, stdin.made_by):
                self._stand_in(variable, origin)
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
        self.effects.extend(redirect_effects(inv, self))
        return self._then(found.then, NO_STDIN)

    def _command(self, node: Node, outer: Sequence[Node], stdin: Stdin) -> Stdin:
        assignments: dict[str, str] = {}
        words: list[Word] = []
        redirects: list[Redirect] = []
        fed: Stdin | None = None
        then: list[Node] = []
        values: list[tuple[str, Word, Node]] = []
        for child in [*node.named_children, *outer]:
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
                self.assigned.add(found[0])
                self._set(*found, group[0] if len(group) == 1 else node, export=exports is True)
                if exports is False:
                    self.exported.discard(found[0])
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
            self.exported.discard(name)

    def _export(self, name: str, node: Node) -> None:
        """``name`` reaches the programs started from here on. A bash among them first runs the
        file ``BASH_ENV`` names, so exporting it runs that file."""
        self.exported.add(name)
        if name == "BASH_ENV":
            inv = Invocation(words=(), text=text_of(node), via=self._via)
            self.effects.extend(self._startup_file(inv, self._value(name)))

    def _value(self, name: str) -> Word:
        """What ``$name`` holds: known, a run-time value, or one only the environment knows."""
        if name in self.variables:
            return Word(self.variables[name])
        if name in self.stand_ins:
            return Word(self.stand_ins[name], True)
        return Word(f"${name}", True)

    def _startup_file(self, inv: Invocation, path: Word) -> list[Effect]:
        """The file a non-interactive bash runs before its script: ``BASH_ENV``."""
        if not path.dynamic and not path.text:
            return []
        return self.run_argv(inv, [Word("bash"), path], via="BASH_ENV")

    def _dispatch(self, inv: Invocation) -> list[Effect]:
        effects = list(redirect_effects(inv, self)) if inv.redirects else []
        head = inv.words[0]
        if head.dynamic and not names_its_program(head):
            if not names_a_program_file(head):
                effects.append(
                    unknown(inv, f"the program name {head.text!r} is only known at run time")
                )
                return effects
            # `$DIR/bin/rm`: the unquoted folder may split into another program and arguments;
            # when it does not, the named file runs. Both readings count.
            effects.append(
                unknown(inv, f"the folder in {head.text!r} is only known at run time and may "
                             "split into another program and its arguments")  # fmt: skip
            )
        alias = self.aliases.get(head.text)
        if alias is not None and inv.via[-1:] != ("alias",):
            effects += self._aliased(inv, alias)
        body = self.functions.get(head.text)
        if body is not None:
            self.called.add(body)
            if inv.via.count("function " + head.text) == 0:
                with self._collecting((*inv.via, "function " + head.text)) as collected:
                    self._walk(body, inv.stdin)
                return effects + collected
            return [*effects, recursion(inv, forks=forks_itself(head.text, body))]
        if inv.name == "alias":
            self.aliases.update(aliases_defined(inv))
            return effects
        if inv.name in MOVES:
            self._dirs.move(inv, cwd=self._cwd, env=self._env)
        if inv.name == "set" and (state := allexport(inv.argv[1:])) is not None:
            self.allexport = state
        family = lookup(inv.name)
        if family is None:
            effects.append(ordinary_program(inv))
        else:
            effects.extend(family(inv, self))
        return effects

    def _aliased(self, inv: Invocation, alias: Sequence[str]) -> list[Effect]:
        """The alias reading of ``inv``, judged besides the command as written.

        bash expands an alias only where ``expand_aliases`` is on (not in a script or ``bash -c``)
        and only in a line read after the one that defined it (``alias rm=true; rm -rf /`` runs
        rm), so the command as written always counts and the alias reading counts too, in case
        the shell expands it. The alias reading does not move this shell for the rest of the
        line: where it would (``alias x='cd /'``), where the shell is is no longer known."""
        here = self._dirs.here
        with self._own_variables():
            words = [Word(w) for w in alias] + list(inv.args)
            found = self.run_argv(inv, words, via="alias", stdin=inv.stdin)
            moved = self._dirs.here != here
        if moved:
            self._dirs.here = UNKNOWN_DIR
        return found

    # -- variables, loops, aliases ---------------------------------------------------------
    def _assignment(self, node: Node) -> tuple[str, Word]:
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        word = self._words.word(value) if value is not None else Word("")
        named = text_of(name) if name is not None else ""
        self.assigned.add(named)
        return (named, word)

    def _assign(self, node: Node) -> None:
        name, value = self._assignment(node)
        if name:
            self._set(name, value, node)

    def _set(self, name: str, value: Word, node: Node, *, export: bool = False) -> None:
        """``name=value``, exported when ``export`` or under ``set -a``. A value only known at run
        time (``X=$(uname)``) stays one: ``$X`` expands to a run-time word, never to a program
        literally named ``$(uname)``."""
        listings = {n: o for n, o in self.stand_ins.items() if n not in self.run_time}
        origin = listing_origin(value, node, listings)
        if origin:
            self._stand_in(name, origin)
        elif value.dynamic:
            self._stand_in(name, value.text)
            self.run_time.add(name)
        else:
            self.variables[name] = value.text
            self.stand_ins.pop(name, None)
        if export or self.allexport:
            self._export(name, node)

    def _stand_in(self, name: str, origin: str) -> None:
        """``name`` stands for values only known at run time that come from ``origin``."""
        self.variables.pop(name, None)
        self.stand_ins[name] = origin
        self.run_time.discard(name)
        self.assigned.add(name)

    def _for(self, node: Node) -> None:
        var = node.child_by_field_name("variable")
        body = node.child_by_field_name("body")
        values = [w for v in node.children_by_field_name("value") for w in self._words.split(v)]
        if var is None or body is None:
            return None
        name = text_of(var)
        self.assigned.add(name)
        static = [w.text for w in values if not w.dynamic]
        self.stand_ins.pop(name, None)
        if values and len(static) == len(values):
            for value in static[:MAX_LOOP_VALUES]:
                self.variables[name] = value
                self._walk(body, NO_STDIN)
        else:
            self.variables.pop(name, None)
            origin = loop_origin(values)
            if origin:  # `for pid in $(pgrep nginx)`: each value is a PID of that listing
                self._stand_in(name, origin)
            self._walk(body, NO_STDIN)
        return None

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
        saved, dirs, stand_ins = dict(self.variables), self._dirs.copy(), dict(self.stand_ins)
        run_time = set(self.run_time)
        functions, aliases, exported = dict(self.functions), dict(self.aliases), set(self.exported)
        allexport = self.allexport
        try:
            yield
            self._uncalled(
                body for name, body in self.functions.items() if functions.get(name) != body
            )
        finally:
            self.functions, self.aliases, self.exported = functions, aliases, exported
            self.allexport = allexport
            self.variables.clear()
            self.variables.update(saved)
            self.stand_ins.clear()
            self.stand_ins.update(stand_ins)
            self.run_time.clear()
            self.run_time.update(run_time)
            self._dirs = dirs

    @contextmanager
    def _collecting(self, via: tuple[str, ...]) -> Iterator[list[Effect]]:
        saved_effects, saved_via = self.effects, self._via
        collected: list[Effect] = []
        self.effects, self._via = collected, via
        try:
            yield collected
        finally:
            self.effects, self._via = saved_effects, saved_via


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
