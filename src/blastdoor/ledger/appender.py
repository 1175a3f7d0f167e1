"""The appender: one long-lived writer that appends every writer's entries, many per transaction.

Writers (hooks decided in process, MCP gateways, ``blastdoor check``, the broker, the daemon
itself) redact and canonicalise their entries in their own processes, where that work runs in
parallel, and hand the canonical bodies to the appender on ``HOME/run/ledger.sock``
(appender_link.py has the wire format). The appender keeps the chain head and the Merkle frontier in
memory, reads what every connected writer has sent, appends all of it in one transaction (one
fsync), and only then answers each writer with its entries' ids and hashes. Requests that arrive
during a commit wait for the next one, so a batch grows with the load (group commit).

Safety does not rest on the appender. It appends through the store like any writer, under the
store's write lock, so a writer appending directly at the same time (no appender reachable, or
another Blastdoor on the same PostgreSQL database) cannot fork the chain; the appender sees the
ledger grew and reads its new right edge before appending. Every entry carries an id its writer
chose, noted with the entry in the same commit (``Store.append_once``). A writer whose appender
died before answering appends its entries itself with ``append_once``: entries the appender
committed are found by id and not appended twice; the others are appended. So ``kill -9`` of the
appender at any moment loses nothing that was acknowledged, and nothing is appended twice.

Where it runs: inside the resident daemon (integrations/daemon.py), for single-user mode's per-home
daemon and hardened mode's system daemon alike, and on its own with ``blastdoor ledger appender``.
One per home (``run/appender.lock``). The socket is the owner's only (mode 0600 in a 0700 folder),
and a connection from another user is refused by its peer credentials.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import selectors
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from blastdoor.config import Settings
from blastdoor.errors import BlastdoorError
from blastdoor.integrations.hook_client import reach
from blastdoor.ledger.appender_link import (
    HELLO,
    MAX_FRAME,
    decode_request,
    encode_answer,
    frame,
    time_limits,
    trusted,
)
from blastdoor.ledger.ledger import Ledger, appender_socket
from blastdoor.ledger.store import Pending

BATCH_LIMIT = 2_000  # entries in one transaction; requests beyond wait for the next
READ_SIZE = 1 << 16  # bytes read from a writer at a time (a larger request takes several reads)
SEND_SECONDS = 5.0  # a writer that does not read its answers for this long is dropped
_ID = re.compile(r"[\x21-\x7e]{1,128}")
_JSON = json.JSONDecoder()


@dataclass(eq=False)
class _Writer:
    sock: socket.socket
    inbox: bytearray = field(default_factory=bytearray)
    greeted: bool = False


@dataclass
class _Request:
    writer: _Writer
    items: list[Pending]


class Appender:
    """Serves one ledger on one listening socket until :meth:`stop` (or ``idle`` seconds without
    a request)."""

    def __init__(self, ledger: Ledger, listener: socket.socket) -> None:
        self._ledger = ledger
        self._identity = ledger.identity().encode()
        self._listener = listener
        self._selector = selectors.DefaultSelector()
        self._wake, self._waker = socket.socketpair()
        self._stopping = False
        self._buffer = memoryview(bytearray(READ_SIZE))  # every read lands here: no new buffer per read

    def stop(self) -> None:
        """Stop after the batch in hand (safe from a signal handler or another thread)."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._waker.send(b"x")

    def run(self, *, idle: float = 0.0) -> None:
        self._listener.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ, "accept")
        self._selector.register(self._wake, selectors.EVENT_READ, "wake")
        last = time.monotonic()
        try:
            while not self._stopping:
                events = self._selector.select(max(0.0, last + idle - time.monotonic()) if idle else None)
                if not events and idle and time.monotonic() >= last + idle:
                    break
                batch: list[_Request] = []
                for key, _ in events:
                    self._ready(key.data, batch)
                while batch:
                    cut = _cut(batch)
                    self._commit(batch[:cut])
                    batch, last = batch[cut:], time.monotonic()
        finally:
            self._close()

    def _ready(self, what: object, batch: list[_Request]) -> None:
        if what == "accept":
            self._accept()
        elif what == "wake":
            with contextlib.suppress(OSError):
                self._wake.recv(4096)
        elif isinstance(what, _Writer):
            self._receive(what, batch)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:  # nobody else waiting (or a connection that vanished)
                return
            if not trusted(sock):
                sock.close()  # another user: the entries are the owner's to write
                continue
            sock.setblocking(True)
            time_limits(sock, SEND_SECONDS)  # reads happen when select says so; answers wait at most this
            self._selector.register(sock, selectors.EVENT_READ, _Writer(sock))

    def _receive(self, writer: _Writer, batch: list[_Request]) -> None:
        try:
            size = writer.sock.recv_into(self._buffer)
        except OSError:
            size = 0
        if not size:  # the writer left; anything it sent whole is in the batch already
            self._drop(writer)
            return
        writer.inbox += self._buffer[:size]
        while len(writer.inbox) >= 4:
            size = int.from_bytes(writer.inbox[:4], "big")
            if size > MAX_FRAME:
                self._send(writer, b"E" + f"a request of {size} bytes is larger than {MAX_FRAME}".encode())
                self._drop(writer)
                return
            if len(writer.inbox) < 4 + size:
                return
            message = bytes(writer.inbox[4 : 4 + size])
            del writer.inbox[: 4 + size]
            self._message(writer, message, batch)

    def _message(self, writer: _Writer, message: bytes, batch: list[_Request]) -> None:
        if not writer.greeted:
            protocol, _, identity = message.partition(b"\0")
            if protocol != HELLO or identity != self._identity:
                why = "another ledger" if protocol == HELLO else f"another protocol than {HELLO.decode()}"
                self._send(writer, b"no\0" + f"this appender serves {why}".encode())
                self._drop(writer)
                return
            writer.greeted = True
            self._send(writer, b"ok")
            return
        try:
            items = self.entries(message, taken={item.id for request in batch for item in request.items})
        except ValueError as error:
            self._send(writer, b"E" + str(error).encode())  # the writer's other requests go on
            return
        batch.append(_Request(writer, items))

    def entries(self, message: bytes, *, taken: set[str]) -> list[Pending]:
        """The entries of one request, checked (ValueError says what is wrong); ``taken``: the
        ids already in the batch, to which these are added."""
        return _checked(message, taken=taken)

    def _commit(self, batch: list[_Request]) -> None:
        """Append the batch in one transaction; then answer each writer."""
        items = [item for request in batch for item in request.items]
        try:
            group = self._ledger.append(items, once=True)
        except Exception as error:  # the store failed: each writer appends its own entries, once
            why = error.diagnostics() if isinstance(error, BlastdoorError) else f"{type(error).__name__}: {error}"
            _log(f"appending {len(items)} entries failed: {why}")
            for request in batch:
                self._send(request.writer, b"R" + why.encode())
            return
        problems: list[str] = []
        try:
            self._ledger.checkpoint_due(group)
            problems = list(self._ledger.witness_problems)
            self._ledger.witness_problems = []
        except BlastdoorError as error:  # the entries are on disk; the writers hear why no checkpoint
            problems = [f"no checkpoint was signed: {error.diagnostics()}"]
        rows = iter(group.mine)
        for request in batch:
            mine = [next(rows) for _ in request.items]
            self._send(request.writer, encode_answer([(r.seq, r.leaf_hash, r.chain_hash) for r in mine], problems))

    def _send(self, writer: _Writer, message: bytes) -> None:
        try:
            writer.sock.sendall(frame(message))
        except OSError:  # gone, or not reading: if it asks again, append_once finds its entries
            self._drop(writer)

    def _drop(self, writer: _Writer) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(writer.sock)
        writer.sock.close()

    def _close(self) -> None:
        for key in list(self._selector.get_map().values()):
            if isinstance(key.data, _Writer):
                key.data.sock.close()
        self._selector.close()
        self._listener.close()
        self._wake.close()
        self._waker.close()


