"""Shared pieces of the git family: git's option parsing and the effects one git run produces."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from blastdoor.analyze.commands.getopt import END, Syntax, read_options
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

DISCARDS = "discards-uncommitted"
REWRITES = "history-rewrite"
STASH = "deletes-stash"
IRREVERSIBLE = Reversibility.IRREVERSIBLE


@dataclass
class Opts:
    """A subcommand's arguments: options in order (long ones spelled out), values, operands."""

    flags: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    operands: list[Word] = field(default_factory=list)
    paths: list[Word] = field(default_factory=list)  # after "--"
    dashdash: bool = False

    def has(self, *names: str) -> bool:
        return any(name in self.flags for name in names)

    def last(self, *names: str) -> str | None:
        """Which of ``names`` was given last (for --x / --no-x pairs)."""
        found = [flag for flag in self.flags if flag in names]
        return found[-1] if found else None


def _long(name: str, known: Iterable[str]) -> str:
    """git accepts any unambiguous prefix of a long option (``--har`` is ``--hard``)."""
    options = tuple(known)
    if name in options or len(name) < 4:
        return name
    matches = [option for option in options if option.startswith(name)]
    return matches[0] if len(matches) == 1 else name


_GIT = Syntax(dash_values=True, bundles=True, end_word="--end-of-options")
"""git's parse-options: letters bundle (``-fd``), a valued option takes the next word whatever it
is, a long option's optional value comes only after ``=``, and ``--end-of-options`` ends the
options while the words after it stay revisions (after ``--`` they are paths)."""


def parse(
    args: Iterable[Word],
    *,
    shorts: str = "",
    longs: Iterable[str] = (),
    valued: Iterable[str] = (),
    attached: str = "",
) -> Opts:
    """Split ``args`` the way git's parse-options does. ``shorts`` are the one-letter options that
    take a value, ``attached`` those whose optional value can only be attached (``-uno``);
    ``valued`` the long ones that take the next word as their value."""
    known = tuple(longs)
    letters = {"-" + letter for letter in shorts}
    optional = {"-" + letter for letter in attached}
    opts = Opts()
    for item in read_options(
        list(args),
        {*valued, *letters},
        _GIT,
        optional=optional,
        resolve=lambda name: _long(name, known),
    ):
        if item is END:
            opts.dashdash = True
        elif isinstance(item, Word):
            (opts.paths if opts.dashdash else opts.operands).append(item)
        else:
            opts.flags.append(item.name)
            if item.value is not None or item.name in letters or item.name in optional:
                opts.values[item.name] = item.text
    return opts


@dataclass(frozen=True)
class Git:
    """One git run: the invocation, the repository it works in (``-C``), inline config (``-c``)."""

    inv: Invocation
    ctx: Analysis
    repo: str
    config: Mapping[str, str]
    sub: str = ""

    def local(
        self,
        tag: str,
        detail: str,
        *,
        kind: str = "git-worktree",
        name: str = "",
        verb: Verb = Verb.DELETE,
        extra: Iterable[str] = (),
    ) -> Effect:
        """A loss inside this repository (a local working tree, stash, branch or history), decided
        by the git pack's rule for uncommitted work and history rewrites."""
        return effect(
            self.inv,
            verb,
            Target(kind, name or self.repo),
            detail,
            scope=Scope.LOCAL,
            reversibility=IRREVERSIBLE,
            tags={tag, "git", *extra},
        )

    def ok(self, detail: str, verb: Verb = Verb.EXECUTE) -> Effect:
        return effect(
            self.inv, verb, Target("git-repo", self.repo), detail, scope=Scope.LOCAL, tags={"git"}
        )

    def path(self, word: Word) -> Word:
        if self.repo == "." or word.text.startswith("/"):
            return word
        return Word(f"{self.repo.rstrip('/')}/{word.text}", word.dynamic)


Handler = Callable[[Git, list[Word]], Iterator[Effect]]


def bypass(git: Git, what: str) -> Effect:
    """Running git without its hooks (``--no-verify``)."""
    return effect(
        git.inv,
        Verb.EXECUTE,
        Target("git-hooks", git.repo),
        f"{what} without running the repository's hooks (--no-verify)",
        scope=Scope.LOCAL,
        tags={"bypasses-checks", "git"},
    )
