"""Filesystem commands: rm, find, shred, truncate, chmod/chown, mv/cp, rsync, sed -i, tee, and
``>`` redirections over files. Disks and partitions (dd, mkfs, partitioners) are in ``disks``.

Each target path is classified by :mod:`blastdoor.analyze.paths`; the policy decides from the tags
(deleting the home folder is denied, deleting ``node_modules`` is allowed, deleting the whole
workspace is asked).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from blastdoor.analyze import paths
from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.invocation import Analysis, Invocation, Where, Word, effect
from blastdoor.analyze.paths import path_info
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

DISRUPTION = "system-disruption"  # the machine itself stops working (a wiped disk, no network)
_DEVICE = re.compile(r"^/dev/(sd|hd|vd|xvd|nvme|mmcblk|disk|rdisk|md|dm-|loop|mapper/|sr|fd\d)")
_HARMLESS_SINKS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/zero"})
_PERSISTENCE = re.compile(
    r"(/\.(bashrc|bash_profile|bash_login|profile|zshrc|zprofile|zshenv|zlogin|kshrc|cshrc|tcshrc)$"
    r"|/\.config/fish/|/etc/(cron|profile|bash\.bashrc|rc\.local|systemd/|init\.d/|sudoers)"
    r"|/var/spool/cron|/\.config/systemd/|/\.git/hooks/|/\.ssh/authorized_keys|/Library/Launch"
    r"|/\.config/autostart/|/etc/ld\.so\.preload)"
)


SECRET_FILE = "secret-file"  # .env, keys, credential files: changing one can lock a service out


def is_device(text: str) -> bool:
    return bool(_DEVICE.match(text))


def delete_effects(
    inv: Invocation, ctx: Analysis, targets: Iterable[Word], *, recursive: bool, how: str
) -> Iterator[Effect]:
    """One delete effect per target path."""
    for word in targets:
        info = path_info(word, ctx)
        tags = set(info.tags)
        if recursive:
            tags.add("recursive")
        if paths.PROTECTED in tags:
            yield effect(
                inv,
                Verb.DISABLE_GUARD,
                Target("path", info.resolved),
                f"{how} a protected file ({word.text})",
                scope=Scope.LOCAL,
                tags=tags,
            )
            continue
        if is_device(info.resolved):
            tags.add("device")
        if paths.is_secret_path(info.resolved):
            tags.add(SECRET_FILE)
        yield effect(
            inv, Verb.DELETE, Target("path", info.resolved),
            f"{how} {word.text}" + (" and everything under it" if recursive else ""),
            scope=Scope.LOCAL, reversibility=Reversibility.IRREVERSIBLE, tags=tags,
        )  # fmt: skip


def write_effect(
    inv: Invocation, ctx: Where, word: Word, *, how: str, overwrite: bool
) -> Effect | None:
    """The effect of writing to the file ``word`` (a redirect, tee, cp, dd of=, sed -i ...)."""
    text = word.text
    if text in _HARMLESS_SINKS or text.startswith(("/dev/fd/", "/proc/self/fd/")) or text.isdigit():
        return None
    info = path_info(word, ctx)
    tags = set(info.tags) | ({"overwrite"} if overwrite else {"append"})
    target = Target("path", info.resolved)
    if paths.PROTECTED in tags:
        return effect(inv, Verb.DISABLE_GUARD, target, f"{how} a protected file ({text})",
                      scope=Scope.LOCAL, tags=tags)  # fmt: skip
    if is_device(info.resolved):
        return effect(inv, Verb.DESTROY, target, f"{how} the raw device {text}", scope=Scope.LOCAL,
                      reversibility=Reversibility.IRREVERSIBLE, tags=tags | {"device", DISRUPTION})  # fmt: skip
    if _PERSISTENCE.search(info.resolved) or _PERSISTENCE.search("/" + text.lstrip("~")):
        return effect(inv, Verb.PERSIST, target, f"{how} {text}, which runs again later",
                      scope=Scope.LOCAL, tags=tags | {"persistence"})  # fmt: skip
    if paths.is_secret_path(info.resolved):
        tags.add(SECRET_FILE)
    reversibility = Reversibility.IRREVERSIBLE if overwrite else Reversibility.REVERSIBLE
    return effect(inv, Verb.MODIFY, target, f"{how} {text}", scope=Scope.LOCAL,
                  reversibility=reversibility, tags=tags)  # fmt: skip


def redirect_effects(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    for redirect in inv.redirects:
        if not redirect.writes or (redirect.op in (">&", "<&") and redirect.target.text.isdigit()):
            continue
        found = write_effect(inv, ctx, redirect.target, how="overwrite" if not redirect.appends else "append to",
                             overwrite=not redirect.appends)  # fmt: skip
        if found is not None:
            yield found


def split_flags(args: Iterable[Word]) -> tuple[set[str], list[Word]]:
    """Short flags (each letter), long flags, and the operands (everything after ``--`` too)."""
    flags: set[str] = set()
    operands: list[Word] = []
    ended = False
    for word in args:
        text = word.text
        if ended or not text.startswith("-") or text == "-":
            operands.append(word)
        elif text == "--":
            ended = True
        elif text.startswith("--"):
            flags.add(text)
        else:
            flags.update("-" + letter for letter in text[1:])
    return flags, operands


def _rm(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    flags, operands = split_flags(inv.args)
    if flags & {"--help", "--version"}:
        return
    recursive = bool(flags & {"-r", "-R", "--recursive"})
    yield from delete_effects(inv, ctx, operands, recursive=recursive, how="delete")


def _rmdir(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    _, operands = split_flags(inv.args)
    for found in delete_effects(inv, ctx, operands, recursive=False, how="remove the empty folder"):
        yield found if found.verb is not Verb.DELETE else _tagged(found, "empty-dir")


def _tagged(found: Effect, *tags: str) -> Effect:
    from dataclasses import replace

    return replace(found, tags=found.tags | frozenset(tags), reversibility=Reversibility.REVERSIBLE)


def _shred(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    _flags, operands = split_flags(inv.args)
    for word in operands:
        info = path_info(word, ctx)
        yield effect(inv, Verb.DESTROY, Target("path", info.resolved), f"overwrite {word.text} so it cannot be recovered",
                     scope=Scope.LOCAL, reversibility=Reversibility.IRREVERSIBLE,
                     tags=set(info.tags) | {"shred"} | ({"device", DISRUPTION} if is_device(info.resolved) else set()))  # fmt: skip


def _truncate(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    if not any(w.text.startswith("-") for w in inv.args):  # coreutils needs -s or -r: SQL TRUNCATE
        from blastdoor.analyze.commands.db_typed import typed_effects

        if (typed := typed_effects(inv, inv.text)) is not None:
            yield from typed
            return
    words = list(inv.args)
    operands = [
        w
        for i, w in enumerate(words)
        if not w.text.startswith("-")
        and (i == 0 or words[i - 1].text not in ("-s", "--size", "-r", "--reference"))
    ]
    for word in operands:
        found = write_effect(inv, ctx, word, how="truncate", overwrite=True)
        if found is not None:
            yield found


_MODE = re.compile(
    r"[0-7]{1,5}|([ugoa]*([-+=]([rwxXst]*|[ugo]))+)(,[ugoa]*([-+=]([rwxXst]*|[ugo]))+)*"
)


def _chmod(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    flags, operands = split_flags(inv.args)
    recursive = bool(flags & {"-R", "--recursive"})
    if not operands:
        return
    mode, targets = operands[0].text, operands[1:]  # chmod MODE / chown OWNER, then the paths
    reference = next((w.text for w in inv.args if w.text.startswith("--reference=")), "")
    if inv.name == "chmod" and (reference or not _MODE.fullmatch(mode)):
        mode = f"like {reference[12:]}" if reference else "(no mode given)"
        targets = operands  # every operand is a path
    setuid = inv.name == "chmod" and bool(
        re.search(r"(^|[,ugoa])[ugoa]*\+[rwx]*s|^[4-7][0-7]{3}$", mode)
    )
    for word in targets:
        info = path_info(word, ctx)
        tags = set(info.tags) | ({"recursive"} if recursive else set())
        if inv.name == "chmod" and re.search(r"777|o\+w|a\+w", mode):
            tags.add("world-writable")
        verb = Verb.ESCALATE if setuid else Verb.MODIFY
        detail = f"{inv.name} {mode} {word.text}" + (" recursively" if recursive else "")
        if paths.PROTECTED in tags:
            verb = Verb.DISABLE_GUARD
        yield effect(inv, verb, Target("path", info.resolved), detail, scope=Scope.LOCAL, tags=tags)


def _move_copy(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    flags, operands = split_flags(inv.args)
    target_dir = next((w for w in inv.args if w.text.startswith("--target-directory=")), None)
    if len(operands) < 2 and target_dir is None:
        return
    dest = Word(target_dir.text.split("=", 1)[1]) if target_dir else operands[-1]
    sources = operands if target_dir else operands[:-1]
    moving = inv.name == "mv"
    if moving:
        yield from _moved_away(inv, ctx, sources)
    if dest.text == "/dev/null" and moving:
        yield from delete_effects(inv, ctx, sources, recursive=True, how="move into /dev/null")
        return
    found = write_effect(inv, ctx, dest, how="move files over" if moving else "copy files over",
                         overwrite=not (flags & {"-n", "--no-clobber", "-i", "--interactive", "-b", "--backup"}))  # fmt: skip
    if found is not None:
        yield found


def _moved_away(inv: Invocation, ctx: Analysis, sources: Iterable[Word]) -> Iterator[Effect]:
    """What moving ``sources`` elsewhere takes from where they were: a dangerous or protected path
    is gone from its place (the data lives on at the destination)."""
    for word in sources:
        info = path_info(word, ctx)
        if info.dangerous or paths.PROTECTED in info.tags:
            verb = Verb.DISABLE_GUARD if paths.PROTECTED in info.tags else Verb.DELETE
            yield effect(inv, verb, Target("path", info.resolved), f"move {word.text} away",
                         scope=Scope.LOCAL, reversibility=Reversibility.RECOVERABLE_WITH_BACKUP,
                         tags=info.tags | {"recursive"})  # fmt: skip


def _in_place(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    if not any(w.text.startswith("-i") or w.text.startswith("--in-place") for w in words):
        return
    operands = [w for w in words if not w.text.startswith("-")][1:]
    for word in operands:
        found = write_effect(inv, ctx, word, how="edit in place", overwrite=False)
        if found is not None:
            yield found


def _tee(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    flags, operands = split_flags(inv.args)
    append = bool(flags & {"-a", "--append"})
    for word in operands:
        found = write_effect(
            inv, ctx, word, how="append to" if append else "overwrite", overwrite=not append
        )
        if found is not None:
            yield found


def _create(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    _, operands = split_flags(inv.args)
    for word in operands:
        info = path_info(word, ctx)
        verb = Verb.DISABLE_GUARD if paths.PROTECTED in info.tags else Verb.CREATE
        yield effect(inv, verb, Target("path", info.resolved), f"{inv.name} {word.text}",
                     scope=Scope.LOCAL, tags=info.tags)  # fmt: skip


def _ln(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    flags, operands = split_flags(inv.args)
    if operands:
        found = write_effect(
            inv, ctx, operands[-1], how="link over", overwrite=bool(flags & {"-f", "--force"})
        )
        if found is not None:
            yield found


_FIND_ARG_OPTIONS = frozenset({
    "-name", "-iname", "-path", "-ipath", "-regex", "-iregex", "-type", "-xtype", "-user", "-group",
    "-perm", "-size", "-mtime", "-atime", "-ctime", "-mmin", "-amin", "-cmin", "-newer", "-anewer",
    "-cnewer", "-maxdepth", "-mindepth", "-gid", "-uid", "-inum", "-samefile", "-links", "-printf",
    "-fprint", "-fprint0", "-fprintf", "-fls", "-wholename", "-iwholename", "-lname", "-ilname",
    "-fstype", "-context", "-used", "-regextype", "-files0-from", "-f",
})  # fmt: skip
_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
# Options and actions that do not narrow which files are found (every other test does: -empty ...).
_FIND_KEEPS_ALL = frozenset({
    "-depth", "-d", "-xdev", "-mount", "-follow", "-noleaf", "-daystart", "-ignore_readdir_race",
    "-print", "-print0", "-ls", "-true", "-delete", "-nowarn", "-warn",
})  # fmt: skip


def _find(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    roots: list[Word] = []
    i = 0
    while i < len(words) and words[i].text in ("-H", "-L", "-P", "-O0", "-O1", "-O2", "-O3", "-D"):
        i += 2 if words[i].text == "-D" else 1
    while i < len(words) and not (
        words[i].text.startswith("-") or words[i].text in ("(", "!", ",")
    ):
        roots.append(words[i])
        i += 1
    if words[i : i + 1] and words[i].text == "-f":  # BSD: find -f PATH
        roots.append(words[i + 1]) if i + 1 < len(words) else None
    roots = roots or [Word(".")]
    filtered = False
    names: list[str] = []
    found_files = [
        r if path_info(r, ctx).dangerous else Word(r.text.rstrip("/") + "/{found}", r.dynamic)
        for r in roots
    ]
    while i < len(words):
        text = words[i].text
        if text in _FIND_ARG_OPTIONS:
            filtered = filtered or text not in ("-maxdepth", "-mindepth", "-regextype", "-f")
            if text in ("-name", "-iname") and i + 1 < len(words):
                names.append(words[i + 1].text)
            i += 2
            continue
        if text.startswith("-") and text not in _FIND_KEEPS_ALL and text not in _FIND_EXEC:
            filtered = True  # a test without a value (-empty, -executable, -nouser ...)
        if text == "-delete":
            tags = {"filtered"} if filtered else set()
            targets = roots
            if names and all(_regenerable_pattern(n) for n in names):
                tags.add(paths.REGENERABLE)
                targets = [
                    f if f in roots else Word(f.text + ".tmp", f.dynamic) for f in found_files
                ]
            for found in delete_effects(
                inv, ctx, targets, recursive=True, how="delete files found under"
            ):
                yield _retag(found, tags)
        elif text in _FIND_EXEC:
            end = i + 1
            while end < len(words) and words[end].text not in (";", "+"):
                end += 1
            if names and all(_regenerable_pattern(n) for n in names):
                found_files = [
                    Word(f.text.replace("{found}", "{found}.tmp"), f.dynamic) for f in found_files
                ]
            elif not filtered:  # nothing narrows what is found: every file under the root
                found_files = [
                    Word(f.text.replace("/{found}", "/*"), f.dynamic)
                    if paths.DYNAMIC not in path_info(f, ctx).tags
                    else f
                    for f in found_files
                ]
            inner = [found_files[0] if w.text == "{}" else Word(w.text.replace("{}", found_files[0].text), w.dynamic)
                     for w in words[i + 1 : end]]  # fmt: skip
            yield from ctx.run_argv(inv, inner, via=f"find {text}")
            i = end
        i += 1
    return


def _regenerable_pattern(pattern: str) -> bool:
    """A -name pattern that only matches build output or caches (``*.pyc``, ``__pycache__``)."""
    bare = pattern.strip("\"'")
    return (
        bare.lstrip("*").startswith(".") and bare.lstrip("*").endswith(paths.REGENERABLE_SUFFIXES)
    ) or (bare in paths.REGENERABLE_NAMES)


def _retag(found: Effect, tags: set[str]) -> Effect:
    from dataclasses import replace

    return replace(found, tags=found.tags | frozenset(tags)) if tags else found


def _rsync(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    flags, operands = split_flags(inv.args)
    if len(operands) < 2:
        return
    dest = operands[-1]
    if flags & {"-n", "--dry-run", "--list-only"}:
        yield effect(
            inv, Verb.READ, Target("path", dest.text), f"show what rsync would copy to {dest.text}"
        )
        return
    # --remove-source-files (--remove-sent-files in old rsync) moves the files, like mv: they are
    # gone from each source
    if flags & {"--remove-source-files", "--remove-sent-files"}:
        yield from _rsync_moved_away(inv, ctx, operands[:-1])
    # --del is --delete-during (rsync(1))
    deleting = any(f.startswith("--delete") or f == "--del" for f in flags)
    host = _rsync_host(dest.text)
    if host is not None:
        verb = Verb.DELETE if deleting else Verb.EXECUTE
        how = (
            "make a remote folder identical, deleting extra files in"
            if deleting
            else "copy files to"
        )
        yield effect(inv, verb, Target("host", dest.text), f"{how} {dest.text}",
                     reversibility=Reversibility.IRREVERSIBLE if deleting else Reversibility.REVERSIBLE,
                     tags={"remote", f"host={host}"})  # fmt: skip
        return
    if deleting:
        yield from delete_effects(
            inv, ctx, [dest], recursive=True, how="make identical (deleting extra files in)"
        )
    found = write_effect(inv, ctx, dest, how="copy files over", overwrite=True)
    if found is not None:
        yield found


def _rsync_host(text: str) -> str | None:
    """The host of an rsync location written ``[user@]host:path``, or None for a local path."""
    host, colon, _ = text.partition(":")
    return host.rpartition("@")[2] if colon and "/" not in host else None


def _rsync_moved_away(inv: Invocation, ctx: Analysis, sources: list[Word]) -> Iterator[Effect]:
    local: list[Word] = []
    for word in sources:
        host = _rsync_host(word.text)
        if host is None:
            local.append(word)
            continue
        yield effect(inv, Verb.DELETE, Target("host", word.text), f"move the files away from {word.text}",
                     reversibility=Reversibility.RECOVERABLE_WITH_BACKUP,
                     tags={"remote", "recursive", f"host={host}"})  # fmt: skip
    yield from _moved_away(inv, ctx, local)


FAMILIES = (
    CommandFamily.of(["rm", "unlink", "srm", "trash-empty"], _rm),
    CommandFamily.of(["rmdir"], _rmdir),
    CommandFamily.of(["shred", "wipe"], _shred),
    CommandFamily.of(["truncate"], _truncate),
    CommandFamily.of(["chmod", "chown", "chgrp", "chattr", "setfacl"], _chmod),
    CommandFamily.of(["mv", "cp", "install"], _move_copy),
    CommandFamily.of(["find", "gfind"], _find),
    CommandFamily.of(["rsync"], _rsync),
    CommandFamily.of(["sed", "gsed"], _in_place),
    CommandFamily.of(["tee"], _tee),
    CommandFamily.of(["touch", "mkdir"], _create),
    CommandFamily.of(["ln"], _ln),
)
