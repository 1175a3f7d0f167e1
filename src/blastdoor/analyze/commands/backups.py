"""Filesystem backup tools that keep their archive in a file: ext2/3/4 ``dump``.

``dump`` reads a filesystem (a device or a folder) and writes the archive to the file ``-f`` names
(``-`` is standard output; without ``-f`` it writes to the tape device ``TAPE`` names), and with
``-u`` it records the run in ``/etc/dumpdates``. Those writes are its effects, judged as any other
file write (``filesystem.write_effect``). Reading the source changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.filesystem import write_effect
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.commands.getopt import bundle
from blastdoor.analyze.invocation import Analysis, Invocation, Word
from blastdoor.model import Effect

_DUMP_VALUES = frozenset("ABbdDeEFfhIjLQsT")  # letters whose value follows (attached or next)
DUMPDATES = "/etc/dumpdates"


def _dump(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    archive: Word | None = None
    updates = False
    i = 0
    while i < len(words):
        text = words[i].text
        if text in ("--help", "-?") or text.startswith("-W") or text.startswith("-w"):
            return  # help, or only list the filesystems that need a dump
        if text.startswith("-") and len(text) > 1:
            letters, i = bundle(words, i, _DUMP_VALUES)
            for letter, value in letters:
                updates = updates or letter == "u"
                archive = value if letter == "f" else archive
        i += 1
    writes = [
        write_effect(inv, ctx, archive, how="write a dump archive to", overwrite=True)
        if archive is not None and archive.text != "-"
        else None,
        write_effect(inv, ctx, Word(DUMPDATES), how="record the dump in", overwrite=False)
        if updates
        else None,
    ]
    found = [e for e in writes if e is not None]
    yield from found or [ordinary_program(inv)]


FAMILIES = (CommandFamily.of(["dump"], _dump),)
