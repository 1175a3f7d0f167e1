"""Moving lines: the client on our stdin/stdout, the server a child process (or :mod:`.http`).

Two reader threads feed one queue; a single loop takes lines off it, asks the gateway, and
writes. So judging and the ledger run on one thread, and the order of messages in each
direction is kept. Server stderr is left attached to ours.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import IO, Protocol

from blastdoor.errors import GatewayError
from blastdoor.integrations.mcp_gateway.gateway import MAX_LINE_BYTES, Gateway

CLIENT, SERVER, CLIENT_DONE, SERVER_DONE = "client", "server", "client-done", "server-done"
Event = tuple[str, bytes]
SHUTDOWN_SECONDS = 5.0


class Upstream(Protocol):
    """The server end: lines go in with :meth:`send`; lines coming back are put on the queue."""

    def start(self, events: queue.Queue[Event]) -> None: ...

    def send(self, line: bytes) -> None: ...

    def close(self) -> None:
        """No more lines will be sent (the client hung up)."""
        ...

    def wait(self, timeout: float) -> int:
        """The server's exit status once it is done (stopping it after ``timeout``)."""
        ...


class ChildServer:
    """A local MCP server run as a child process speaking newline-delimited JSON-RPC."""

    def __init__(self, command: Sequence[str]) -> None:
        self.command = list(command)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, events: queue.Queue[Event]) -> None:
        try:
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                start_new_session=True,
            )  # fmt: skip
        except OSError as error:
            raise GatewayError(f"cannot start the MCP server {self.command[0]}: {error.strerror}",
                               hint="check the command after --") from None  # fmt: skip
        assert self.process.stdout is not None
        _reader(self.process.stdout, events, SERVER, SERVER_DONE)

    def send(self, line: bytes) -> None:
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.write(line if line.endswith(b"\n") else line + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass  # the server is gone; its reader reports the end

    def close(self) -> None:
        if self.process is not None and self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                return self.process.wait(timeout)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                self.process.kill()
                return self.process.wait()


def _reader(stream: IO[bytes], events: queue.Queue[Event], kind: str, done: str) -> None:
    def pump() -> None:
        try:
            while True:
                line = stream.readline(MAX_LINE_BYTES + 1)
                if not line:
                    break
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    _skip_rest(
                        stream
                    )  # the gateway refuses the oversized head; the tail is not a message
                if line.strip():
                    events.put((kind, line))
        except (OSError, ValueError):
            pass
        events.put((done, b""))

    threading.Thread(target=pump, name=f"blastdoor-mcp-{kind}", daemon=True).start()


def _skip_rest(stream: IO[bytes]) -> None:
    while True:
        chunk = stream.readline(MAX_LINE_BYTES)
        if not chunk or chunk.endswith(b"\n"):
            return


def serve(
    gateway: Gateway,
    upstream: Upstream,
    *,
    client_in: IO[bytes] | None = None,
    client_out: IO[bytes] | None = None,
) -> int:
    """Proxy until the client or the server hangs up; the server's exit status."""
    client_in = client_in or sys.stdin.buffer
    client_out = client_out or sys.stdout.buffer
    events: queue.Queue[Event] = queue.Queue()
    upstream.start(events)
    _reader(client_in, events, CLIENT, CLIENT_DONE)

    def to_client(line: bytes) -> None:
        try:
            client_out.write(line if line.endswith(b"\n") else line + b"\n")
            client_out.flush()
        except (BrokenPipeError, ValueError):
            pass

    client_open = True
    while True:
        try:
            kind, line = events.get(timeout=None if client_open else SHUTDOWN_SECONDS)
        except queue.Empty:
            break  # the client is gone and the server did not finish in time
        if kind == CLIENT:
            routed = gateway.from_client(line)
            for answer in routed.downstream:
                to_client(answer)
            for message in routed.upstream:
                upstream.send(message)
        elif kind == SERVER and len(line) > MAX_LINE_BYTES:
            print("blastdoor: dropped a message from the MCP server larger than "
                  f"{MAX_LINE_BYTES // 2**20} MiB", file=sys.stderr)  # fmt: skip
        elif kind == SERVER:
            passed = gateway.from_server(line)
            if passed is not None:
                to_client(passed)
        elif kind == CLIENT_DONE:
            client_open = False
            upstream.close()
        elif kind == SERVER_DONE:
            break
    return upstream.wait(SHUTDOWN_SECONDS)