def _cut(batch: list[_Request]) -> int:
    """How many requests of ``batch`` go in one transaction (at least one, at most BATCH_LIMIT entries)."""
    count = 0
    for taken, request in enumerate(batch):
        count += len(request.items)
        if count > BATCH_LIMIT and taken:
            return taken
    return len(batch)


def _checked(message: bytes, *, taken: set[str]) -> list[Pending]:
    """The entries of one request, each checked as verify will check it: an id, and a body that is
    UTF-8 JSON holding an object. ValueError names the first that is not."""
    items = []
    for number, (ident, body) in enumerate(decode_request(message), start=1):
        if not _ID.fullmatch(ident) or ident in taken:
            raise ValueError(f"entry {number} has an id that is malformed or already in this batch")
        try:
            payload = _JSON.decode(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ValueError(f"entry {number} is not UTF-8 JSON") from None
        if not isinstance(payload, dict):
            raise ValueError(f"entry {number} is not a JSON object")
        when = str(payload.get("time", ""))
        if "\0" in when:  # the time is also stored in a column of its own, which cannot hold NUL
            raise ValueError(f"entry {number} has a NUL in its time")
        taken.add(ident)
        items.append(Pending(ident, when, body))
    return items


def _log(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(f"blastdoor appender: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def listening(settings: Settings) -> Iterator[Appender | None]:
    """The home's appender, bound and ready to :meth:`Appender.run`; None when another one
    already serves this home. The socket is removed when the block ends."""
    folder = settings.home / "run"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(folder / "appender.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield None
            return
        path = appender_socket(settings.home)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # left by an appender that was killed: this one holds the lock now
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            reach(str(path), listener.bind)  # a long path through its folder
            os.chmod(path, 0o600)
            listener.listen(128)
            with Ledger.open(settings, through_appender=False) as ledger:
                yield Appender(ledger, listener)
        finally:
            listener.close()
            with contextlib.suppress(OSError):
                os.unlink(path)


class Running:
    """An appender on a thread of its own (the daemon's), stopped with :meth:`stop`."""

    def __init__(self, settings: Settings) -> None:
        self._started = threading.Event()
        self._appender: Appender | None = None
        self._thread = threading.Thread(target=self._serve, args=(settings,), name="ledger-appender", daemon=True)
        self._thread.start()
        self._started.wait(30)

    def _serve(self, settings: Settings) -> None:
        try:
            with listening(settings) as appender:
                self._appender = appender
                self._started.set()
                if appender is not None:
                    appender.run()
        except Exception as error:  # without an appender every writer appends directly
            _log(f"stopped: {type(error).__name__}: {error}")
        finally:
            self._started.set()

    @property
    def serving(self) -> bool:
        return self._appender is not None and self._thread.is_alive()

    def stop(self) -> None:
        if self._appender is not None:
            self._appender.stop()
        self._thread.join(30)
