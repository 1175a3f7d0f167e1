"""The Unix-socket helpers every Blastdoor process uses (the hook client and the daemon, the hardened
runner, the ledger's appender and its writers): who is at the other end, and reaching a socket whose
path is longer than the kernel takes."""

from __future__ import annotations

import os
import socket

from blastdoor.integrations import hook_client


def test_the_peer_is_this_process() -> None:
    left, right = socket.socketpair()
    try:
        assert hook_client.peer_credentials(left) == (os.getpid(), os.getuid(), os.getgid())
    finally:
        left.close()
        right.close()
