"""git settings: inline config (``-c``, ``GIT_CONFIG_*``), the programs it names, aliases, the
``git config`` subcommand, hooks, and ``git credential``. Part of the git family (``git.py``).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping

from blastdoor.analyze.commands.git_base import Git, parse
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.analyze.shebang import shebang_program
from blastdoor.analyze.words import split_words
from blastdoor.model import Effect, Scope, Target, Verb

_PROGRAM_KEYS = frozenset({
    "core.sshcommand", "core.fsmonitor", "core.pager", "core.editor", "core.askpass",
    "sequence.editor", "diff.external", "gpg.program",
})  # fmt: skip
_PROGRAM_VARS = (
    "GIT_SSH_COMMAND", "GIT_SSH", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR", "GIT_PAGER",
    "GIT_EXTERNAL_DIFF", "GIT_ASKPASS", "GIT_PROXY_COMMAND",
)  # fmt: skip
# The programs git starts to reach a remote, and the subcommands that reach one.
_TRANSPORT = frozenset({"core.sshcommand", "git_ssh_command", "git_ssh", "git_proxy_command"})
_REMOTE_SUBCOMMANDS = frozenset({"fetch", "pull", "push", "clone", "ls-remote", "submodule"})


def environment(inv: Invocation, ctx: Analysis) -> dict[str, str]:
    """The variables this git run gets from the line: exported earlier, or set before it."""
    return {**ctx.exports, **inv.assignments}


def inline_config(env: Mapping[str, str]) -> dict[str, str]:
    """Config given through the environment ``env`` (GIT_CONFIG_COUNT/KEY/VALUE,
    GIT_CONFIG_PARAMETERS)."""
    found: dict[str, str] = {}
    count = env.get("GIT_CONFIG_COUNT", "")
    for n in range(int(count) if count.isdigit() else 0):
        key = env.get(f"GIT_CONFIG_KEY_{n}")
        if key:
            found[key.lower()] = env.get(f"GIT_CONFIG_VALUE_{n}", "")
    try:
        pairs = shlex.split(env.get("GIT_CONFIG_PARAMETERS", ""))
    except ValueError:
        pairs = []
    for pair in pairs:
        key, _, value = pair.partition("=")
        found[key.lower()] = value
    return found


def alias(git: Git, sub: str, alias: str, rest: list[Word]) -> Iterator[Effect]:
    if alias.startswith("!"):
        script = alias[1:] + "".join(" " + shlex.quote(w.text) for w in rest)
        yield from git.ctx.run_script(git.inv, script, via=f"git alias {sub}")
        return
    expanded = [Word(part) for part in split_words(alias)]
    head = [Word("git")] + ([Word("-C"), Word(git.repo)] if git.repo != "." else [])
    yield from git.ctx.run_argv(git.inv, [*head, *expanded, *rest], via=f"git alias {sub}")


def configured_programs(git: Git, sub: str, rest: list[Word]) -> Iterator[Effect]:
    """Programs named in inline config or environment that this git run would start, analyzed as
    commands. The ssh and proxy programs run only when git talks to a remote."""
    commands = [(key, value) for key, value in git.config.items() if key in _PROGRAM_KEYS and value]
    env = environment(git.inv, git.ctx)
    commands += [(var, env[var]) for var in _PROGRAM_VARS if env.get(var)]
    remote = _talks_to_remote(git, sub, rest)
    for key, command in commands:
        if key.lower() in _TRANSPORT and not remote:
            continue
        yield from _helper(git, key, command)
    hooks = git.config.get("core.hookspath")
    if hooks is not None:
        yield hooks_path(git, hooks)


def _talks_to_remote(git: Git, sub: str, rest: list[Word]) -> bool:
    words = {w.text for w in rest}
    if sub in _REMOTE_SUBCOMMANDS or (sub and git.config.get(f"alias.{sub.lower()}") is not None):
        return True
    if sub == "remote":
        return bool(words & {"update", "prune", "show", "set-head"})
    return sub == "archive" and any(w.startswith("--remote") for w in words)


def _helper(git: Git, key: str, command: str) -> Iterator[Effect]:
    """A helper given as a path in the project (``./ssh-wrap``, ``tools/pager``) is a script there:
    read and judged by its text through its interpreter; any other command line is shell."""
    words = split_words(command)
    path = words[0] if words else ""
    if "/" not in path or path.startswith(("/", "~")):
        yield from git.ctx.run_script(git.inv, command, via=f"git {key}")
        return
    text = git.ctx.read_file(path) or ""
    interpreter = (shebang_program(text.split("\n", 1)[0]) if text.startswith("#!") else "") or "sh"
    argv = [Word(interpreter), *(Word(w) for w in words)]
    yield from git.ctx.run_argv(git.inv, argv, via=f"git {key}")


def hooks_path(git: Git, value: str | None) -> Effect:
    """Changing ``core.hooksPath``: pointing it nowhere turns every hook off (Blastdoor's too)."""
    if value is not None and (value.strip() in ("", "/dev/null") or value.startswith("/dev/null")):
        return effect(
            git.inv,
            Verb.DISABLE_GUARD,
            Target("git-hooks", git.repo),
            "turn off the repository's git hooks (core.hooksPath), Blastdoor's pre-push check too",
            scope=Scope.LOCAL,
            tags={"git", "bypasses-checks"},
        )
    where = f"those in {value}" if value is not None else "the default .git/hooks"
    return effect(
        git.inv,
        Verb.EXECUTE,
        Target("git-hooks", git.repo),
        f"replace the repository's git hooks with {where} (core.hooksPath); checks may not run",
        scope=Scope.LOCAL,
        tags={"git", "bypasses-checks"},
    )


_CONFIG_WRITES = (
    "--unset", "--unset-all", "--add", "--replace-all", "--rename-section", "--remove-section",
)  # fmt: skip
_CONFIG_READS = (
    "--get", "--get-all", "--get-regexp", "--get-urlmatch", "--list", "-l", "--get-color",
    "--show-origin",
)  # fmt: skip


def config(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(
        args,
        shorts="f",
        longs=(
            *_CONFIG_WRITES,
            *_CONFIG_READS,
            "--global",
            "--system",
            "--local",
            "--file",
            "--edit",
            "--type",
            "--default",
            "--bool",
            "--int",
        ),
        valued=("--file", "--blob", "--type", "--default", "--comment"),
    )
    words = [w.text for w in opts.operands]
    if words[:1] and words[0] in (
        "set",
        "unset",
        "get",
        "list",
        "edit",
        "rename-section",
        "remove-section",
    ):
        verb, words = words[0], words[1:]
    else:
        verb = "unset" if opts.has("--unset", "--unset-all") else "set"
    if (
        verb in ("get", "list")
        or opts.has(*_CONFIG_READS)
        or (
            verb == "set"
            and len(words) < 2
            and not opts.has("--add", "--replace-all", "-e", "--edit")
        )
    ):
        yield git.ok("read git settings", Verb.READ)
        return
    key = words[0].lower() if words else ""
    value = words[1] if len(words) > 1 and verb != "unset" else None
    if key == "core.hookspath":
        yield hooks_path(git, value)
    elif value is not None and (
        key
        in (
            "core.fsmonitor",
            "core.sshcommand",
            "diff.external",
            "core.askpass",
            "gpg.program",
        )
        or (key.startswith("alias.") and value.startswith("!"))
        or (key.startswith("filter.") and key.endswith((".clean", ".smudge", ".process")))
    ):
        yield effect(
            git.inv,
            Verb.PERSIST,
            Target("git-config", key),
            f"make git run `{value}` from now on ({key})",
            scope=Scope.LOCAL,
            tags={"git", "persistence"},
        )
    else:
        yield git.ok(f"change the git setting {key or '(editor)'}")


def credential(git: Git, args: list[Word]) -> Iterator[Effect]:
    if args and args[0].text == "fill":
        yield effect(
            git.inv,
            Verb.CREDENTIAL_USE,
            Target("secret", "git credentials"),
            "ask git's credential helper for a stored username and password",
            scope=Scope.LOCAL,
            tags={"git", "secret"},
        )
    else:
        yield git.ok("update git's credential helper")
