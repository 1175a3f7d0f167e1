"""Signed checkpoints: (tree size, root hash, time) signed with the install's Ed25519 key.

Format: a C2SP ``tlog-checkpoint`` body inside a C2SP ``signed-note`` (https://c2sp.org/signed-note,
https://c2sp.org/tlog-checkpoint), so the notes are readable by transparency-log tooling:

    blastdoor-ledger/3f9c0a1b2c3d4e5f          origin: names the log and its key
    1204                                       tree size
    q2Vb...base64 root hash...=                RFC 9162 root (MTH) of the first 1204 entries
    time 2026-11-22T10:00:00.000000Z           extension line

    — blastdoor-ledger/3f9c0a1b2c3d4e5f BASE64(key id || Ed25519 signature)

The signature (RFC 8032 Ed25519) covers the text up to and including its final newline; the key id
is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || public key), per signed-note.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path

from blastdoor.errors import BlastdoorError

_DASH = "\u2014 "
_ED25519 = b"\x01"


class CheckpointError(BlastdoorError):
    """A checkpoint is malformed, or its signature does not verify with the trusted key."""


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: str

    def text(self) -> str:
        root = base64.b64encode(self.root).decode()
        return f"{self.origin}\n{self.size}\n{root}\ntime {self.time}\n"


@dataclass(frozen=True)
class PublicKey:
    """A verifier's key: the raw 32-byte Ed25519 public key; its name is derived from it."""

    raw: bytes

    @property
    def name(self) -> str:
        return f"blastdoor-ledger/{hashlib.sha256(self.raw).hexdigest()[:16]}"

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(self.name.encode() + b"\n" + _ED25519 + self.raw).digest()[:4]

    @property
    def vkey(self) -> str:
        """The signed-note verifier key text: name+hex(key id)+base64(0x01 || key)."""
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(_ED25519 + self.raw).decode()}"

    @classmethod
    def load(cls, path: Path) -> PublicKey:
        try:
            text = path.read_bytes()
        except OSError as error:
            raise CheckpointError(f"cannot read the public key {path}: {error.strerror}",
                                  hint="pass the ledger's install.ed25519.pub from Blastdoor's keys folder") from None  # fmt: skip
        return cls.parse(text, source=str(path))

    @classmethod
    def parse(cls, data: bytes, *, source: str) -> PublicKey:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        stripped = data.strip()
        if b"+" in stripped and not stripped.startswith(b"-----"):  # a vkey
            try:
                raw = base64.b64decode(stripped.rsplit(b"+", 1)[1], validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) == 33 and raw[:1] == _ED25519:
                return cls(raw[1:])
            raise CheckpointError(
                f"{source} is not an Ed25519 verifier key", hint="use install.ed25519.pub"
            )
        try:
            key = serialization.load_pem_public_key(stripped)
        except ValueError:
            raise CheckpointError(
                f"{source} is not a PEM public key",
                hint="use install.ed25519.pub from Blastdoor's keys folder",
            ) from None
        if not isinstance(key, Ed25519PublicKey):
            raise CheckpointError(f"{source} is not an Ed25519 key", hint="use install.ed25519.pub")
        return cls(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))

    def verify(self, note: str) -> Checkpoint:
        """Open a signed note (signed-note, "Verifying"): the checkpoint, if this key signed it."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        text, signatures = _split(note)
        ours = [sig for name, sig in signatures if name == self.name and sig[:4] == self.key_id]
        if not ours:
            raise CheckpointError("the checkpoint is not signed by the ledger's key",
                                  hint="it was signed by another key: the ledger or its key was replaced")  # fmt: skip
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(ours[0][4:], text.encode())
        except InvalidSignature:
            raise CheckpointError(
                "the checkpoint's signature does not verify", hint="the checkpoint was altered"
            ) from None
        checkpoint = parse_text(text)
        if checkpoint.origin != self.name:
            raise CheckpointError(
                f"the checkpoint's origin {checkpoint.origin!r} is not {self.name!r}"
            )
        return checkpoint


class Signer:
    """The install's private key (``keys/install.ed25519``)."""

    def __init__(self, private: object, public: PublicKey) -> None:
        self._private = private
        self.public = public

    @classmethod
    def load(cls, path: Path) -> Signer:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise CheckpointError(f"the ledger's signing key {path} is missing",
                                  hint="restore keys/install.ed25519 from a backup; checkpoints cannot be signed without it") from None  # fmt: skip
        except (OSError, ValueError, TypeError) as error:
            raise CheckpointError(
                f"cannot load the signing key {path}: {error}", hint="restore it from a backup"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointError(
                f"{path} is not an Ed25519 key", hint="restore keys/install.ed25519 from a backup"
            )
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(key, PublicKey(raw))

    def sign(self, *, size: int, root: bytes, time: str) -> str:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        assert isinstance(self._private, Ed25519PrivateKey)
        text = Checkpoint(origin=self.public.name, size=size, root=root, time=time).text()
        signature = self._private.sign(text.encode())
        line = base64.b64encode(self.public.key_id + signature).decode()
        return f"{text}\n{_DASH}{self.public.name} {line}\n"


def _split(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """signed-note: the text ends at the last blank line; after it come signature lines."""
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise CheckpointError(
            "malformed checkpoint: no signature block", hint="the checkpoint was altered"
        )
    text, block = note[: cut + 1], note[cut + 2 :]
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(_DASH) or line.count(" ") != 2:
            raise CheckpointError(
                "malformed checkpoint signature line", hint="the checkpoint was altered"
            )
        name, encoded = line[len(_DASH) :].split(" ")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise CheckpointError(
                "malformed checkpoint signature", hint="the checkpoint was altered"
            ) from None
        if len(signature) != 68:
            raise CheckpointError(
                "malformed checkpoint signature", hint="the checkpoint was altered"
            )
        signatures.append((name, signature))
    return text, signatures


def unverified(note: str) -> Checkpoint:
    """The checkpoint inside a signed note, without checking its signature (for sizes and roots a
    caller will compare against, never for trust)."""
    return parse_text(_split(note)[0])


def parse_text(text: str) -> Checkpoint:
    """tlog-checkpoint body: origin, decimal size, base64 root, then extension lines."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise CheckpointError("malformed checkpoint text", hint="the checkpoint was altered")
    origin, size, root = lines[0], lines[1], lines[2]
    try:
        raw_root = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        raw_root = b""
    if not size.isdigit() or (size != "0" and size.startswith("0")) or len(raw_root) != 32:
        raise CheckpointError(
            "malformed checkpoint size or root", hint="the checkpoint was altered"
        )
    time = next((line[5:] for line in lines[3:] if line.startswith("time ")), "")
    return Checkpoint(origin=origin, size=int(size), root=raw_root, time=time)
