"""What a shell keeps while it reads a script: variables, exports, functions, aliases, its folder.

``X=/srv; rm -rf $X`` deletes ``/srv`` only because the shell remembers ``X``; ``export
GIT_SSH_COMMAND=...`` changes what a later ``git fetch`` runs; ``cd ..`` moves every relative path
after it. :class:`ShellState` is that memory, kept by the walker (:mod:`blastdoor.analyze.shell`)
as it goes through the line.

A variable holds one of three things:

- a known value (``variables``): ``$X`` expands to its text;
- a value only known at run time (``stand_ins`` and ``run_time``: ``X=$(uname)``, ``read X``):
  ``$X`` expands to a run-time word, never to a program literally named ``$(uname)``;
- a line of a process listing (``stand_ins`` not in ``run_time``: ``for pid in $(pgrep nginx)``),
  so ``kill $pid`` is a kill of what the listing selects (:mod:`blastdoor.analyze.stand_ins`).

A child shell (subshell, ``$(...)``, ``bash -c``) starts from a :class:`Saved` copy and the state is
put back when it ends (:meth:`ShellState.save`, :meth:`ShellState.restore`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tree_sitter import Node

from blastdoor.analyze.directories import Directories
from blastdoor.analyze.invocation import Word
from blastdoor.analyze.stand_ins import listing_origin


@dataclass(frozen=True, slots=True)
class Saved:
    """A copy of the state taken when a child shell starts."""

    variables: dict[str, str]
    stand_ins: dict[str, str]
    run_time: set[str]
    functions: dict[str, Node]
    aliases: dict[str, list[str]]
    exported: set[str]
    allexport: bool
    dirs: Directories


class ShellState:
    """The shell's memory while one script is read (see the module's documentation)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.variables: dict[str, str] = dict(env)
        self.stand_ins: dict[str, str] = {}  # variables standing for a run-time value or listing
        # Of those, the ones that stand for nothing more than a run-time value (`X=$(uname)`):
        # `$X` is a run-time word, and a value made from it is no listing's line.
        self.run_time: set[str] = set()
        self.assigned: set[str] = set()  # variables this script sets itself (not the environment's)
        self.exported: set[str] = set()  # variables it exports (`export A=1`, `declare -x A`)
        self.allexport = False  # `set -a`: every variable assigned is exported
        self.functions: dict[str, Node] = {}  # name -> body
        self.aliases: dict[str, list[str]] = {}  # name -> the words it stands for
        self.dirs = Directories()  # where `cd` has moved the shell

    def value(self, name: str) -> Word:
        """What ``$name`` holds: known, a run-time value, or one only the environment knows."""
        if name in self.variables:
            return Word(self.variables[name])
        if name in self.stand_ins:
            return Word(self.stand_ins[name], True)
        return Word(f"${name}", True)

    @property
    def exports(self) -> Mapping[str, str]:
        """The exported variables and their values. One only known at run time (``read X; export
        X``) keeps its shell text (``$X``, ``$(cmd)``), so a consumer that reads it as a command
        sees it unknown."""
        return {name: self.value(name).text for name in self.exported}

    def assign(self, name: str, value: Word, node: Node) -> None:
        """``name=value`` (made by ``node``). A value only known at run time stays one; a value
        from a process listing stands for that listing's lines."""
        if not value.dynamic:
            self.variables[name] = value.text
            self.stand_ins.pop(name, None)
            return
        listings = {n: o for n, o in self.stand_ins.items() if n not in self.run_time}
        origin = listing_origin(value, node, listings)
        if origin:
            self.stand_in(name, origin)
        else:
            self.stand_in(name, value.text)
            self.run_time.add(name)

    def stand_in(self, name: str, origin: str) -> None:
        """``name`` stands for values only known at run time that come from ``origin``."""
        self.variables.pop(name, None)
        self.stand_ins[name] = origin
        self.run_time.discard(name)
        self.assigned.add(name)

    def save(self) -> Saved:
        """A copy to :meth:`restore` when a child shell ends. ``assigned`` is not part of it: it
        keeps every name the script sets, in a child shell or not."""
        return Saved(
            dict(self.variables), dict(self.stand_ins), set(self.run_time), dict(self.functions),
            dict(self.aliases), set(self.exported), self.allexport, self.dirs.copy(),
        )  # fmt: skip

    def restore(self, saved: Saved) -> None:
        """Back to ``saved``, whose copies become the state's own. (Nothing keeps a table of the
        state: the word resolver looks them up here at each word.)"""
        self.variables, self.stand_ins = saved.variables, saved.stand_ins
        self.run_time = saved.run_time
        self.functions, self.aliases, self.exported = saved.functions, saved.aliases, saved.exported
        self.allexport, self.dirs = saved.allexport, saved.dirs
