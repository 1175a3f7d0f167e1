"""Dynamic DNS updates: ``nsupdate`` (RFC 2136).

nsupdate reads its commands from a file or standard input (a heredoc, ``echo ... |``). Each
``update delete NAME ...`` (or bare ``delete``/``del``) removes records from the zone on a DNS
server: a delete of records other machines resolve, which nothing on this side can undo. Each
``update add NAME TTL TYPE DATA`` writes one. The server is the one the ``server`` line names, or
the zone's primary master when none is named (unknown: held for deletes by the table);
``nsupdate -l`` talks to the server on this machine. Commands Blastdoor cannot see (interactive
input, a file not at hand) are ``execute-unknown``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.invocation import Analysis, Invocation, effect, unknown
from blastdoor.analyze.words import split_words
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb
from blastdoor.scope import RESOURCE

_VALUED = frozenset({"-L", "-y", "-k", "-t", "-u", "-r"})
_READ_ONLY = frozenset({"-T", "-P", "-V", "-h", "--help"})  # list types / print the version


@dataclass
class _Updates:
    """What an nsupdate script does: the server it talks to and each record change."""

    server: str = ""
    deletes: list[tuple[str, str]] = field(default_factory=list)  # (name, type or "")
    adds: list[tuple[str, str]] = field(default_factory=list)


def parse_updates(text: str) -> _Updates:
    """Read nsupdate's commands (one a line; ``;`` starts a comment)."""
    found = _Updates()
    for line in text.splitlines():
        words = split_words(line.split(";", 1)[0])
        if not words:
            continue
        command = words[0].lower()
        if command == "server" and len(words) > 1:
            found.server = words[1]
            continue
        if command == "update":
            words = words[1:]
            command = words[0].lower() if words else ""
        if command in ("delete", "del") and len(words) > 1:
            found.deletes.append((words[1], _record_type(words[2:])))
        elif command == "add" and len(words) > 1:
            found.adds.append((words[1], _record_type(words[2:])))
    return found


def _record_type(rest: list[str]) -> str:
    """The record type in ``[ttl] [class] [type [data...]]``: the first word that is neither."""
    for word in rest:
        if not word.isdigit() and word.upper() not in ("IN", "CH", "HS", "ANY", "NONE"):
            return word.upper()
    return ""


def _nsupdate(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    local, script_file = False, ""
    while words:
        text = words.pop(0).text
        if text in _READ_ONLY:
            yield effect(inv, Verb.READ, Target("program", "nsupdate"),
                         "show nsupdate's record types or version", scope=Scope.LOCAL)  # fmt: skip
            return
        if text in _VALUED and words:
            words.pop(0)
        elif text == "-l":
            local = True
        elif not text.startswith("-"):
            script_file = text
    text_in = ctx.read_file(script_file) if script_file else inv.stdin.text
    source = f"the file {script_file}" if script_file else (inv.stdin.source or "standard input")
    if text_in is None:
        where = " on the DNS server of this machine (-l)" if local else ""
        yield unknown(inv, f"nsupdate applies the DNS updates in {source}{where}, which "
                      "Blastdoor cannot see")  # fmt: skip
        return
    updates = parse_updates(text_in)
    server = updates.server or ("localhost" if local else "")
    yield from _record_effects(inv, updates, server)


def _record_effects(inv: Invocation, updates: _Updates, server: str) -> Iterator[Effect]:
    tags = {"dns", RESOURCE, *([f"host={server}"] if server else [])}
    on = f"on {server}" if server else "on the zone's primary server"
    for name, kind in updates.deletes:
        what = f"the {kind} records of {name}" if kind else f"every record of {name}"
        yield effect(inv, Verb.DELETE, Target("dns-record", name), f"delete {what} {on}",
                     reversibility=Reversibility.IRREVERSIBLE, tags=tags)  # fmt: skip
    for name, kind in updates.adds:
        yield effect(inv, Verb.CREATE, Target("dns-record", name),
                     f"add a record for {name}{f' ({kind})' if kind else ''} {on}", tags=tags)  # fmt: skip
    if not updates.deletes and not updates.adds:
        yield effect(inv, Verb.READ, Target("dns-record", server or "zone"),
                     f"send no record changes {on}", scope=Scope.LOCAL)  # fmt: skip


FAMILIES = (CommandFamily.of(["nsupdate"], _nsupdate),)
