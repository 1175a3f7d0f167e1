"""git subcommands that move or delete refs and commits: push, branch, tag, commit --amend, rebase,
filter-branch, update-ref, reflog, gc/prune, and the settings that change what git runs (config).

Part of the git family (``git.py`` dispatches here).
"""

from __future__ import annotations

from collections.abc import Iterator

from blastdoor.analyze.commands.git_base import (
    DISCARDS,
    IRREVERSIBLE,
    REWRITES,
    Git,
    Handler,
    bypass,
    parse,
)
from blastdoor.analyze.invocation import Word, effect
from blastdoor.model import Effect, Target, Verb

_PUSH_LONGS = (
    "--force", "--force-with-lease", "--no-force-with-lease", "--force-if-includes", "--delete",
    "--mirror", "--prune", "--all", "--branches", "--tags", "--follow-tags", "--dry-run",
    "--no-verify", "--verify", "--set-upstream", "--repo", "--push-option", "--receive-pack",
    "--exec", "--atomic", "--signed", "--porcelain", "--quiet", "--verbose", "--progress",
    "--recurse-submodules", "--thin", "--no-thin", "--ipv4", "--ipv6",
)  # fmt: skip
_PUSH_VALUED = ("--repo", "--push-option", "--receive-pack", "--exec")
_LEASES = ("--force-with-lease", "--force-if-includes")
CURRENT = "(current branch)"


