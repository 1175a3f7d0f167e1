"""Storage tools that copy, move and sync (rclone, mc, azcopy, and the cloud CLIs' copy commands
through :func:`transfer`): which side is read, which is overwritten, and what a sync deletes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from blastdoor.analyze.commands.saas import Cli, analyzer, cli_effects
from blastdoor.analyze.commands.verbs import hint_tags, parse, words
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Reversibility, Target, Verb

__all__ = ["azcopy", "storage", "transfer"]


def _remote(text: str) -> bool:
    """A storage location that is not a local path (``remote:path``, ``s3://``, ``alias/b``)."""
    if "://" in text:
        return not text.startswith("file://")
    if text.startswith(("/", ".", "~")):
        return False
    head = text.split("/", 1)[0]
    return head.endswith(":") or ":" in head


def transfer(
    inv: Invocation,
    ctx: Analysis,
    source: Word | None,
    dest: Word,
    *,
    kind: str,
    deletes: bool,
    moves: bool,
    remote: Callable[[str], bool] = _remote,
) -> Iterator[Effect]:
    """Copy, move or sync ``source`` to ``dest``: what is deleted, and what is written where."""
    from blastdoor.analyze.commands.filesystem import delete_effects, write_effect

    tags = hint_tags(inv, ctx) | {kind}
    for word, gone, how in (
        (dest, deletes, "make identical to the source (deleting extra files in)"),
        (source, moves, "move away"),
    ):
        if word is None or not gone:
            continue
        if remote(word.text):
            yield effect(
                inv,
                Verb.DELETE,
                Target(kind, word.text),
                f"{how} {word.text}; deleted files cannot be recovered",
                reversibility=Reversibility.IRREVERSIBLE,
                tags=tags | {"recursive"},
            )
        else:
            yield from delete_effects(inv, ctx, [word], recursive=True, how=how)
    if remote(dest.text):
        yield effect(
            inv,
            Verb.MODIFY,
            Target(kind, dest.text),
            f"upload files to {dest.text}, overwriting what is there",
            tags=tags,
        )
    else:
        found = write_effect(inv, ctx, dest, how="download files into", overwrite=True)
        if found is not None:
            yield found
    if source is not None and remote(source.text) and not moves:
        yield effect(inv, Verb.READ, Target(kind, source.text), f"read {source.text}", tags=tags)


_TRANSFER = words(
    """
    cp copy copyto mv move moveto sync mirror bisync
    """
)


def storage(cli: Cli, *, sync_deletes: bool) -> Callable[[Invocation, Analysis], Iterator[Effect]]:
    """rclone and mc: copy/move/sync direction matters; ``sync`` deletes at the destination."""
    generic = analyzer(cli)

    def analyze(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
        parsed = parse(inv.args, values=cli.valued, flags=cli.flags, verbs=cli.verbs)
        verb = parsed.verb.lower()
        if verb not in _TRANSFER or len(parsed.operands) < 2 or parsed.dry_run or parsed.help:
            yield from generic(inv, ctx)
            return
        removes = parsed.has(
            "--remove", "--delete", "--delete-after", "--delete-before", "--delete-during"
        )
        deletes = removes or (verb in ("sync", "bisync") and sync_deletes)
        yield from transfer(
            inv,
            ctx,
            parsed.operands[0],
            parsed.operands[-1],
            kind=cli.kind,
            deletes=deletes,
            moves=verb in ("mv", "move", "moveto"),
        )

    return analyze


def azcopy(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    parsed = parse(inv.args, values={"--delete-destination"}, verbs=_AZCOPY.verbs)
    if parsed.verb.lower() in ("copy", "cp", "sync") and len(parsed.operands) >= 2:
        deletes = parsed.value("--delete-destination").lower() in ("true", "prompt")
        yield from transfer(
            inv,
            ctx,
            parsed.operands[0],
            parsed.operands[-1],
            kind="azure-storage",
            deletes=deletes,
            moves=False,
        )
        return
    yield from cli_effects(inv, ctx, _AZCOPY, parsed)


_AZCOPY = Cli(kind="azure-storage", verbs={"remove": "delete", "jobs": "read", "env": "read"})
