"""A writer's side of the appender (appender.py): the wire format and the connection.

Every message is a frame: a 4-byte big-endian length, then that many bytes. On a new connection
the client says ``HELLO NUL identity`` (:meth:`blastdoor.ledger.ledger.Ledger.identity`, so an
appender never writes into another ledger than the client's) and the appender answers ``ok`` or
``no NUL why``. Then each request is ``A`` followed by its entries, each a 2-byte id length, a
4-byte body length, the id and the canonical body; the answer is one of

- ``K``: appended and durable; per entry its id (8 bytes), leaf hash and chain hash (32 bytes
  each), then the problems the appender met copying checkpoints to witnesses, as text;
- ``R`` and a reason: not appended as far as the appender knows (its store failed); the client
  appends the entries itself with ``append_once``, which finds them if they were committed after all;
- ``E`` and a reason: the request is refused (malformed); nothing of it was appended.
"""

from __future__ import annotations

import _socket
import os
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from blastdoor.integrations.hook_client import peer_credentials, reach
from blastdoor.ledger.store import LedgerError, Pending

HELLO = b"blastdoor-ledger/1"
MAX_FRAME = 64 << 20  # a request of more than this is appended directly (an entry is ~1 KB)
ANSWER_SECONDS = 60.0  # no answer within this: the appender is hung; the client appends itself
RETRY_SECONDS = 1.0  # after failing to reach the appender, appends are direct for this long
_ITEM = struct.Struct(">HI")
_ACK = struct.Struct(">Q32s32s")


class Unsure(Exception):
    """The appender took the entries and gave no answer: they may or may not be on disk (never
    shown to a user: the ledger then appends them exactly once itself)."""


@dataclass(frozen=True)
class Answer:
    entries: list[tuple[int, bytes, bytes]]  # (entry id, leaf hash, chain hash) per entry sent
    problems: list[str]


def frame(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def encode_request(items: Sequence[Pending]) -> bytes:
    parts = [b"A"]
    for item in items:
        ident = item.id.encode("ascii")
        parts += [_ITEM.pack(len(ident), len(item.body)), ident, item.body]
    return b"".join(parts)


def decode_request(data: bytes) -> list[tuple[str, bytes]]:
    """The (id, body) pairs of an ``A`` request; ValueError names what is malformed."""
    if data[:1] != b"A":
        raise ValueError("not an append request")
    found: list[tuple[str, bytes]] = []
    at = 1
    while at < len(data):
        if at + _ITEM.size > len(data):
            raise ValueError(f"entry {len(found) + 1} is cut short")
        id_size, body_size = _ITEM.unpack_from(data, at)
        at += _ITEM.size
        if at + id_size + body_size > len(data):
            raise ValueError(f"entry {len(found) + 1} is cut short")
        ident = data[at : at + id_size].decode("ascii", "replace")
        found.append((ident, data[at + id_size : at + id_size + body_size]))
        at += id_size + body_size
    if not found:
        raise ValueError("the request holds no entry")
    return found


def encode_answer(entries: Sequence[tuple[int, bytes, bytes]], problems: Sequence[str]) -> bytes:
    return b"K" + b"".join(_ACK.pack(*entry) for entry in entries) + "\n".join(problems).encode()


def decode_answer(data: bytes, count: int) -> Answer:
    """An answer to a request of ``count`` entries; LedgerError for a refusal; Unsure for a failure."""
    kind, rest = data[:1], data[1:]
    if kind == b"K" and len(rest) >= count * _ACK.size:
        entries = [_ACK.unpack_from(rest, at * _ACK.size) for at in range(count)]
        text = rest[count * _ACK.size :].decode("utf-8", "replace")
        return Answer([(int(s), bytes(leaf), bytes(link)) for s, leaf, link in entries], text.split("\n") if text else [])
    if kind == b"E":
        raise LedgerError(f"the ledger's appender refused the entries: {rest.decode('utf-8', 'replace')}",
                          hint="report this as a bug: Blastdoor's own writers send well-formed entries")  # fmt: skip
    raise Unsure(rest.decode("utf-8", "replace") or "malformed answer")


def recv_frame(sock: _socket.socket, limit: int = MAX_FRAME) -> bytes:
    """One frame, read with as few calls as the kernel allows (an answer fits in the first one).
    For request-and-answer use only: the peer sends nothing unasked, so nothing is read past it."""
    data = sock.recv(1 << 16)
    while len(data) < 4:
        data += _more(sock)
    size = int.from_bytes(data[:4], "big")
    if size > limit:
        raise OSError(f"a frame of {size} bytes is too large")
    while len(data) < 4 + size:
        data += _more(sock)
    if len(data) > 4 + size:
        raise OSError("the peer sent more than one answer")
    return data[4:]


def _more(sock: _socket.socket) -> bytes:
    chunk = sock.recv(1 << 20)
    if not chunk:
        raise OSError("connection closed")
    return chunk


def time_limits(sock: _socket.socket, seconds: float) -> None:
    """Blocking calls on ``sock`` fail after ``seconds`` (the kernel's SO_RCVTIMEO and
    SO_SNDTIMEO: unlike ``settimeout``, no poll before every call)."""
    value = struct.pack("ll", int(seconds), int(seconds % 1 * 1e6))
    sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_RCVTIMEO, value)
    sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_SNDTIMEO, value)


class AppenderLink:
    """One writer's connection to its home's appender, opened on first use and kept."""

    def __init__(self, path: Path, *, identity: str) -> None:
        self._path = path
        self._identity = identity
        self._sock: _socket.socket | None = None
        self._quiet_until = 0.0  # no appender was there: do not knock again before this

    def append(self, items: Sequence[Pending]) -> Answer | None:
        """The appender's answer; None when no appender took the entries (append them directly);
        :class:`Unsure` when it took them and did not answer; LedgerError when it refused them."""
        request = frame(encode_request(items))
        if len(request) > MAX_FRAME:
            return None
        for _ in range(2):  # a kept connection the appender has closed (it restarted): once more
            sock = self._connected()
            if sock is None:
                return None
            try:
                sock.sendall(request)
            except OSError:  # the appender has not got the whole request, so it cannot append it
                self.close()
                continue
            try:
                answer = recv_frame(sock)
            except OSError as error:
                self.close()
                raise Unsure(str(error)) from None
            return decode_answer(answer, len(items))
        return None

    def _connected(self) -> _socket.socket | None:
        if self._sock is not None:
            return self._sock
        if time.monotonic() < self._quiet_until:
            return None
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)  # not ``socket``: its import costs more
        time_limits(sock, ANSWER_SECONDS)
        try:
            reach(str(self._path), sock.connect)  # a long path through its folder
            if not trusted(sock):
                raise OSError("the socket belongs to another user")
            sock.sendall(frame(HELLO + b"\0" + self._identity.encode()))
            if recv_frame(sock, 4096) != b"ok":  # another ledger's appender: append directly
                raise OSError("the appender serves another ledger")
        except OSError:
            sock.close()
            self._quiet_until = time.monotonic() + RETRY_SECONDS
            return None
        self._sock = sock
        return sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def trusted(sock: _socket.socket) -> bool:
    """Whether the other end runs as this user or root (or the system cannot tell): a writer hands
    entries to no one else, and an appender takes them from no one else."""
    found = peer_credentials(sock)
    return found is None or found[1] in (os.geteuid(), 0)
