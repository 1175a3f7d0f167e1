"""Git's pre-push and pre-commit hooks: the same policy for pushes that never passed an agent hook.

pre-push turns each ref update git is about to send into the ``git push`` that does it (forced when
the remote's commit is not an ancestor of the new one, a deletion when the new one is all zeros),
judges it with the policy and records it; ``hold`` and ``deny`` refuse, ``ask`` asks on the
terminal and refuses where there is none. pre-commit refuses staged credential files and staged
lines holding secrets. Installing keeps an existing hook and runs it after Blastdoor's check.
"""

from __future__ import annotations

import os
import secrets as random
import shlex
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from blastdoor.errors import ConfigError, InputError
from blastdoor.integrations.service import Runtime
from blastdoor.model import Action, ActionKind, Context, DecisionKind

ZERO = "0" * 40
MARKER = "# blastdoor git hook"
BACKUP_SUFFIX = ".blastdoor-backup"
HOOKS = ("pre-push", "pre-commit")
MAX_STAGED_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Update:
    """One line of pre-push's input: ``<local ref> <local sha> <remote ref> <remote sha>``."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str


def parse_updates(lines: Iterable[str]) -> list[Update]:
    updates = []
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise InputError(
                f"unexpected pre-push input line {line.strip()!r}",
                hint="git sends four fields per ref",
            )
        updates.append(Update(*parts))
    return updates


def _git(repo: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *argv], cwd=repo, capture_output=True, text=True, check=False)


def push_command(update: Update, remote: str, repo: Path) -> str:
    """The ``git push`` that performs ``update``."""
    branch = update.remote_ref.removeprefix("refs/heads/")
    if update.local_sha == ZERO:
        return shlex.join(["git", "push", remote, f":{branch}"])
    forced = update.remote_sha != ZERO and (
        _git(repo, "merge-base", "--is-ancestor", update.remote_sha, update.local_sha).returncode
        != 0
    )  # not an ancestor, or unknown here: history on the remote is replaced
    words = [
        "git",
        "push",
        *(["--force"] if forced else []),
        remote,
        f"{update.local_sha[:12]}:{branch}",
    ]
    return shlex.join(words)


def check_push(remote: str, updates: Sequence[Update], repo: Path, runtime: Runtime) -> list[str]:
    """Judge and record every ref update; the refusals, one line each (empty: the push may go)."""
    from blastdoor.ledger.record import decision_payload

    refusals = []
    for update in updates:
        context = Context.create(env=dict(os.environ), cwd=str(repo), agent="git", tool="pre-push")
        action = Action(
            kind=ActionKind.SHELL, input=push_command(update, remote, repo), context=context
        )
        policy, decision, request = runtime.decide(action)  # as the agents' hooks judge: purposes, approvals
        runtime.record(decision_payload(action, decision, policy_digest=policy.digest, source="git:pre-push",
                                        request=request))  # fmt: skip
        if not decision.enforced or decision.kind is DecisionKind.ALLOW:
            continue
        why = "; ".join(decision.reasons)
        if decision.kind is DecisionKind.ASK and _confirmed(f"{action.input}: {why}"):
            continue
        asked = f" (approval request {request}: a person runs blastdoor approve {request}, then push again)" if request else ""
        refusals.append(f"{decision.kind.value.upper()} {update.remote_ref}: {why}{asked}")
    return refusals


def _confirmed(question: str) -> bool:
    """A yes typed on the terminal; False where there is none (an agent, CI)."""
    try:
        with open("/dev/tty", "r+", encoding="utf-8") as tty:
            tty.write(f"blastdoor: {question}\nPush anyway? [y/N] ")
            tty.flush()
            return tty.readline().strip().lower() in ("y", "yes")
    except OSError:
        return False


def staged_problems(repo: Path) -> list[str]:
    """Credential files and secret-bearing lines in what is staged for commit."""
    from blastdoor.analyze.paths import is_secret_path
    from blastdoor.ledger.redact import Redactor

    names = _git(repo, "diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z").stdout.split(
        "\0"
    )
    problems = [f"{name}: a credential file" for name in names if name and is_secret_path(name)]
    diff = _git(repo, "diff", "--cached", "--unified=0", "--no-color", "--diff-filter=ACMR").stdout
    redactor = Redactor(random.token_bytes(32))  # only to find secrets; nothing is stored
    current = ""
    for line in diff[:MAX_STAGED_BYTES].splitlines():
        if line.startswith("+++ b/"):
            current = line[6:]
        elif (
            line.startswith("+")
            and not line.startswith("+++")
            and redactor.text(line[1:]) != line[1:]
        ):
            problems.append(f"{current}: a line that holds a secret")
    return list(dict.fromkeys(problems))


# --- installing --------------------------------------------------------------------------------


def hooks_folder(repo: Path) -> Path:
    done = _git(repo, "rev-parse", "--git-path", "hooks")
    if done.returncode != 0:
        raise ConfigError(f"{repo} is not a git repository", hint="run it inside the repository")
    return (repo / done.stdout.strip()).resolve()


def script(hook: str) -> str:
    """The hook file: Blastdoor's check (any failure stops git), then the hook that was there."""
    python = shlex.quote(sys.executable)
    return f"""#!/bin/sh
{MARKER} (blastdoor install git; blastdoor uninstall git)
# Any failure of the check, Blastdoor missing included, exits non-zero and git stops.
input=$(cat)
printf '%s\\n' "$input" | {python} -I -m blastdoor git-hook {hook} "$@" || exit 1
if [ -x "$0{BACKUP_SUFFIX}" ]; then
    printf '%s\\n' "$input" | "$0{BACKUP_SUFFIX}" "$@" || exit $?
fi
"""


def install(repo: Path) -> list[Path]:
    """Write both hooks, keeping (and chaining) any hook that was there; the files changed."""
    folder = hooks_folder(repo)
    folder.mkdir(parents=True, exist_ok=True)
    changed = []
    for hook in HOOKS:
        path, text = folder / hook, script(hook)
        if path.exists() and path.read_text(errors="replace") == text:
            continue
        if path.exists() and MARKER not in path.read_text(errors="replace"):
            os.replace(path, path.with_name(hook + BACKUP_SUFFIX))
        path.write_text(text)
        path.chmod(0o755)
        changed.append(path)
    return changed


def uninstall(repo: Path) -> list[Path]:
    """Remove Blastdoor's hooks and put back the ones they replaced."""
    folder = hooks_folder(repo)
    changed = []
    for hook in HOOKS:
        path = folder / hook
        if path.exists() and MARKER in path.read_text(errors="replace"):
            path.unlink()
            backup = path.with_name(hook + BACKUP_SUFFIX)
            if backup.exists():
                os.replace(backup, path)
            changed.append(path)
    return changed
