"""Shell analysis on tree-sitter-bash: find every simple command a line would run.

:class:`ShellWalker` is what a command family sees of the shell (the ``Analysis`` protocol of
:mod:`blastdoor.analyze.invocation`). The work is split by concern:

- :mod:`blastdoor.analyze.shell_parse` reads the text: bash, bash after ``bash_repair``, or
  database text typed at the shell;
- :mod:`blastdoor.analyze.shell_walk` walks the syntax tree and turns each simple command into an
  :class:`Invocation`;
- :mod:`blastdoor.analyze.shell_state` is what the shell keeps meanwhile: variables, exports,
  functions, aliases, the folder ``cd`` moved to;
- this module runs each invocation: a function's body, an alias's reading, or the command family
  (``analyze/commands``) of its program. Families call back through :meth:`ShellWalker.run_argv`
  and :meth:`ShellWalker.run_script` for the commands they wrap.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from contextlib import nullcontext

from blastdoor.analyze.commands import lookup
from blastdoor.analyze.commands.filesystem import redirect_effects
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.declarations import allexport
from blastdoor.analyze.directories import MOVES
from blastdoor.analyze.functions import aliases_defined, forks_itself, recursion
from blastdoor.analyze.invocation import (
    NO_STDIN,
    Invocation,
    Stdin,
    Word,
    names_a_program_file,
    names_its_program,
    unknown,
)
from blastdoor.analyze.paths import UNKNOWN_DIR
from blastdoor.analyze.redirects import FileReader as FileReader  # re-exported for judge.py
from blastdoor.analyze.redirects import HeadReader
from blastdoor.analyze.shell_parse import read_script
from blastdoor.analyze.shell_walk import TreeWalk
from blastdoor.model import Effect

MAX_DEPTH = 8  # bash -c inside bash -c ...: deeper than this is decided as execute-unknown


def _no_files(_path: str) -> str | None:
    return None


class ShellWalker(TreeWalk):
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
        super().__init__(env=self._env)

    @property
    def variables(self) -> Mapping[str, str]:
        """The variables known once the script was read, by name."""
        return self.state.variables

    # -- the Analysis protocol -------------------------------------------------------------
    @property
    def cwd(self) -> str | None:
        return self._cwd

    @property
    def env(self) -> Mapping[str, str]:
        return self._env

    @property
    def here(self) -> str | None:
        return self.state.dirs.here

    @property
    def exports(self) -> Mapping[str, str]:
        return self.state.exports

    def read_file(self, path: str) -> str | None:
        where = self.state.dirs.file(path)
        return self._files(where) if where is not None else None

    def read_head(self, path: str, size: int) -> str | None:
        where = self.state.dirs.file(path)
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
                self.state.stand_in(name, origin)
            return startup + self._dispatch(inner)

    def run_script(
        self, inv: Invocation, script: str, *, via: str, same_shell: bool = False
    ) -> list[Effect]:
        chain = (*inv.via, via)
        if len(chain) > MAX_DEPTH:
            return [unknown(inv, "commands are nested too deeply to follow", tags={"nesting"})]
        own = nullcontext() if same_shell else self._own_variables()
        with self._collecting(chain) as collected, own:
            self.walk_script(script)
        return collected

    # -- entry point -----------------------------------------------------------------------
    def walk_script(self, script: str) -> None:
        reading = read_script(script, via=self._via)
        self.effects.extend(reading.effects)
        if reading.root is None:  # `CREATE INDEX i ON t(c)`, `db.x.drop()`: not bash
            return
        self._walk(reading.root, NO_STDIN)
        self._uncalled(self.state.functions.values())

    # -- running one command ---------------------------------------------------------------
    def _startup_file(self, inv: Invocation, path: Word) -> list[Effect]:
        """The file a non-interactive bash runs before its script: ``BASH_ENV``."""
        if not path.dynamic and not path.text:
            return []
        return self.run_argv(inv, [Word("bash"), path], via="BASH_ENV")

    def _redirected(self, inv: Invocation) -> list[Effect]:
        return list(redirect_effects(inv, self))

    def _dispatch(self, inv: Invocation) -> list[Effect]:
        effects = self._redirected(inv) if inv.redirects else []
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
                unknown(
                    inv,
                    f"the folder in {head.text!r} is only known at run time and may "
                    "split into another program and its arguments",
                )  # fmt: skip
            )
        alias = self.state.aliases.get(head.text)
        if alias is not None and inv.via[-1:] != ("alias",):
            effects += self._aliased(inv, alias)
        body = self.state.functions.get(head.text)
        if body is not None:
            self.called.add(body)
            if inv.via.count("function " + head.text) == 0:
                with self._collecting((*inv.via, "function " + head.text)) as collected:
                    self._walk(body, inv.stdin)
                return effects + collected
            return [*effects, recursion(inv, forks=forks_itself(head.text, body))]
        if inv.name == "alias":
            self.state.aliases.update(aliases_defined(inv))
            return effects
        if inv.name in MOVES:
            self.state.dirs.move(inv, cwd=self._cwd, env=self._env)
        if inv.name == "set" and (exporting := allexport(inv.argv[1:])) is not None:
            self.state.allexport = exporting
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
        here = self.state.dirs.here
        with self._own_variables():
            words = [Word(w) for w in alias] + list(inv.args)
            found = self.run_argv(inv, words, via="alias", stdin=inv.stdin)
            moved = self.state.dirs.here != here
        if moved:
            self.state.dirs.here = UNKNOWN_DIR
        return found


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
