"""Running a command on a real pseudo-terminal, as a person at a keyboard would."""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import sys
import termios
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def _controlling_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def on_terminal(args: Sequence[str], answers: Sequence[tuple[str, str]], *, home: Path | None,
                env: Mapping[str, str], timeout: float = 60.0, python: str = sys.executable,
                user: tuple[int, int] | None = None) -> tuple[int, str]:  # fmt: skip
    """Run ``blastdoor ARGS`` with a terminal (as OS ``user`` (uid, gid) when given); type each
    answer once its prompt appears."""
    master, slave = os.openpty()
    if user is not None:
        os.chown(os.ttyname(slave), user[0], -1)  # the person's own terminal
    where = ["--home", str(home)] if home is not None else []
    process = subprocess.Popen(
        [python, "-m", "blastdoor", *where, *args], stdin=slave, stdout=slave,
        stderr=slave, env=dict(env), preexec_fn=_controlling_terminal, close_fds=True,
        **({"user": user[0], "group": user[1], "extra_groups": []} if user else {}),  # type: ignore[arg-type]
    )  # fmt: skip
    os.close(slave)
    seen, pending, deadline = b"", list(answers), time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if pending and pending[0][0].encode() in seen.split(b"\n")[-1]:
            os.write(master, pending.pop(0)[1].encode() + b"\n")
            seen += b"\n"
        if process.poll() is not None and not ready:
            break
    os.close(master)
    code = process.wait(timeout=10)
    return code, seen.decode("utf-8", "replace").replace("\r\n", "\n")
