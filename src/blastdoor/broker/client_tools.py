"""Running a database's command-line programs (``pg_dump``, ``pg_restore``, ``psql``,
``mariadb-dump`` / ``mysqldump``, ``mariadb`` / ``mysql``) with the password kept out of argv.

Every user of the machine can read every process's argv (``ps``), so each engine hands its
programs the secret the way they read it privately (PostgreSQL: ``PGPASSWORD`` in the environment;
MySQL: an option file of mode 0600) and passes the rest through here. :func:`find` picks the first
installed program of a list (a BrokerError saying what to install when none is);
:func:`run` runs it under a time limit and reports how it ended, keeping the head of what it
wrote; what it said is the caller's to judge (:meth:`Ran.checked` turns a failure into the one-line error most callers want).
:func:`fed` gives a program a file to read through a pipe, rewritten or checked on the way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from blastdoor.broker.errors import BrokerError
from blastdoor.errors import first_line

TOOL_SECONDS = 3600
KEPT_BYTES = 1 << 20  # of a program's output, and of its complaints: enough for any message, never the data
_BLOCK = 1 << 16


@dataclass(frozen=True)
class Ran:
    """How one program run ended."""

    program: str  # its file name (mariadb-dump, pg_restore ...)
    doing: str  # what it was run to do, in words ("save public.orders")
    code: int | None  # its exit code; None when it could not start or did not finish in time
    stdout: bytes = b""
    stderr: bytes = b""
    unfinished: str = ""  # why it did not start or finish

    @property
    def ok(self) -> bool:
        return self.code == 0

    def said(self) -> str:
        """Its complaint in one line: the first line of what it wrote to stderr, else its exit code."""
        if self.code is None:
            return f"did not finish ({self.unfinished})"
        return first_line(self.stderr.decode("utf-8", "replace"), default=f"exit code {self.code}")

    def failure(self) -> str:
        """'' when it succeeded; else why not in one line: the first line of its complaint that
        names an error (a restore's may begin with notices), else :meth:`said`."""
        if self.ok:
            return ""
        if self.code is not None:
            errors = [line for line in self.stderr.decode("utf-8", "replace").splitlines() if "error" in line.lower()]
            if errors:
                return first_line(errors[0])
        return f"{self.program}: {self.said()}"

    def checked(self) -> Ran:
        """Itself when it succeeded; else a BrokerError saying what it could not do."""
        if not self.ok:
            raise BrokerError(f"{self.program} could not {self.doing}: {self.said()}",
                              hint="nothing ran after it; fix the cause and retry")  # fmt: skip
        return self


def find(names: Sequence[str], *, doing: str, install: str) -> str:
    """The path of the first of ``names`` that is installed."""
    program = next((found for name in names if (found := shutil.which(name))), None)
    if program is None:
        missing = f"{names[0]} is not installed" if len(names) == 1 else f"neither {' nor '.join(names)} is installed"
        raise BrokerError(f"{missing}, so Blastdoor cannot {doing}; nothing ran", hint=install)
    return program


def run(program: str, args: Sequence[str], *, doing: str, env: Mapping[str, str] | None = None,
        stdin: IO[bytes] | None = None, timeout: float = TOOL_SECONDS) -> Ran:  # fmt: skip
    """Run ``program`` with ``args`` (never a secret) to do ``doing``, ``env`` added to the
    environment. Of what it writes, the first ``KEPT_BYTES`` of each stream are kept and the rest
    read and dropped: a dump being restored may print rows without end (``SELECT REPEAT(...)``)."""
    name = Path(program).name
    try:
        child = subprocess.Popen([program, *args], env={**os.environ, **(env or {})}, stdin=stdin,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    except OSError as error:
        return Ran(name, doing, None, unfinished=first_line(str(error)))
    kept = (bytearray(), bytearray())
    readers = [threading.Thread(target=_keep_head, args=(pipe, into), daemon=True)
               for pipe, into in zip((child.stdout, child.stderr), kept, strict=True)]  # fmt: skip
    for reader in readers:
        reader.start()
    try:
        code: int | None = child.wait(timeout=timeout)
        unfinished = ""
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        code, unfinished = None, f"timed out after {timeout:g} seconds"
    for reader in readers:
        reader.join()
    return Ran(name, doing, code, bytes(kept[0]), bytes(kept[1]), unfinished=unfinished)


def _keep_head(pipe: IO[bytes] | None, into: bytearray) -> None:
    """Read ``pipe`` to its end, keeping its first ``KEPT_BYTES`` in ``into``."""
    if pipe is None:
        return
    with pipe:
        while block := pipe.read(_BLOCK):
            into += block[: max(0, KEPT_BYTES - len(into))]


@contextlib.contextmanager
def fed(pieces: Generator[bytes, None, None]) -> Iterator[IO[bytes]]:
    """A pipe to give a program as its standard input, ``pieces`` written into it by a thread of
    its own (no copy of the data lands on disk). A BrokerError the pieces raise is raised when the
    block ends; an OSError only ends the feeding (the program stopped reading, and says why)."""
    reading, writing = os.pipe()
    problems: list[BrokerError] = []

    def feed() -> None:
        try:
            with os.fdopen(writing, "wb") as into, contextlib.closing(pieces):
                for piece in pieces:
                    into.write(piece)
        except BrokerError as error:
            problems.append(error)
        except OSError:
            pass

    feeder = threading.Thread(target=feed, name="blastdoor-feed", daemon=True)
    feeder.start()
    with os.fdopen(reading, "rb") as stdin:
        yield stdin
    feeder.join()
    if problems:
        raise problems[0]
