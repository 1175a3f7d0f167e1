"""OpenSSH's key tools: ``ssh-keygen`` and ``ssh-add``.

``ssh-keygen -R HOST`` rewrites ``known_hosts`` (``~/.ssh/known_hosts``, or the ``-f`` file): the
host's recorded key is gone, and the next connection trusts whatever key it is shown, so it is a
write to that file, judged like any write outside the workspace. Making a key (``-t``/bare) writes
the ``-f`` file (default ``~/.ssh/id_TYPE``, ``-t``'s type); ``-p`` changes a key file's passphrase in place; listing,
fingerprints (``-l``), lookups (``-F``) and signature checks read. ``ssh-add -d``/``-D`` removes
identities from the running agent and ``-x`` locks it: the keys stay on disk, so it is a reversible
change to this machine's credential store (asked about, since an agent's next pushes and deploys
fail); ``ssh-add -l``/``-L`` list, and adding a key loads one the user already holds.
"""

from __future__ import annotations

from collections.abc import Iterator

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.filesystem import write_effect
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.commands.getopt import bundle
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_KEYGEN_VALUES = frozenset("bCEFfGIJjKMmNnOPRrSsTtVwYZaz")


def _options(inv: Invocation, valued: frozenset[str]) -> dict[str, str]:
    """Single-letter options (bundled or not) and their values, as getopt reads them."""
    found: dict[str, str] = {}
    words = list(inv.args)
    i = 0
    while i < len(words):
        if words[i].text.startswith("-") and words[i].text != "-":
            letters, i = bundle(words, i, valued)
            found.update((letter, value.text if value else "") for letter, value in letters)
        i += 1
    return found


def _keygen(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    if any(w.text.startswith("--") and w.text != "--" for w in inv.args):
        # ssh-keygen has no long options: `--help` prints its usage and does nothing else
        yield effect(inv, Verb.READ, Target("program", inv.name), "show ssh-keygen's usage",
                     scope=Scope.LOCAL)  # fmt: skip
        return
    given = _options(inv, _KEYGEN_VALUES)
    kind = given.get("t", "ed25519").lower().replace("-", "_")
    key = given.get("f") or f"~/.ssh/id_{kind}"
    if "R" in given:
        written: tuple[str, str] | None = (given.get("f") or "~/.ssh/known_hosts", f"forget the key of {given['R']} in")
    elif "p" in given or ("c" in given and "f" in given):
        written = (key, "change the passphrase of")
    elif not {"l", "F", "y", "Y", "L", "Q"} & set(given) and ("t" in given or "f" in given or not given):
        written = (key, "write a new key to")
    else:
        written = None
    found = write_effect(inv, ctx, Word(written[0]), how=written[1], overwrite=True) if written else None
    yield found if found is not None else ordinary_program(inv)


def _ssh_add(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    given = _options(inv, frozenset("EStHh"))
    if {"d", "D", "x"} & set(given):
        what = "lock the ssh agent" if "x" in given else "remove identities from the ssh agent"
        yield effect(inv, Verb.MODIFY, Target("credential-store", "ssh-agent"), what, scope=Scope.LOCAL,
                     reversibility=Reversibility.REVERSIBLE, tags={"credential-store"})  # fmt: skip
        return
    yield ordinary_program(inv)


FAMILIES = (CommandFamily.of(["ssh-keygen"], _keygen), CommandFamily.of(["ssh-add"], _ssh_add))
