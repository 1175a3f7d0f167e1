"""Asking the hardened daemon: one operation per connection, its answer as the daemon wrote it."""

from __future__ import annotations

import json
from typing import Any

from blastdoor.errors import HomeError
from blastdoor.hardened.layout import System
from blastdoor.integrations import hook_client

TIMEOUT_SECONDS = 30.0
BROKERED_SECONDS = 6 * 3600  # a brokered call (a restore, a backup check) answers when it is done


def call(system: System, op: str, *, timeout: float = TIMEOUT_SECONDS, **fields: Any) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``op`` run by the daemon for this process's user."""
    from blastdoor.integrations.daemon import OP_PROTOCOL

    message = OP_PROTOCOL + b"\0" + json.dumps({"op": op, **fields}).encode()
    try:
        sock = hook_client.connect(str(system.socket), timeout)
        try:
            hook_client.send_frame(sock, message)
            code, out, err = (hook_client.recv_frame(sock) for _ in range(3))
        finally:
            sock.close()
    except OSError as error:
        raise HomeError(f"the Blastdoor daemon at {system.socket} is not answering ({error.strerror or error})",
                        hint="a person starts it: sudo blastdoor install --system") from None  # fmt: skip
    if not code.lstrip(b"-").isdigit():
        raise HomeError("the daemon's answer is malformed", hint="is this Blastdoor the daemon's version?")
    return int(code), out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def ask(system: System, op: str, **fields: Any) -> str:
    """The standard output of ``op``; its error, raised as one line, when it failed."""
    code, out, err = call(system, op, **fields)
    if code != 0:
        from blastdoor.errors import BlastdoorError

        raise BlastdoorError(err.strip().removeprefix("blastdoor: ") or f"the daemon refused {op}")
    return out


def relayed(op: str, **fields: Any) -> int | None:
    """In hardened mode, for any user but the daemon's: run brokered call ``op`` in the daemon and
    pass on what it printed; its exit code. None otherwise: the caller does the work itself."""
    import sys

    from blastdoor.hardened.layout import served_by_daemon

    system = served_by_daemon()
    if system is None:
        return None
    code, out, err = call(system, op, timeout=BROKERED_SECONDS, **fields)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code
