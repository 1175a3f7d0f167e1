"""``blastdoor install AGENT``, ``uninstall AGENT`` and ``doctor``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from blastdoor.cli.common import settings
from blastdoor.hardened.layout import RUNNERS
from blastdoor.integrations.agents import AGENTS

EXIT_DOCTOR_FAILED = 1


def register(commands: Any) -> None:
    for name, helptext in (("install", "install Blastdoor's hook into an agent's settings"),
                           ("uninstall", "remove Blastdoor's hook from an agent's settings")):  # fmt: skip
        parser = commands.add_parser(name, help=helptext)
        parser.add_argument(
            "agent",
            nargs="?" if name == "install" else None,
            choices=(*AGENTS, "git"),
            help="an agent, or git (this repository's pre-push and pre-commit hooks)",
        )
        if name == "install":
            parser.add_argument("--system", action="store_true",
                                help="set up hardened mode (as root): the blastdoor OS user owns the home, a daemon serves every user")  # fmt: skip
            parser.add_argument("--root", default="/", help="--system: install below this folder instead of /")
            parser.add_argument("--system-user", default="blastdoor", help="--system: the OS user (default blastdoor)")
            parser.add_argument("--no-start", action="store_true", help="--system: do not start the daemon")
            parser.add_argument("--python", default="", help="--system: the interpreter the daemon runs under (default this one)")
            parser.add_argument("--runners", type=int, default=RUNNERS, metavar="N",
                                help="--system: brokered programs that may run side by side, each under a runner user "
                                f"of its own (default {RUNNERS})")  # fmt: skip
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            "--project",
            action="store_true",
            help="this repository's settings (shared with the team)",
        )
        where.add_argument("--user", action="store_true", help="your user settings (the default)")
        where.add_argument(
            "--managed", action="store_true", help="the machine's managed settings (needs root)"
        )
        parser.set_defaults(handler=_install if name == "install" else _uninstall)
    git_hook = commands.add_parser(
        "git-hook", help="what installed git hooks run (pre-push, pre-commit)"
    )
    git_hook.add_argument("hook", choices=["pre-push", "pre-commit"])
    git_hook.add_argument("rest", nargs="*", help="git's arguments (pre-push: remote name and URL)")
    git_hook.set_defaults(handler=_git_hook)
    doctor = commands.add_parser(
        "doctor", help="show where hooks are installed and prove each one blocks"
    )
    doctor.set_defaults(handler=_doctor)


def _place(args: argparse.Namespace) -> Any:
    from blastdoor.hardened.layout import read
    from blastdoor.integrations.manage import Place

    system = read()
    if system is not None:
        return Place(project=Path(os.getcwd()), home=Path.home(), blastdoor_home=system.home, socket=str(system.socket))
    return Place(project=Path(os.getcwd()), home=Path.home(), blastdoor_home=settings(args).home)


def _scope(args: argparse.Namespace) -> str:
    return "project" if args.project else "managed" if args.managed else "user"


def _git_hooks(*, install: bool) -> int:
    from blastdoor.integrations import git_hooks

    changed = (git_hooks.install if install else git_hooks.uninstall)(Path(os.getcwd()))
    done = "installed" if install else "removed"
    print(
        "\n".join(f"{done} {path}" for path in changed)
        or f"git hooks already {done}; nothing changed"
    )
    return 0


def _install(args: argparse.Namespace) -> int:
    from blastdoor.integrations.manage import install_agent

    if args.system:
        return _install_system(args)
    if args.agent is None:
        from blastdoor.errors import InputError

        raise InputError("name an agent to install the hook for, or --system", hint=f"one of {', '.join(AGENTS)}, git")
    if args.agent == "git":
        return _git_hooks(install=True)

    change = install_agent(args.agent, _scope(args), _place(args))
    if not change.changed:
        print(f"already installed in {change.path}; nothing changed")
        return 0
    print(f"installed the {args.agent} hook in {change.path}")
    if change.backup:
        print(f"  the original is kept in {change.backup}")
    if args.agent == "codex" and not args.managed:
        print("  Codex runs a new hook only after you trust it: open Codex and run /hooks")
    print("  run `blastdoor doctor` to prove it blocks")
    return 0


def _install_system(args: argparse.Namespace) -> int:
    import sys

    from blastdoor.hardened.install import install

    system = install(Path(args.root), user=args.system_user, python=args.python or sys.executable, start=not args.no_start,
                     runners=args.runners, say=lambda line: print(f"  {line}"))  # fmt: skip
    print(f"hardened mode: home {system.home} owned by {system.user}, daemon on {system.socket}, "
          f"{args.runners} runner{'s' if args.runners != 1 else ''} ({system.user}-run0 ...)")  # fmt: skip
    print("  every blastdoor command on this machine now asks the daemon; install agent hooks with --managed")
    return 0


def _uninstall(args: argparse.Namespace) -> int:
    from blastdoor.integrations.manage import uninstall_agent

    if args.agent == "git":
        return _git_hooks(install=False)

    change = uninstall_agent(args.agent, _scope(args), _place(args))
    if not change.changed:
        print(f"no Blastdoor hook in {change.path}; nothing changed")
    elif change.removed_file:
        print(f"removed {change.path} (Blastdoor had created it)")
    else:
        print(f"removed the {args.agent} hook from {change.path}")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from blastdoor.integrations.manage import checks, credentials_in, installed

    place = _place(args)
    failed = 0
    found = list(installed(place))
    if not found:
        print("no agent has Blastdoor's hook installed (blastdoor install claude-code)")
        failed += 1
    for item in found:
        print(f"{item.agent} ({item.scope}): {item.path}")
        for check in checks(item, place):
            failed += not check.passed
            print(f"  {'ok  ' if check.passed else 'FAIL'} {check.name}  [{check.detail}]")
    credentials = credentials_in(os.environ)
    if credentials:
        print("production credentials in this environment (agents started here can use them; "
              "move them into Blastdoor's broker):")  # fmt: skip
        for name in credentials:
            print(f"  - {name}")
    return EXIT_DOCTOR_FAILED if failed else 0


def _git_hook(args: argparse.Namespace) -> int:
    import sys

    from blastdoor.integrations import git_hooks
    from blastdoor.integrations.service import Runtime

    repo = Path(os.getcwd())
    if args.hook == "pre-commit":
        problems = git_hooks.staged_problems(repo)
        for problem in problems:
            print(f"blastdoor: refusing the commit: {problem}", file=sys.stderr)
        if problems:
            print(
                "blastdoor: unstage it (git restore --staged FILE) and keep secrets out of the repository",
                file=sys.stderr,
            )
        return 1 if problems else 0
    remote = args.rest[0] if args.rest else "origin"
    updates = git_hooks.parse_updates(sys.stdin.read(1024 * 1024).splitlines())
    runtime = Runtime(settings(args))
    try:
        refusals = git_hooks.check_push(remote, updates, repo, runtime)
    finally:
        runtime.close()
    for refusal in refusals:
        print(f"blastdoor: refusing the push: {refusal}", file=sys.stderr)
    return 1 if refusals else 0
