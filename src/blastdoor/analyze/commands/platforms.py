"""Hosting platforms and package registries: railway, fly/flyctl, heroku, vercel, netlify, render,
supabase, firebase, gh, and package publishing (twine, cargo, gem; npm's are
:mod:`~blastdoor.analyze.commands.package_registry`'s).

A subcommand (``apps:destroy``, ``volumes destroy``, ``repo delete``) is looked up in a table of
known tasks, then judged by its last word: destroy/delete/remove/unset/reset delete irreversibly,
stop/scale/rename/disable change, list/status/logs/info read. ``--app``/``--project``/``--prod``/
``--context``/``--environment`` become hint tags for :mod:`blastdoor.scope`. Commands run on a
platform (``heroku run``, ``railway run``, ``fly ssh console -C``) are analyzed in turn and tagged.
What a table cannot judge has a handler in :mod:`~blastdoor.analyze.commands.platform_tasks`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.getopt import Syntax, split_options
from blastdoor.analyze.commands.github_cli import gh
from blastdoor.analyze.commands.platform_tasks import HANDLERS, Line
from blastdoor.analyze.commands.remote import resource_families
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Reversibility, Target, Verb

_GONE, _REV = Reversibility.IRREVERSIBLE, Reversibility.REVERSIBLE
_DELETE_WORDS = frozenset({"destroy", "delete", "remove", "rm", "unset", "drop", "purge", "wipe",
    "reset", "yank", "unpublish", "prune", "clear", "down", "killall", "deletesite"})  # fmt: skip
_READ_WORDS = frozenset({"list", "ls", "info", "status", "logs", "log", "show", "get", "whoami",
    "open", "view", "inspect", "describe", "version", "help", "diff", "check", "search",
    "releases", "apps", "domains", "history", "ps", "regions", "docs", "doctor", "ping",
    "dashboard", "watch", "checks", "browse", "checkout", "login", "logout", "link", "unlink",
    "init", "completion", "auth", "pull", "download", "dev", "serve", "start", "emulators",
    "emulators:start", "local", "config:get", "env:get", "build"})  # fmt: skip
_CREATE_WORDS = frozenset({"create", "add", "new", "set", "fork", "import", "comment"})
_MODIFY_WORDS = frozenset({"kill", "stop", "restart", "scale", "rename", "leave", "detach",
    "disable", "enable", "on", "off", "rotate", "update", "edit", "archive", "unarchive", "clone",
    "promote", "rollback", "transfer", "restore", "deploy", "up", "redeploy", "move", "suspend",
    "resume", "release", "attach", "merge", "close", "run", "cancel", "rerun", "sync", "push",
    "upgrade", "downgrade", "migrate", "renew", "publish", "revoke"})  # fmt: skip

# Known tasks per platform: subcommand -> (verb, reversibility, what it does).
_TASKS: dict[str, dict[str, tuple[Verb, Reversibility, str]]] = {
    "heroku": {
        "apps:destroy": (Verb.DESTROY, _GONE, "delete the app, its dynos and add-ons"),
        "pg:reset": (Verb.DESTROY, _GONE, "wipe the Postgres database"),
        "pg:backups:restore": (Verb.DESTROY, _GONE, "overwrite the database from a backup"),
        "repo:reset": (Verb.DESTROY, _GONE, "empty the app's git repository"),
        "pg:killall": (Verb.MODIFY, _GONE, "end every database connection"),
        "config:unset": (Verb.DELETE, _GONE, "remove config variables (their values are lost)"),
        "clients:rotate": (Verb.MODIFY, _GONE, "rotate an OAuth client secret"),
        "pg:promote": (Verb.MODIFY, _GONE, "promote a database to primary"),
        "config": (Verb.CREDENTIAL_USE, _REV, "print the app's config variables, secrets included"),
        "config:get": (Verb.CREDENTIAL_USE, _REV, "print a config variable's value"),
        "maintenance:on": (Verb.MODIFY, _REV, "put the app in maintenance mode"),
    },
    "fly": {
        "apps destroy": (Verb.DESTROY, _GONE, "delete the app and its machines"),
        "volumes destroy": (Verb.DESTROY, _GONE, "delete a volume and its data"),
        "postgres destroy": (Verb.DESTROY, _GONE, "delete a Postgres cluster"),
        "secrets unset": (Verb.DELETE, _GONE, "remove secrets (their values are lost)"),
        "deploy": (Verb.MODIFY, _REV, "deploy a new release of the app"),
        "secrets list": (Verb.READ, _REV, "list secret names"),
    },
    "railway": {
        "down": (Verb.DELETE, _GONE, "remove the latest deployment"),
        "delete": (Verb.DESTROY, _GONE, "delete the project"),
        "up": (Verb.MODIFY, _REV, "deploy the project"),
        "variables": (
            Verb.CREDENTIAL_USE,
            _REV,
            "print the environment's variables, secrets included",
        ),
    },
    "vercel": {
        "env pull": (Verb.READ, _REV, "download environment variables into a local file"),
        "project rm": (Verb.DESTROY, _GONE, "delete the project"),
        "project remove": (Verb.DESTROY, _GONE, "delete the project"),
    },
    "firebase": {
        "projects:delete": (Verb.DESTROY, _GONE, "delete the Firebase project"),
        "hosting:disable": (Verb.DELETE, _GONE, "take the hosted site offline"),
        "firestore:delete": (Verb.DELETE, _GONE, "delete Firestore documents"),
        "database:remove": (Verb.DELETE, _GONE, "delete Realtime Database data"),
        "deploy": (Verb.MODIFY, _REV, "deploy to the project"),
    },
    "supabase": {
        "db push": (Verb.MODIFY, _REV, "apply local migrations to the linked project"),
        "start": (Verb.EXECUTE, _REV, "start the local development stack"),
        "stop": (Verb.EXECUTE, _REV, "stop the local development stack"),
        "projects delete": (Verb.DESTROY, _GONE, "delete the project and its database"),
    },
    "gh": {
        "repo delete": (Verb.DESTROY, _GONE, "delete the repository, its issues and releases"),
        "repo archive": (Verb.MODIFY, _REV, "archive the repository (read-only)"),
        "repo rename": (Verb.MODIFY, _REV, "rename the repository"),
        "repo create": (Verb.CREATE, _REV, "create a repository"),
        "release delete": (Verb.DELETE, _GONE, "delete a release"),
        "pr merge": (Verb.MODIFY, _REV, "merge a pull request into its base branch"),
        "workflow run": (Verb.MODIFY, _REV, "start a workflow run"),
        "auth token": (Verb.CREDENTIAL_USE, _REV, "print the GitHub token"),
        "repo clone": (Verb.READ, _REV, "clone the repository here"),
        "config": (Verb.EXECUTE, _REV, "change gh's own local settings"),
        "alias": (Verb.EXECUTE, _REV, "change gh's own command aliases"),
        "completion": (Verb.EXECUTE, _REV, "print shell completion code"),
        "extension": (Verb.EXECUTE, _REV, "manage gh extensions on this machine"),
        "ext": (Verb.EXECUTE, _REV, "manage gh extensions on this machine"),
    },
}
_HANDLERS = {**HANDLERS, "gh": gh}  # what the table cannot judge
_ALIASES = {"flyctl": "fly", "ntl": "netlify", "vc": "vercel"}
_HINT_OPTIONS = {
    "--app": "app",
    "-a": "app",
    "--project": "project",
    "-P": "project",
    "--project-ref": "project",
    "--site": "site",
    "--context": "env",
    "--environment": "env",
    "-e": "env",
    "--env": "env",
    "--scope": "account",
    "--org": "account",
    "-o": "account",
    "--service": "service",
    "-s": "service",
    "--repo": "project",
    "-R": "project",
    "--target": "env",
    "--repository": "env",
    "-r": "env",
    "--registry": "env",
}
_VALUE_OPTIONS = frozenset(
    {
        *_HINT_OPTIONS,
        "--token",
        "-t",
        "--config",
        "-c",
        "--region",
        "--team",
        "--name",
        "--message",
        "-m",
        "--json",
        "--jq",
        "-q",
        "--template",
        "--visibility",
        "--body",
        "-b",
        "--title",
        "--limit",
        "-L",
        "--method",
        "-X",
        "-f",
        "-F",
        "--field",
        "--raw-field",
        "-H",
        "--header",
        "--input",
        "--otp",
        "--tag",
        "--branch",
        "--dockerfile",
        "--image",
        "-i",
        "--vm-size",
        "--size",
        "--volume",
        "--command",
        "-C",
    }
)


# Whether each tool's parser gives a valued option the next word when that word looks like an
# option (``--app --help``; see getopt.Syntax): Go's pflag (gh, fly, render, supabase), commander
# (netlify, firebase: a required ``<value>`` shifts the next word, only an optional ``[value]``
# skips an option-like one) and Ruby's OptionParser (gem: a required argument shifts the next
# word; only a placed ``[VALUE]`` refuses one starting with ``-``) take it, as their sources show.
# oclif (heroku) refuses a next word that is one of the command's own flags ("expects a value")
# and takes any other; reading every option-like word as refused is the cautious side of that.
# arg (vercel: "option requires argument" unless the word is a negative number), clap (railway,
# cargo: unless the argument allows hyphen values) and argparse (twine: "expected one argument")
# refuse it.
_TAKES_DASHED = frozenset({"gh", "fly", "render", "supabase", "netlify", "firebase", "gem"})


def _split(tool: str, args: Sequence[Word]) -> tuple[list[str], dict[str, str], set[str]]:
    """Operands, option values and bare flags."""
    syntax = Syntax(dash_values=tool in _TAKES_DASHED)
    options, operands = split_options(args, _VALUE_OPTIONS, syntax)
    values = {option.name: option.value.text for option in options if option.value is not None}
    flags = {option.name for option in options if option.value is None}
    return [w.text for w in operands], values, flags


def _hints(values: dict[str, str], flags: set[str]) -> set[str]:
    tags = {f"{_HINT_OPTIONS[k]}={v}" for k, v in values.items() if k in _HINT_OPTIONS and v}
    if flags & {"--prod", "--production"}:
        tags.add("env=production")
    if any("test" in t for t in tags if t.startswith("env=")):
        tags.add("env=test")
    return tags


def _kind(word: str) -> tuple[Verb, Reversibility] | None:
    word = word.lower()
    if word in _DELETE_WORDS:
        return Verb.DELETE, _GONE
    if word in _READ_WORDS:
        return Verb.READ, _REV
    if word in _CREATE_WORDS:
        return Verb.CREATE, _REV
    if word in _MODIFY_WORDS:
        return Verb.MODIFY, _REV
    return None


def _judge(tool: str, operands: list[str]) -> tuple[str, tuple[Verb, Reversibility, str]] | None:
    """The task the subcommand names: the table first, then its verb word (the last one known)."""
    table = _TASKS.get(tool, {})
    for size in (3, 2, 1):
        key = " ".join(operands[:size])
        if len(operands) >= size and key in table:
            return key, table[key]
    if not operands:
        return None
    found = None
    for index, part in enumerate(operands[:2]):
        for word in re.split(r"[^a-z0-9]+", part.lower()):
            kind = _kind(word)
            if kind is not None:
                found = (index, word, kind)
    if found is None:
        key = " ".join(operands[:2])
        return key, (
            Verb.EXECUTE,
            _REV,
            f"{key}: a subcommand with no known effect on the platform",
        )
    index, word, (verb, rev) = found
    key = " ".join(operands[: index + 1])
    if verb is Verb.DELETE and word == "unset" and len(operands) == index + 1:
        return key, (Verb.READ, _REV, f"{key} with no names does nothing")
    action = {Verb.DELETE: "delete", Verb.READ: "read", Verb.CREATE: "create"}.get(verb, "change")
    return key, (verb, rev, f"{key}: {action}")


def _platform(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    tool = _ALIASES.get(inv.name, inv.name)
    operands, values, flags = _split(tool, inv.args)
    if (
        flags & {"--help", "-h", "--version"}
        or ("-v" in flags and not operands)
        or operands[:1] == ["help"]
    ):
        return
    tags = _hints(values, flags) | {tool}
    special = _HANDLERS.get(tool)
    if special is not None:
        found = special(inv, ctx, Line(operands, values, flags, tags))
        if found is not None:
            yield from found
            return
    judged = _judge(tool, operands)
    if judged is None:
        return
    key, (verb, rev, detail) = judged
    name = values.get("--app") or values.get("-a") or next(iter(operands[len(key.split()) :]), "")
    name = name or values.get("--project", values.get("--site", values.get("-R", "")))
    full = detail if detail.startswith(key) else f"{key}: {detail}"
    yield effect(
        inv,
        verb,
        Target(tool, name or "(current)"),
        f"{inv.name} {full}",
        reversibility=rev,
        tags=tags | ({f"app={name}"} if name and verb is not Verb.READ else set()),
    )


FAMILIES = resource_families(
    CommandFamily.of(
        [
            "railway",
            "fly",
            "flyctl",
            "heroku",
            "vercel",
            "vc",
            "netlify",
            "ntl",
            "render",
            "supabase",
            "firebase",
            "gh",
            "twine",
            "cargo",
            "gem",
        ],
        _platform,
    ),
)