def _ref_name(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/", "refs/remotes/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _remote_ref(git: Git, verb: Verb, remote: str, ref: str, detail: str, *tags: str) -> Effect:
    named = () if ref in (CURRENT, "*") else ("named-branch",)
    return effect(
        git.inv,
        verb,
        Target("git-branch", f"{remote}:{ref}"),
        detail,
        reversibility=IRREVERSIBLE,
        tags={"git", "remote-ref", *named, *tags},
    )


def _push(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(args, shorts="o", longs=_PUSH_LONGS, valued=_PUSH_VALUED)
    if opts.has("--no-verify"):
        yield bypass(git, "push")
    if opts.has("-n", "--dry-run"):
        yield git.ok("show what git push would do", Verb.READ)
        return
    words = opts.operands + opts.paths
    remote = opts.values.get("--repo") or (words[0].text if words else "origin")
    specs = [w.text for w in words[1:]]
    lease = opts.last("--force-with-lease", "--no-force-with-lease") == "--force-with-lease"
    plain = [f for f in opts.flags if f == "-f" or (f.startswith("--forc") and f not in _LEASES)]
    forced = lease or bool(plain)
    how = "force-push (with a lease)" if lease and not plain else "force-push"
    if opts.has("--mirror"):
        yield _remote_ref(
            git,
            Verb.DESTROY,
            remote,
            "*",
            f"make every branch and tag on {remote} match this repository (overwriting, deleting)",
            REWRITES,
            "mirror",
        )
        return
    if opts.has("--prune"):
        yield _remote_ref(
            git,
            Verb.DELETE,
            remote,
            "*",
            f"delete every branch on {remote} that does not exist locally",
            "deletes-branch",
        )
    if not specs and (opts.has("--all", "--branches", "--tags")):
        specs = ["*"]
    for spec in specs or ([CURRENT] if forced or opts.has("-d", "--delete") else []):
        yield from _refspec(
            git, remote, spec, forced=forced, delete=opts.has("-d", "--delete"), how=how
        )
    if (
        not forced
        and not opts.has("-d", "--delete")
        and not any(s.startswith((":", "+")) or ":+" in s for s in specs)
    ):
        target = f"{remote} " + (" ".join(specs) if specs else "(the current branch)")
        yield effect(
            git.inv,
            Verb.EXECUTE,
            Target("git-remote", remote),
            f"push new commits to {target}",
            tags={"git"},
        )


def _refspec(
    git: Git, remote: str, spec: str, *, forced: bool, delete: bool, how: str
) -> Iterator[Effect]:
    plus = spec.startswith("+") or ":+" in spec
    src, colon, dst = spec.lstrip("+").partition(":")
    ref = _ref_name((dst or src).lstrip("+"))
    if delete or (colon and not src):
        yield _remote_ref(
            git,
            Verb.DELETE,
            remote,
            ref,
            f"delete {ref} on {remote}; anyone else's work on it is orphaned",
            "deletes-branch",
        )
    elif forced or plus:
        what = "the current branch" if ref == CURRENT else "every branch" if ref == "*" else ref
        yield _remote_ref(
            git,
            Verb.MODIFY,
            remote,
            ref,
            f"{how} {what} to {remote}, replacing its history; commits others pushed are lost",
            REWRITES,
            "force-push",
        )


_BRANCH_LONGS = (
    "--delete", "--force", "--move", "--copy", "--list", "--all", "--remotes", "--verbose",
    "--quiet", "--track", "--no-track", "--set-upstream-to", "--unset-upstream", "--contains",
    "--no-contains", "--merged", "--no-merged", "--sort", "--points-at", "--format", "--column",
    "--no-column", "--color", "--no-color", "--abbrev", "--no-abbrev", "--edit-description",
    "--show-current", "--create-reflog", "--recurse-submodules", "--ignore-case", "--omit-empty",
)  # fmt: skip


def _branch(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(
        args,
        shorts="u",
        longs=_BRANCH_LONGS,
        valued=(
        "--set-upstream-to", "--contains", "--no-contains", "--merged", "--no-merged", "--sort",
        "--points-at", "--format",
    ),
    )  # fmt: skip
    names = [w.text for w in opts.operands + opts.paths]
    force = opts.has("-f", "--force")
    deleting = opts.has("-D") or (opts.has("-d", "--delete") and force)
    if opts.has("-r", "--remotes") and opts.has("-d", "-D", "--delete"):
        yield git.ok("forget remote-tracking branches (the remote keeps them)")
    elif deleting:
        for name in names:
            yield git.local(
                REWRITES,
                f"delete the local branch {name} even if its commits are not merged anywhere",
                kind="git-local-branch",
                name=name,
            )
    elif opts.has("-M", "-C") or (
        (force and opts.has("-m", "--move", "-c", "--copy")) and len(names) >= 1
    ):
        yield git.local(
            REWRITES,
            f"rename or copy a branch over the existing branch {names[-1] if names else ''}",
            kind="git-local-branch",
            name=names[-1] if names else git.repo,
            verb=Verb.MODIFY,
        )
    elif force and names and not opts.has("-d", "--delete", "-l", "--list"):
        yield git.local(
            REWRITES,
            f"reset the branch {names[0]} to {names[1] if len(names) > 1 else 'HEAD'}, "
            "dropping commits only it had",
            kind="git-local-branch",
            name=names[0],
            verb=Verb.MODIFY,
        )
    elif names and not opts.has(
        "-l", "--list", "-a", "--all", "-v", "-vv", "--contains", "--merged"
    ):
        yield git.ok("create, rename or delete (merged only) a branch")
    else:
        yield git.ok("list branches", Verb.READ)


_COMMIT_LONGS = (
    "--amend", "--no-verify", "--verify", "--message", "--file", "--reuse-message",
    "--reedit-message", "--fixup", "--squash", "--author", "--date", "--template", "--cleanup",
    "--trailer", "--all", "--patch", "--interactive", "--no-edit", "--edit", "--signoff",
    "--allow-empty", "--allow-empty-message", "--dry-run", "--quiet", "--verbose",
    "--untracked-files", "--gpg-sign", "--no-gpg-sign", "--pathspec-from-file", "--only",
    "--include", "--reset-author", "--short", "--branch", "--porcelain", "--long", "--null",
    "--status", "--no-status",
)  # fmt: skip
_COMMIT_VALUED = (
    "--message", "--file", "--reuse-message", "--reedit-message", "--fixup", "--squash",
    "--author", "--date", "--template", "--cleanup", "--trailer", "--pathspec-from-file",
)  # fmt: skip


def _commit(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(args, shorts="mFCct", attached="uS", longs=_COMMIT_LONGS, valued=_COMMIT_VALUED)
    if opts.has("-n", "--no-verify"):
        yield bypass(git, "commit")
    if opts.has("--amend"):
        yield git.local(
            REWRITES,
            "replace the last commit (git commit --amend); if it was pushed, the branch "
            "needs a force push",
            kind="git-history",
            verb=Verb.MODIFY,
        )
    else:
        yield git.ok("record a commit")


_REBASE_LONGS = (
    "--continue", "--abort", "--skip", "--quit", "--edit-todo", "--show-current-patch", "--onto",
    "--exec", "--strategy", "--strategy-option", "--interactive", "--root", "--autosquash",
    "--no-verify", "--verify", "--update-refs", "--keep-base", "--rebase-merges", "--autostash",
    "--force-rebase", "--signoff", "--empty", "--quiet", "--verbose", "--merge", "--apply",
    "--gpg-sign", "--fork-point", "--no-fork-point",
)  # fmt: skip


def _rebase(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(
        args,
        shorts="xsX",
        attached="CS",
        longs=_REBASE_LONGS,
        valued=("--onto", "--exec", "--strategy", "--strategy-option"),
    )
    if opts.has("--no-verify"):
        yield bypass(git, "rebase")
    for key in ("-x", "--exec"):
        if key in opts.values:
            yield from git.ctx.run_script(git.inv, opts.values[key], via="git rebase --exec")
    if opts.has("--continue", "--quit", "--edit-todo", "--show-current-patch"):
        yield git.ok("continue or inspect the rebase in progress")
    elif opts.has("--abort"):
        yield git.local(
            DISCARDS,
            "abandon the rebase in progress and go back to where it started, dropping resolutions",
        )
    else:
        what = (
            "drop the commit being replayed"
            if opts.has("--skip")
            else "rewrite the current branch's commits"
        )
        yield git.local(REWRITES, f"{what} (git rebase)", kind="git-history", verb=Verb.MODIFY)


def _sequencer(git: Git, args: list[Word]) -> Iterator[Effect]:
    """merge, cherry-pick, revert, am, pull: ordinary, except --abort and --no-verify."""
    sub = git.sub
    opts = parse(
        args,
        shorts="msX",
        longs=("--abort", "--no-verify", "--message", "--strategy", "--strategy-option"),
        valued=("--message", "--strategy", "--strategy-option"),
    )
    if opts.has("--no-verify"):
        yield bypass(git, f"git {sub}")
    if opts.has("--abort"):
        yield git.local(
            DISCARDS, f"abort the {sub} in progress and reset the working tree to before it"
        )
    else:
        yield git.ok(f"git {sub}: combine or apply commits")


def _rewrite_all(git: Git, args: list[Word]) -> Iterator[Effect]:
    if any(w.text in ("--analyze", "--dry-run") for w in args):
        yield git.ok("analyze the repository's history", Verb.READ)
        return
    yield git.local(
        REWRITES,
        "rewrite every commit in the repository's history (filter-branch / filter-repo)",
        kind="git-history",
        verb=Verb.MODIFY,
    )


def _update_ref(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(args, longs=("--delete", "--stdin", "--no-deref", "--create-reflog"), shorts="m")
    ref = opts.operands[0].text if opts.operands else "refs"
    stdin = git.inv.stdin.text or ""
    if opts.has("-d", "--delete") or (opts.has("--stdin") and "delete " in stdin):
        yield git.local(
            REWRITES,
            f"delete the ref {ref}; commits only it pointed to become unreachable",
            kind="git-ref",
            name=ref,
        )
    elif opts.operands or opts.has("--stdin"):
        yield git.local(
            REWRITES,
            f"point {ref} somewhere else without any safety check",
            kind="git-ref",
            name=ref,
            verb=Verb.MODIFY,
        )


def _reflog(git: Git, args: list[Word]) -> Iterator[Effect]:
    now = any(
        w.text.split("=", 1)[-1] in ("now", "all", "0")
        for w in args
        if w.text.startswith("--expire")
    )
    if args and (args[0].text == "delete" or (args[0].text == "expire" and now)):
        yield git.local(
            REWRITES,
            "erase reflog entries, the record that lets lost commits be recovered",
            kind="git-history",
        )
    else:
        yield git.ok("read the reflog", Verb.READ)


def _gc(git: Git, args: list[Word]) -> Iterator[Effect]:
    prune = next((w.text.split("=", 1)[1] for w in args if w.text.startswith("--prune=")), "")
    if prune in ("now", "all"):
        yield git.local(
            REWRITES,
            "delete unreachable commits now; lost work could no longer be recovered",
            kind="git-history",
        )
    else:
        yield git.ok("pack the repository")


def _prune(git: Git, args: list[Word]) -> Iterator[Effect]:
    if any(w.text in ("-n", "--dry-run") for w in args):
        yield git.ok("list unreachable objects", Verb.READ)
    else:
        yield git.local(
            REWRITES,
            "delete unreachable commits now; lost work could no longer be recovered",
            kind="git-history",
        )


def _tag(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(
        args,
        shorts="mFu",
        attached="n",
        longs=(
        "--delete", "--force", "--list", "--annotate", "--sign", "--message", "--file",
        "--local-user", "--contains", "--points-at", "--sort", "--format", "--verify",
    ),
        valued=(
        "--message", "--file", "--local-user", "--contains", "--points-at", "--sort", "--format",
    ),
    )  # fmt: skip
    names = [w.text for w in opts.operands]
    if opts.has("-d", "--delete"):
        for name in names:
            yield git.local(REWRITES, f"delete the local tag {name}", kind="git-tag", name=name)
    elif opts.has("-f", "--force") and names:
        yield git.local(
            REWRITES,
            f"move the existing tag {names[0]}",
            kind="git-tag",
            name=names[0],
            verb=Verb.MODIFY,
        )
    elif not names or opts.has("-l", "--list", "-v", "--verify"):
        yield git.ok("list tags", Verb.READ)
    else:
        yield git.ok(f"create the tag {names[0]}")


def _bisect(git: Git, args: list[Word]) -> Iterator[Effect]:
    if args and args[0].text == "run" and len(args) > 1:
        yield from git.ctx.run_argv(git.inv, args[1:], via="git bisect run")
    yield git.ok("bisect the history")


def _remote(git: Git, args: list[Word]) -> Iterator[Effect]:
    action = next((w.text for w in args if not w.text.startswith("-")), "")
    if action in ("", "show", "get-url"):
        yield git.ok("list remotes", Verb.READ)
    else:
        yield git.ok(f"git remote {action}")


HISTORY_HANDLERS: dict[str, Handler] = {
    "push": _push,
    "branch": _branch,
    "commit": _commit,
    "rebase": _rebase,
    "merge": _sequencer,
    "cherry-pick": _sequencer,
    "revert": _sequencer,
    "am": _sequencer,
    "pull": _sequencer,
    "filter-branch": _rewrite_all,
    "filter-repo": _rewrite_all,
    "update-ref": _update_ref,
    "reflog": _reflog,
    "gc": _gc,
    "prune": _prune,
    "tag": _tag,
    "bisect": _bisect,
    "remote": _remote,
}
