"""The Unix-socket helpers every Blastdoor process uses (the hook client and the daemon, the hardened
runner, the ledger's appender and its writers): who is at the other end, and reaching a socket whose
path is longer than the kernel takes."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from blastdoor.integrations import hook_client


def test_the_peer_is_this_process() -> None:
    left, right = socket.socketpair()
    try:
        assert hook_client.peer_credentials(left) == (os.getpid(), os.getuid(), os.getgid())
    finally:
        left.close()
        right.close()


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_a_socket_with_a_long_path_is_bound_and_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    monkeypatch.setattr(hook_client.sys, "platform", platform)  # darwin: through a chdir to its folder
    folder = tmp_path / ("d" * 70) / ("e" * 70)
    folder.mkdir(parents=True)
    path = str(folder / "hook.sock")
    assert len(path) > 108
    here = os.getcwd()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        hook_client.reach(path, server.bind)
        server.listen(1)
        assert (folder / "hook.sock").is_socket()  # where the path says, not in some other folder
        hook_client.reach(path, client.connect)
        accepted, _ = server.accept()
        client.sendall(b"ping")
        assert accepted.recv(4) == b"ping"
        accepted.close()
    finally:
        client.close()
        server.close()
    assert os.getcwd() == here


def test_a_short_path_is_used_as_it_is() -> None:
    seen: list[str] = []
    assert hook_client.reach("/run/x.sock", lambda name: seen.append(name) or 7) == 7
    assert seen == ["/run/x.sock"]
