"""``blastdoor witness serve``: an HTTP witness for other machines' ledgers.

Run it where the agent cannot reach (another host, another user), with the public key of each
ledger it keeps watch over. It speaks the protocol of witness.py at ``/<origin>`` (the ledger key's
name with ``/`` as ``_``, e.g. ``/blastdoor-ledger_3f2a…``):

- ``GET`` returns the newest checkpoint it holds for that ledger (404 before the first);
- ``POST`` takes ``{"checkpoint", "old_size", "proof"}`` and keeps the checkpoint only if the
  ledger's key signed it and the RFC 9162 consistency proof shows that it extends the one held
  (a smaller tree, or the same size with another root, is refused with 409).

Every accepted checkpoint is appended, fsynced, to ``DIR/<origin>.checkpoints``, the folder
witness's format, so a restart carries on from the newest one and ``ledger verify`` can also read
the folder directly. Requests larger than 64 KiB, or not JSON of that shape, get a 400 and change
nothing; one lock orders the POSTs, so two ledgers' writers cannot interleave a check and a write.
A checkpoint it holds already is acknowledged without being appended again, and the newest note is
kept in memory, so repeating requests costs neither disk nor a read of the file.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from blastdoor.ledger import witness
from blastdoor.ledger.checkpoint import Checkpoint, CheckpointError, PublicKey
from blastdoor.ledger.merkle import ProofError
from blastdoor.ledger.merkle_verify import verify_consistency

MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Refusal(Exception):
    status: int
    reason: str


class Witness:
    """The checkpoints kept for the ledgers whose keys it was given."""

    def __init__(self, folder: Path, keys: Sequence[PublicKey]) -> None:
        self.folder = folder
        self.keys = {witness.slug(key.name): key for key in keys}
        self._lock = threading.Lock()
        self._newest: dict[str, str] = {}  # read from the folder once, then kept up to date

    def paths(self) -> list[str]:
        return [f"/{slug}" for slug in sorted(self.keys)]

    def newest(self, path: str) -> str:
        """The newest checkpoint held for the ledger at ``path`` ('' when none)."""
        key = self._key(path)
        with self._lock:
            return self._held(key)

    def _held(self, key: PublicKey) -> str:
        """The newest note for ``key`` (the caller holds the lock): read from the folder once."""
        if key.name not in self._newest:
            held = witness.fetch(str(self.folder), origin=key.name)
            self._newest[key.name] = held[-1] if held else ""
        return self._newest[key.name]

    def accept(self, path: str, body: bytes) -> Checkpoint:
        """Keep the checkpoint ``body`` carries if it extends the one held; Refusal otherwise."""
        key = self._key(path)
        try:
            document = json.loads(body)
            note, old_size = str(document["checkpoint"]), int(document["old_size"])
            proof = [bytes.fromhex(str(node)) for node in document["proof"]]
        except (ValueError, KeyError, TypeError):
            raise Refusal(400, 'send JSON {"checkpoint": NOTE, "old_size": N, "proof": [HEX, ...]}') from None
        try:
            new = key.verify(note)
        except CheckpointError as error:
            raise Refusal(409, error.message) from None
        with self._lock:
            if held := self._held(key):
                try:
                    old = key.verify(held)
                except CheckpointError as error:
                    raise Refusal(500, f"the checkpoint this witness holds does not verify ({error.message}); "
                                  f"a person checks {self.folder}") from None  # fmt: skip
                if (new.size, new.root) == (old.size, old.root):
                    return new  # held already: nothing to append
                if old_size != old.size:
                    raise Refusal(409, f"this witness holds a checkpoint of {old.size} entries, not {old_size}")
                try:
                    verify_consistency(old_size=old.size, new_size=new.size, old_root=old.root,
                                       new_root=new.root, proof=proof)  # fmt: skip
                except ProofError as error:
                    raise Refusal(409, f"the checkpoint does not extend the one held: {error.message}") from None
            try:
                witness.keep(str(self.folder), key.name, note)
            except OSError as error:
                raise Refusal(503, f"the witness cannot store checkpoints: {error.strerror or error}") from None
            self._newest[key.name] = note
        return new

    def _key(self, path: str) -> PublicKey:
        key = self.keys.get(path.strip("/"))
        if key is None:
            raise Refusal(404, "no ledger with that key is watched here")
        return key


def serve(witness_: Witness, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server for ``witness_`` (call ``serve_forever`` on it)."""

    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # seconds a client may take to send its request

        def do_GET(self) -> None:
            try:
                note = witness_.newest(self.path)
            except Refusal as refusal:
                return self._answer(refusal.status, refusal.reason)
            self._answer(200 if note else 404, note or "no checkpoint yet")

        def do_POST(self) -> None:
            length = self.headers.get("Content-Length") or "0"
            size = int(length) if length.isdigit() else 0
            if not 0 < size <= MAX_BODY:
                return self._answer(400, f"a checkpoint request is 1 to {MAX_BODY} bytes")
            try:
                kept = witness_.accept(self.path, self.rfile.read(size))
            except Refusal as refusal:
                return self._answer(refusal.status, refusal.reason)
            self._answer(200, f"kept checkpoint of {kept.size} entries")

        def _answer(self, status: int, text: str) -> None:
            data = (text if text.endswith("\n") else text + "\n").encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)
