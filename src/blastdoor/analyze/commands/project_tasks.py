"""What a project's own task runs when the file that defines it could not be looked at.

``npm run build``, ``make test``, ``just lint`` and ``bash scripts/check.sh`` are judged by the
text of package.json, the Makefile, the justfile or the script. Two cases leave that text unread,
and they are not the same:

- **The working directory is known and the file is not there.** Something is off (the agent is in
  the wrong folder, or means to write the file later): ``execute-unknown``, whatever the name says.
- **The action carries no working directory at all** (a command judged on its own, as in a batch
  check or a log replay). A relative path was never looked up, so its absence says nothing. The
  command runs the project's own code on this machine; what is left to judge it by is the task's
  name. A name that by wide convention is a local development task (build, test, lint, format,
  type-check, dev server, running the project, docs, benchmarks, code generation, or the bundler
  or test runner that does one of those: ``node esbuild.js``, ``bun vitest run``) runs as an
  ordinary local program.
  Any other name, and any name that mentions a deployment, a database, a release, a clean-up or
  production, stays ``execute-unknown``.

An absolute path is looked up even without a working directory, so a missing one stays unknown.
"""

from __future__ import annotations

import re

from blastdoor.analyze.commands.library_calls import names
from blastdoor.analyze.invocation import Invocation, Where, effect, unknown
from blastdoor.model import Effect, Scope, Target, Verb

__all__ = ["missing", "routine_name", "unread"]

# The first word of a task name that, by convention, names local development work.
_ROUTINE = names(
    """
    all default build compile bundle test tests spec unit e2e smoke check checks lint eslint
    stylelint prettier format fmt typecheck types tsc vet verify validate dev develop start serve
    run watch preview docs doc storybook coverage cov bench benchmark benchmarks generate gen
    codegen spellcheck help esbuild webpack rollup vite tsup parcel vitest jest mocha ava karma
    playwright cypress
    """
)
# Words that make any task name worth a person's look, wherever they appear in it.
_RISKY = names(
    """
    deploy deployment publish release push upload migrate migration migrations seed reset drop
    db database destroy delete remove rm clean cleanup purge wipe nuke sync apply rollback restore
    prod production prd live install uninstall infra terraform tf kube k8s helm secret secrets
    """
)
_TEST_FILE = frozenset({"test", "tests", "spec"})


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def routine_name(name: str, *, file: bool = False) -> bool:
    """Whether ``name`` (a script, target or recipe; with ``file``, a script's path) names a local
    development task by convention. A file's extension is ignored, its folders must not be risky,
    and a test file (``x.test.ts``, ``test_x.py``) counts as a test."""
    if file:
        folder, _, base = name.rpartition("/")
        stem = re.sub(r"\.(sh|bash|zsh|py|[cm]?[jt]sx?|rb|pl|php|ps1)$", "", base, flags=re.I)
        words, around = _words(stem), _words(folder)
    else:
        words, around = _words(name), []
    if not words or any(w in _RISKY for w in words + around):
        return False
    return words[0] in _ROUTINE or (file and bool(_TEST_FILE & set(words)))


def unread(where: Where, path: str) -> bool:
    """Whether ``path`` was never looked up: a relative path with no working directory to resolve
    it against."""
    return where.cwd is None and not path.startswith(("/", "~"))


def missing(
    inv: Invocation,
    where: Where,
    path: str,
    task: str,
    detail: str,
    *,
    file: bool = False,
) -> Effect:
    """The effect of running ``task`` defined in ``path``, a file that could not be read:
    ``detail`` explains the ``execute-unknown``; a routine task with no working directory runs."""
    if unread(where, path) and routine_name(task, file=file):
        return effect(
            inv,
            Verb.EXECUTE,
            Target("project-task", task),
            f"run the project's {task!r} task, a local development task by its name "
            f"({path} was not read: the command came without a working directory)",
            scope=Scope.LOCAL,
            tags={"unread-file"},
        )
    return unknown(inv, detail, tags={"missing-file"})
