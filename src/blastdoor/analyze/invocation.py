"""What a command family sees: one simple command, its words resolved, and a way to recurse.

The shell walker (``shell.py``) turns every simple command it finds, however deeply nested, into an
:class:`Invocation` and hands it to the family registered for its program name. A family returns
:class:`~blastdoor.model.Effect` objects and may ask the :class:`Analysis` to analyze further
commands or scripts it carries (``sudo rm``, ``bash -c '...'``, ``ssh host 'cmd'``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from blastdoor.model import Blast, Effect, Reversibility, Scope, Target, Verb


@dataclass(frozen=True)
class Word:
    """One shell word: its value with quoting removed, and whether part of it is only known at run
    time (an unset variable, a command substitution)."""

    text: str
    dynamic: bool = False
    variables: frozenset[str] = frozenset()  # environment variables whose values it contains
    # Part of it only known at run time is outside double quotes, so bash may split it into
    # several words (`$(cat cmd.txt)/ls` can be `rm -rf /root ./ls`).
    splits: bool = field(default=False, compare=False, kw_only=True)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Redirect:
    """``>``, ``>>``, ``<``, ``&>`` ... and where it points."""

    op: str
    target: Word
    fd: str = ""

    @property
    def writes(self) -> bool:
        return ">" in self.op and not self.op.startswith("<")

    @property
    def appends(self) -> bool:
        return ">>" in self.op


@dataclass(frozen=True)
class Stdin:
    """What a command reads on standard input, when Blastdoor can tell.

    ``text`` is the exact content when it is static (a heredoc, a here-string, ``echo`` piped in,
    a file Blastdoor could read); ``source`` names where it comes from (``file dump.sql``, ``the
    output of curl``). ``secret`` says what secret the stream carries (``the secrets in .env``),
    so a program that sends its input over the network is exfiltrating it. ``made_by`` is the
    shell text whose output the stream is (``ps aux | grep nginx``: the stages before this one, or
    a process substitution), so a consumer can tell what its lines stand for.
    """

    text: str | None = None
    source: str = ""
    secret: str = ""
    made_by: str = ""

    @property
    def known(self) -> bool:
        return self.text is not None


NO_STDIN = Stdin()


_PROGRAM_FILE = re.compile(r"[\w.+-]+")


def names_a_program_file(word: Word) -> bool:
    """Whether a command word only known at run time ends in a literal file name under a folder
    (``"$(go env GOPATH)/bin/actionlint"``, ``$HOME/bin/rm``): when the folder stays one word, that
    program runs, wherever the folder is."""
    folder, slash, name = word.text.rpartition("/")
    return bool(slash and folder and _PROGRAM_FILE.fullmatch(name))


def names_its_program(word: Word) -> bool:
    """Whether a command word only known at run time surely names its program: a file name under a
    folder known at run time and kept in double quotes (``"$HOME"/bin/rm``). Unquoted, the folder
    may split into a program and its arguments (``$(cat cmd.txt)/ls`` can run ``rm -rf /root
    ./ls``)."""
    return names_a_program_file(word) and not word.splits


@dataclass(frozen=True)
class Invocation:
    """One simple command after wrappers, aliases and functions were seen through."""

    words: tuple[Word, ...]
    text: str  # the command as written, for evidence
    redirects: tuple[Redirect, ...] = ()
    assignments: Mapping[str, str] = field(default_factory=dict)
    stdin: Stdin = NO_STDIN
    via: tuple[str, ...] = ()  # what it was nested in: ("bash -c", "ssh prod") ...
    # The program name as looked up: the last part of a POSIX or Windows path
    # ("C:\\Program Files\\Git\\bin\\git.exe"), lower case (macOS and Windows file systems are
    # case-insensitive, so GIT runs git), without Windows' .exe suffix.
    name: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = self.words[0].text if self.words else ""
        if "\\" in text:
            text = text.replace("\\", "/")
        base = text.rpartition("/")[2].lower()
        object.__setattr__(self, "name", base.removesuffix(".exe") or base)

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(word.text for word in self.words)

    @property
    def args(self) -> tuple[Word, ...]:
        return self.words[1:]

    @property
    def evidence(self) -> str:
        if not self.via:
            return self.text
        prefix = "".join(f"{step} → " for step in self.via)
        return prefix + self.text


_TERMINALS = frozenset({"/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/fd/1", "/dev/fd/2"})


def prints_to_terminal(inv: Invocation) -> bool:
    """Whether ``inv``'s standard output reaches the agent, not a file it was redirected to."""
    for r in inv.redirects:
        to_file = r.target.text not in _TERMINALS and not (r.op == ">&" and r.target.text.isdigit())
        if to_file and ((r.writes and r.fd in ("", "1")) or r.op in ("&>", "&>>")):
            return False
    return True


class Where(Protocol):
    """Where paths are resolved from: the working directory and the environment."""

    @property
    def cwd(self) -> str | None: ...

    @property
    def env(self) -> Mapping[str, str]: ...

    @property
    def here(self) -> str | None:
        """The directory the shell has moved to (``cd``), when it is not ``cwd``."""
        ...


class Analysis(Where, Protocol):
    """The services a command family may call back into while it analyzes one invocation."""

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
        """Analyze ``words`` as a command run by ``inv`` (``sudo``, ``xargs``, ``find -exec``).
        ``stand_ins`` are variables that stand for values only known at run time while it runs
        (name → the run-time word's text: xargs' input inside ``sh -c '... {} ...'``);
        ``assignments`` are variables set for that command alone (``env A=1 cmd``), as a
        ``VAR=x`` prefix sets them."""
        ...

    def run_script(
        self, inv: Invocation, script: str, *, via: str, same_shell: bool = False
    ) -> list[Effect]:
        """Analyze ``script`` as shell code run by ``inv`` (``bash -c``, ``ssh host '...'``): in a
        shell of its own, whose ``cd`` and variables end with it, unless ``same_shell`` (``eval``,
        ``source``: they run in the current shell and what they set stays)."""
        ...

    @property
    def exports(self) -> Mapping[str, str]:
        """The variables the script exported before this command (``export A=1``): the programs it
        starts find them in their environment, as they find ``VAR=x`` prefixes."""
        ...

    def read_file(self, path: str) -> str | None:
        """The text of a file in the working directory, or None when it is not there."""
        ...

    def read_head(self, path: str, size: int) -> str | None:
        """The first ``size`` bytes of a file in the working directory, even one too large for
        :meth:`read_file` (a Terraform state's identity is at its top), or None."""
        ...


Family = Callable[[Invocation, Analysis], Iterable[Effect]]


_NO_BLAST = Blast()


def effect(
    inv: Invocation,
    verb: Verb,
    target: Target,
    detail: str,
    *,
    scope: Scope = Scope.UNKNOWN,
    reversibility: Reversibility = Reversibility.REVERSIBLE,
    tags: Iterable[str] = (),
    blast: Blast | None = None,
) -> Effect:
    """An effect whose evidence is ``inv``'s text: the helper every family uses."""
    return Effect(
        verb=verb,
        target=target,
        detail=detail,
        evidence=inv.evidence,
        scope=scope,
        reversibility=reversibility,
        tags=frozenset(tags),
        blast=blast or _NO_BLAST,
    )


def unknown(inv: Invocation, detail: str, *, tags: Iterable[str] = ()) -> Effect:
    """An ``execute-unknown`` effect: Blastdoor cannot tell what ``inv`` would do."""
    return effect(
        inv,
        Verb.EXECUTE_UNKNOWN,
        Target("program", inv.name),
        detail,
        reversibility=Reversibility.IRREVERSIBLE,
        tags=tags,
    )
