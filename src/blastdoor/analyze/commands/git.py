"""git: what each subcommand does to uncommitted work, local history, and branches on a remote.

Local losses (``reset --hard``, ``checkout -- paths``, ``restore``, ``clean -f``, ``stash drop``,
``branch -D``, ``rebase``, ``commit --amend``, ``reflog expire`` ...) carry the git pack's tags
(``discards-uncommitted``, ``history-rewrite``, ``deletes-stash``) and local scope: the repository
is on this machine, so the environment named in the context does not apply (``ssh prod git reset
--hard`` takes the host's scope instead). Rewriting or deleting a branch on a remote
(``push --force``, ``+ref``, ``--delete``, ``:ref``, ``--mirror``, ``--prune``) targets
``git-branch`` ``remote:branch``; scope resolution makes protected branches (main, master ...)
production. Read-only subcommands read; ordinary writes (add, commit, pull, merge, push) execute.
Commit messages, grep patterns and other option values are data and are never run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from blastdoor.analyze import paths
from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.git_base import (
    DISCARDS,
    REWRITES,
    STASH,
    Git,
    Handler,
    parse,
)
from blastdoor.analyze.commands.git_config import alias as alias_effects
from blastdoor.analyze.commands.git_config import (
    config,
    configured_programs,
    credential,
    environment,
    inline_config,
)
from blastdoor.analyze.commands.git_history import HISTORY_HANDLERS
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

READ_ONLY = frozenset({
    "status", "log", "diff", "show", "fetch", "blame", "annotate", "grep", "ls-files", "ls-tree",
    "ls-remote", "rev-parse", "rev-list", "describe", "shortlog", "cat-file", "for-each-ref",
    "show-ref", "show-branch", "whatchanged", "count-objects", "fsck", "verify-commit",
    "verify-tag", "verify-pack", "check-ignore", "check-attr", "check-ref-format",
    "check-mailmap", "name-rev", "merge-base", "cherry", "range-diff", "diff-tree", "diff-files",
    "diff-index", "var", "version", "help", "archive", "get-tar-commit-id", "difftool",
    "format-patch", "request-pull", "hash-object", "column", "stripspace", "interpret-trailers",
    "patch-id", "show-index", "bugreport",
})  # fmt: skip
_GLOBAL_VALUED = frozenset({
    "--git-dir", "--work-tree", "--namespace", "--super-prefix", "--config-env", "--attr-source",
    "--exec-path",
})  # fmt: skip


# Settings and variables that name a program git runs: their values are commands, not data.
def _git(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    config = inline_config(environment(inv, ctx))
    repo = "."
    i = 0
    while i < len(words) and words[i].text.startswith("-"):
        text = words[i].text
        i += 1
        if text == "--":
            break
        if text in (
            "-h",
            "--help",
            "--version",
            "-v",
            "--html-path",
            "--man-path",
            "--info-path",
        ) or (text.startswith("--list-cmds") or text == "--exec-path"):
            yield effect(
                inv,
                Verb.READ,
                Target("program", "git"),
                "show git's help or version",
                scope=Scope.LOCAL,
            )
            return
        name, eq, value = text.partition("=")
        if text in ("-c", "-C") or (name in _GLOBAL_VALUED and not eq):
            value = words[i].text if i < len(words) else ""
            i += 1
        elif text[:2] in ("-c", "-C"):
            name, value = text[:2], text[2:]
        if name == "-c":
            key, _, setting = value.partition("=")
            config[key.lower()] = setting
        elif name == "-C":
            repo = value if repo == "." or value.startswith("/") else f"{repo}/{value}"
    git = Git(inv, ctx, repo, config)
    sub = words[i].text if i < len(words) else ""
    yield from configured_programs(git, sub, words[i + 1 :])
    if not sub:
        yield git.ok("show git's usage", Verb.READ)
        return
    yield from _subcommand(git, words[i].text, words[i + 1 :])


def _subcommand(git: Git, sub: str, rest: list[Word]) -> Iterator[Effect]:
    alias = git.config.get(f"alias.{sub.lower()}")
    if sub not in HANDLERS and sub not in READ_ONLY and alias is not None:
        yield from alias_effects(git, sub, alias, rest)
        return
    if any(w.text in ("-h", "--help", "--version") for w in rest[:1]):
        yield git.ok(f"show help for git {sub}", Verb.READ)
        return
    handler = HANDLERS.get(sub)
    if handler is not None:
        yield from handler(replace(git, sub=sub), rest)
    elif sub in READ_ONLY:
        yield git.ok(f"read the repository (git {sub})", Verb.READ)
    else:
        yield git.ok(f"git {sub}")


# --- the working tree --------------------------------------------------------------------------
_RESET_LONGS = (
    "--hard", "--soft", "--mixed", "--merge", "--keep", "--quiet", "--patch",
    "--recurse-submodules", "--no-recurse-submodules", "--pathspec-from-file",
    "--pathspec-file-nul", "--intent-to-add", "--refresh", "--no-refresh",
)  # fmt: skip


def _reset(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(args, longs=_RESET_LONGS, valued=("--pathspec-from-file",))
    mode = opts.last("--hard", "--merge", "--keep", "--soft", "--mixed")
    if mode in ("--hard", "--merge", "--keep"):
        commit = opts.operands[0].text if opts.operands else "HEAD"
        moved = "" if commit == "HEAD" else f" and move the branch to {commit}"
        yield git.local(
            DISCARDS,
            f"discard uncommitted changes in the working tree (git reset {mode}){moved}",
            extra=() if not moved else (REWRITES,),
        )
    else:
        yield git.ok("unstage changes or move the branch; the working tree is kept (git reset)")


def _looks_like_path(text: str) -> bool:
    return (
        text in (".", "./", "*", ":/", "..")
        or text.startswith(("./", "../", ":/", ":(", "*"))
        or any(ch in text for ch in "*?[")
        or ("." in text.rsplit("/", 1)[-1][1:] and text.rsplit(".", 1)[-1][:1].isalpha())
    )


_CHECKOUT_LONGS = (
    "--force", "--quiet", "--patch", "--orphan", "--conflict", "--pathspec-from-file", "--detach",
    "--merge", "--ours", "--theirs", "--track", "--no-track", "--guess", "--no-guess",
    "--progress", "--recurse-submodules", "--no-recurse-submodules", "--overwrite-ignore",
    "--ignore-other-worktrees", "--overlay", "--no-overlay", "--unified", "--inter-hunk-context",
    "--pathspec-file-nul",
)  # fmt: skip
_CHECKOUT_VALUED = (
    "--orphan", "--pathspec-from-file", "--unified", "--inter-hunk-context", "--conflict",
)  # fmt: skip


def _checkout(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(args, shorts="bBU", longs=_CHECKOUT_LONGS, valued=_CHECKOUT_VALUED)
    new_branch = opts.has("-b", "-B", "--orphan")
    paths = list(opts.paths)
    if len(opts.operands) >= 2 and not new_branch:
        paths += opts.operands[1:]
    elif (
        len(opts.operands) == 1
        and not opts.dashdash
        and not new_branch
        and _looks_like_path(opts.operands[0].text)
    ):
        paths += opts.operands
    if opts.has("--pathspec-from-file"):
        paths.append(
            Word(f"the paths listed in {opts.values.get('--pathspec-from-file', 'a file')}")
        )
    if paths or opts.has("-p", "--patch"):
        named = ", ".join(w.text for w in paths) or "the hunks chosen interactively"
        yield git.local(
            DISCARDS, f"overwrite {named} with the committed version, discarding uncommitted edits"
        )
    elif opts.has("-f", "--force", "-m", "--merge"):
        yield git.local(
            DISCARDS,
            "switch branches with --force, discarding uncommitted changes in the working tree",
        )
    else:
        yield git.ok("switch branches (git refuses if uncommitted changes would be lost)")


_SWITCH_LONGS = (
    "--force", "--discard-changes", "--create", "--force-create", "--orphan", "--detach",
    "--guess", "--no-guess", "--merge", "--conflict", "--quiet", "--progress", "--track",
    "--no-track", "--recurse-submodules", "--ignore-other-worktrees",
)  # fmt: skip


def _switch(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(
        args,
        shorts="cC",
        longs=_SWITCH_LONGS,
        valued=("--create", "--force-create", "--orphan", "--conflict"),
    )
    if opts.has("-f", "--force", "--discard-changes", "-m", "--merge"):
        yield git.local(
            DISCARDS, "switch branches, discarding uncommitted changes in the working tree"
        )
    else:
        yield git.ok("switch branches (git refuses if uncommitted changes would be lost)")


_RESTORE_LONGS = (
    "--source", "--patch", "--worktree", "--staged", "--no-staged", "--no-worktree", "--ours",
    "--theirs", "--merge", "--conflict", "--ignore-unmerged", "--ignore-skip-worktree-bits",
    "--recurse-submodules", "--no-recurse-submodules", "--overlay", "--no-overlay", "--quiet",
    "--progress", "--no-progress", "--pathspec-from-file", "--pathspec-file-nul", "--no-patch",
    "--unified", "--inter-hunk-context", "--help",
)  # fmt: skip


def _restore(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(
        args,
        shorts="sU",
        longs=_RESTORE_LONGS,
        valued=(
        "--source", "--conflict", "--pathspec-from-file", "--unified", "--inter-hunk-context",
    ),
    )  # fmt: skip
    if opts.has("-h", "--help"):
        yield git.ok("show help for git restore", Verb.READ)
        return
    staged = opts.last("-S", "--staged", "--no-staged") in ("-S", "--staged")
    worktree_flag = opts.last("-W", "--worktree", "--no-worktree")
    worktree = worktree_flag in ("-W", "--worktree") or (worktree_flag is None and not staged)
    patch = opts.last("-p", "--patch", "--no-patch") in ("-p", "--patch")
    paths = [w.text for w in opts.operands + opts.paths]
    if opts.has("--pathspec-from-file"):
        paths.append(f"the paths listed in {opts.values.get('--pathspec-from-file', 'a file')}")
    if worktree and (paths or patch):
        named = ", ".join(paths) or "the hunks chosen interactively"
        yield git.local(
            DISCARDS, f"overwrite {named} in the working tree, discarding uncommitted edits"
        )
    else:
        yield git.ok("unstage changes (the working tree is kept)")


def _clean(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(
        args,
        shorts="e",
        longs=("--force", "--dry-run", "--quiet", "--interactive", "--exclude"),
        valued=("--exclude",),
    )
    if opts.has("-n", "--dry-run"):
        yield git.ok("list the untracked files git clean would delete", Verb.READ)
        return
    if not opts.has("-f", "--force", "-i", "--interactive"):
        yield git.ok("git clean without --force deletes nothing", Verb.READ)
        return
    where = ", ".join(w.text for w in opts.operands + opts.paths) or "the repository"
    what = "untracked files"
    if opts.has("-d"):
        what += " and folders"
    if opts.has("-x"):
        what += ", and ignored files too (.env files, local config, build output)"
    elif opts.has("-X"):
        what = "ignored files (.env files, local config, build output)"
    yield git.local(
        DISCARDS,
        f"permanently delete {what} in {where}; they were never committed",
        extra={"ignored-files"} if opts.has("-x", "-X") else (),
    )


def _rm(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(
        args,
        longs=(
        "--force", "--cached", "--dry-run", "--quiet", "--ignore-unmatch", "--sparse",
        "--pathspec-from-file", "--pathspec-file-nul",
    ),
        valued=("--pathspec-from-file",),
    )  # fmt: skip
    targets = opts.operands + opts.paths
    if opts.has("-n", "--dry-run") or opts.has("--cached"):
        yield git.ok(
            "stop tracking files (they stay on disk)"
            if opts.has("--cached")
            else "list what git rm would remove"
        )
        return
    if opts.has("-f", "--force"):
        yield git.local(
            DISCARDS, f"remove {', '.join(w.text for w in targets)} even with uncommitted edits"
        )
        return
    # Without --force git refuses to remove a file whose content differs from the last commit, so
    # everything it deletes is committed and comes back with `git checkout HEAD -- PATH`, however
    # many files a folder or a glob holds: a local delete of committed files, which the table allows.
    # Emptying the whole workspace (`git rm -r .`) is still worth a look, as for `rm`.
    recursive = opts.has("-r")
    for word in targets:
        info = paths.path_info(git.path(word), git.ctx)
        kept = info.tags & {paths.WORKSPACE, paths.WORKSPACE_ROOT, paths.REGENERABLE}
        whole = git.repo == "." and word.text in ("*", "./*", ":/", ":/*")
        tags = set(kept) | {"git", "tracked-files"} | ({paths.WORKSPACE_ROOT} if whole else set())
        yield effect(
            git.inv,
            Verb.DELETE,
            Target("path", info.resolved),
            f"delete the tracked files {word.text}"
            + (" and everything under it" if recursive else "")
            + " (their committed versions stay in git)",
            scope=Scope.LOCAL,
            reversibility=Reversibility.RECOVERABLE_WITH_BACKUP,
            tags=tags,
        )


def _stash(git: Git, args: list[Word]) -> Iterator[Effect]:
    action = args[0].text if args else "push"
    if action in ("drop", "clear"):
        which = (
            "every stash"
            if action == "clear"
            else (args[1].text if len(args) > 1 else "the latest stash")
        )
        yield git.local(
            STASH,
            f"delete {which}; stashed changes are not kept anywhere else",
            kind="git-stash",
            name=git.repo,
        )
    elif action in ("list", "show"):
        yield git.ok("read the stash", Verb.READ)
    else:
        yield git.ok(f"git stash {action}")


def _worktree(git: Git, args: list[Word]) -> Iterator[Effect]:
    opts = parse(args[1:], longs=("--force",))
    if args[:1] and args[0].text == "remove" and opts.has("-f", "--force"):
        where = opts.operands[0].text if opts.operands else "the worktree"
        yield git.local(
            DISCARDS,
            f"delete the worktree {where} with --force, uncommitted and untracked files included",
        )
    else:
        yield git.ok("manage worktrees (git refuses to remove one with changes)")


def _submodule(git: Git, args: list[Word]) -> Iterator[Effect]:
    action = next((w.text for w in args if not w.text.startswith("-")), "status")
    rest = (
        args[[w.text for w in args].index(action) + 1 :] if action in (w.text for w in args) else []
    )
    opts = parse(rest, longs=("--force", "--all", "--recursive", "--quiet", "--init", "--checkout"))
    if action == "foreach":
        script = " ".join(w.text for w in opts.operands + opts.paths)
        yield from git.ctx.run_script(git.inv, script, via="git submodule foreach")
    elif action in ("deinit", "update") and opts.has("-f", "--force"):
        yield git.local(
            DISCARDS, f"git submodule {action} --force: throw away local changes in submodules"
        )
    else:
        yield git.ok(f"git submodule {action}")


HANDLERS: dict[str, Handler] = {
    "reset": _reset,
    "checkout": _checkout,
    "switch": _switch,
    "restore": _restore,
    "clean": _clean,
    "rm": _rm,
    "stash": _stash,
    "worktree": _worktree,
    "submodule": _submodule,
    "config": config,
    "credential": credential,
    **HISTORY_HANDLERS,
}

FAMILIES = (CommandFamily.of(["git", "git.exe"], _git),)
