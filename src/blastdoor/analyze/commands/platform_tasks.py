"""Platform subcommands a table cannot judge: running commands on a platform (``heroku run``,
``railway run``), SQL sent through ``heroku pg:psql``, scaling to zero, deleting Railway volumes and
environments, preview versus production deploys (vercel, netlify), ``supabase db reset``, GitHub's
CLI (in :mod:`~blastdoor.analyze.commands.github_cli`), and package publishing (twine, cargo, gem).

Each handler gets the parsed line (operands, option values, bare flags, scope-hint tags) and
returns its effects, or ``None`` to leave the line to the table in
:mod:`~blastdoor.analyze.commands.platforms`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from blastdoor.analyze.commands.db_base import sql_effects, stdin_effects
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

__all__ = ["HANDLERS", "Handler", "Line"]


@dataclass(frozen=True)
class Line:
    """A platform command line as the table reads it: operands, option values, bare flags, and the
    scope-hint tags they give."""

    ops: list[str]
    values: dict[str, str]
    flags: set[str]
    tags: set[str]


Handler = Callable[[Invocation, Analysis, Line], list[Effect] | None]
_GONE, _REV = Reversibility.IRREVERSIBLE, Reversibility.REVERSIBLE
# publishing subcommand -> (verb, reversibility, what it does)
_PUBLISH: dict[str, tuple[Verb, Reversibility, str]] = {
    "unpublish": (Verb.DELETE, _GONE, "remove a published package version"),
    "deprecate": (Verb.MODIFY, _REV, "mark a published package deprecated"),
    "publish": (Verb.CREATE, _GONE, "publish a package version (versions cannot be reused)"),
    "upload": (Verb.CREATE, _GONE, "upload a package to an index (versions cannot be reused)"),
    "push": (Verb.CREATE, _GONE, "push a gem version (versions cannot be reused)"),
    "yank": (Verb.DELETE, _GONE, "yank a published version"),
    "owner": (Verb.MODIFY, _REV, "change who may publish the package"),
    "dist-tag": (Verb.MODIFY, _REV, "move a published tag"),
    "access": (Verb.MODIFY, _REV, "change package access"),
}


def _run_on(
    inv: Invocation, ctx: Analysis, words: Sequence[str], via: str, tags: set[str]
) -> list[Effect]:
    """A command run on (or with the secrets of) a platform environment, tagged with where."""
    inner = ctx.run_argv(inv, [Word(w) for w in words], via=via)
    return [replace(e, tags=e.tags | tags) for e in inner]


def _heroku(inv: Invocation, ctx: Analysis, line: Line) -> list[Effect] | None:
    app = line.values.get("--app") or line.values.get("-a") or ""
    if line.ops[:1] == ["run"] and len(line.ops) > 1:
        start = [w.text for w in inv.args].index("run") + 1
        rest = [w.text for w in inv.args][start:]
        rest = [
            w
            for i, w in enumerate(rest)
            if w not in ("-a", "--app") and (i == 0 or rest[i - 1] not in ("-a", "--app"))
        ]
        return _run_on(inv, ctx, rest, f"heroku run ({app or 'app'})", line.tags | {"remote"})
    if line.ops[:1] in (["pg:psql"], ["psql"]):
        sql = line.values.get("--command") or line.values.get("-c")
        target = f"heroku:{app}" if app else "heroku"
        return sql_effects(inv, ctx, sql, target) if sql else stdin_effects(inv, ctx, target)
    if line.ops[:1] == ["ps:scale"] and any(re.search(r"=0\b", w) for w in line.ops[1:]):
        return [
            effect(
                inv,
                Verb.MODIFY,
                Target("heroku", app or "(current)"),
                "scale dynos to zero: the app stops",
                tags=line.tags | {"stops-service"},
            )
        ]
    return None


def _railway(inv: Invocation, ctx: Analysis, line: Line) -> list[Effect] | None:
    if line.ops[:1] == ["run"] and len(line.ops) > 1:
        words = [w.text for w in inv.args]
        return _run_on(inv, ctx, words[words.index("run") + 1 :], "railway run", line.tags)
    if (
        line.ops[:1] in (["volume"], ["environment"], ["service"])
        and len(line.ops) > 1
        and line.ops[1] in ("delete", "rm")
    ):
        name = next(iter(line.ops[2:]), line.values.get("--volume", line.values.get("--environment", "(current)")))
        return [
            effect(
                inv,
                Verb.DESTROY,
                Target("railway", name),
                f"railway {line.ops[0]} delete: delete the {line.ops[0]} and everything in it",
                reversibility=_GONE,
                tags=line.tags | {f"app={name}"},
            )
        ]
    return None


def _deploy(inv: Invocation, ctx: Analysis, line: Line) -> list[Effect] | None:
    """``vercel`` / ``netlify deploy``: a preview or draft deploy unless ``--prod``."""
    if not (line.ops[:1] == ["deploy"] or (inv.name in ("vercel", "vc") and not line.ops)):
        return None
    target = Target(inv.name, line.values.get("--site", line.values.get("--scope", "(current)")))
    if line.flags & {"--prod", "--production"} or line.values.get("--target") == "production":
        return [
            effect(inv, Verb.MODIFY, target, "deploy to production", tags=line.tags | {"env=production"})
        ]
    return [
        effect(
            inv,
            Verb.CREATE,
            target,
            "create a preview deployment (production is not touched)",
            scope=Scope.STAGING,
            tags=line.tags,
        )
    ]


def _supabase(inv: Invocation, ctx: Analysis, line: Line) -> list[Effect] | None:
    if line.ops[:2] != ["db", "reset"]:
        return None
    remote = "--linked" in line.flags or "--db-url" in line.values
    target = Target(
        "database",
        line.values.get("--db-url", "supabase linked project" if remote else "local supabase"),
    )
    return [
        effect(
            inv,
            Verb.DESTROY,
            target,
            "drop and recreate the database from migrations",
            scope=Scope.UNKNOWN if remote else Scope.LOCAL,
            reversibility=_GONE,
            tags=line.tags,
        )
    ]


def _publish(inv: Invocation, ctx: Analysis, line: Line) -> list[Effect] | None:
    """twine/cargo/gem: only the commands that change a package index (npm's are
    :mod:`~blastdoor.analyze.commands.package_registry`'s)."""
    words = line.ops
    task = _PUBLISH.get(words[0] if words else "")
    if task is None or (inv.name in ("cargo",) and words[0] not in ("publish", "yank", "owner")):
        return [ordinary_program(inv, f"run {inv.name} {' '.join(line.ops[:1])}")]
    if len(words) < 2 and words[0] == "deprecate":
        return []
    if line.flags & {"--dry-run", "-n", "--list", "-l"} or ("--undo" in line.flags and words[0] == "yank"):
        return [
            effect(
                inv,
                Verb.READ,
                Target("package", " ".join(words[1:2])),
                f"{inv.name} {words[0]} (dry run)",
            )
        ]
    name = next((w for w in words[1:] if not w.startswith("-")), "(this package)")
    verb, rev, detail = task
    return [
        effect(
            inv,
            verb,
            Target("package", name),
            f"{inv.name} {words[0]}: {detail}",
            reversibility=rev,
            tags=line.tags | {"package-registry"},
        )
    ]


HANDLERS: dict[str, Handler] = {
    "heroku": _heroku,
    "railway": _railway,
    "vercel": _deploy,
    "netlify": _deploy,
    "supabase": _supabase,
    "twine": _publish,
    "cargo": _publish,
    "gem": _publish,
}
