"""Acknowledged entries survive ``kill -9`` of the writer at any moment, and the ledger still verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from blastdoor.config import Settings
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.verify import verify

WRITER = """
import sys
from blastdoor.config import Settings
from blastdoor.ledger.entry import now
from blastdoor.ledger.ledger import Ledger
tag = sys.argv[1]
with Ledger.open(Settings.resolve()) as ledger:
    for n in range(100000):
        entry = ledger.record({"v": 1, "type": "decision", "time": now(), "writer": tag, "n": n})
        print(entry.seq, entry.leaf_hash.hex(), flush=True)  # acknowledged
"""


def test_kill_9_never_loses_an_acknowledged_entry(
    database_url: str, settings_for: Callable[..., Settings], isolated_home: Path
) -> None:
    settings = settings_for(database_url, checkpoint_every=7)
    env = {**os.environ, "BLASTDOOR_HOME": str(isolated_home), "BLASTDOOR_DATABASE_URL": database_url,
           "BLASTDOOR_CHECKPOINT_EVERY": "7"}  # fmt: skip
    acknowledged: dict[int, str] = {}
    rng = random.Random(7)
    for round_ in range(6):
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, f"{round_}.{w}"], stdout=subprocess.PIPE, env=env, text=True)
                   for w in range(3)]  # fmt: skip
        firsts = [
            writer.stdout.readline() for writer in writers if writer.stdout
        ]  # all are writing now
        time.sleep(rng.uniform(0.05, 0.6))
        for writer in writers:
            writer.send_signal(signal.SIGKILL)
        for writer, first in zip(writers, firsts, strict=True):
            # read(), not communicate(): communicate reads the pipe's descriptor directly and would
            # skip what readline() left in the buffer, cutting a line's start ("1098 <hash>" read
            # as "98 <hash>": a false acknowledgement of another entry)
            assert writer.stdout is not None
            out = writer.stdout.read()
            writer.wait(timeout=30)
            for line in (first + out).splitlines(keepends=True):
                fields = line.split()
                if (
                    line.endswith("\n") and len(fields) == 2 and len(fields[1]) == 64
                ):  # a whole acknowledgement
                    acknowledged[int(fields[0])] = fields[1]
    assert len(acknowledged) > 20, "the writers never got going"
    with Ledger.open(settings) as ledger:
        report = verify(ledger)
        assert report.ok, report.problems
        stored = ledger.store.rows(sorted(acknowledged))
        assert {seq: row.leaf_hash.hex() for seq, row in stored.items()} == acknowledged
