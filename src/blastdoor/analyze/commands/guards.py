"""``blastdoor`` itself, run by an agent.

An agent may read what Blastdoor knows (``check``, ``requests``, ``ledger show``, ``mcp pins``, ...);
it may not loosen what Blastdoor enforces. Approving or denying a request, trusting a changed MCP
tool, unfreezing, enrolling an approver, storing or removing credentials, uninstalling hooks or
stopping the daemon, switching row history on or off, undoing a run and rebuilding a table are decisions for a person: from an agent they are ``disable-guard`` (denied by
the built-in policy, rule ``guard.self-protection``). The passphrase and terminal that ``approve``
demands stop such a command anyway; judging it here also records the attempt.
"""

from __future__ import annotations

from collections.abc import Iterator

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.invocation import Analysis, Invocation, effect
from blastdoor.model import Effect, Scope, Target, Verb

# The first word after the global options; for ``mcp``, ``daemon``, ``approver`` and ``profile``
# the pair decides.
_GUARD = frozenset({
    "approve", "deny", "unfreeze", "uninstall", "install", "init", "mcp trust", "mcp forget",
    "daemon stop", "approver", "profile", "policy edit", "restore", "data enable", "data disable",
    "data undo", "data restore",
})  # fmt: skip
_READ = frozenset({
    "check", "requests", "ledger", "policy", "doctor", "mcp pins", "daemon status", "replay",
    "hook", "--version", "--help", "-h", "help", "freeze", "profile list", "profile show",
    "data history", "data verify",
})  # fmt: skip
_KNOWN = _GUARD | _READ
_VALUED = frozenset({"--home", "--policy"})


def _blastdoor(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = [word.text for word in inv.args]
    while words and words[0] in _VALUED:
        words = words[2:]
    while words and words[0].startswith("--") and "=" in words[0]:
        words = words[1:]
    first = words[0] if words else ""
    pair = " ".join(words[:2])
    name = pair if pair in _KNOWN else first  # what the detail calls it
    target = Target("blastdoor", name or "blastdoor")
    if pair in _READ:  # a read under a guarded word: `profile list`, `data history`
        yield effect(inv, Verb.READ, target, f"blastdoor {name}", scope=Scope.LOCAL)
    elif pair in _GUARD or first in _GUARD:
        yield effect(inv, Verb.DISABLE_GUARD, target,
                     f"blastdoor {name}: a decision reserved for a person", scope=Scope.LOCAL)  # fmt: skip
    elif first in _READ:
        yield effect(inv, Verb.READ, target, f"blastdoor {name or 'help'}", scope=Scope.LOCAL)
    else:
        yield effect(inv, Verb.EXECUTE, target, f"blastdoor {name}", scope=Scope.LOCAL)


FAMILIES = (CommandFamily.of({"blastdoor"}, _blastdoor),)
