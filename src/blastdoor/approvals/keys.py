"""Approvers' keys: Ed25519, the private half encrypted with a passphrase and kept by the approver.

``blastdoor approver add NAME`` makes a key pair: the private key goes to the approver's own key
folder (``$BLASTDOOR_APPROVER_KEYS``, default ``~/.config/blastdoor/approvers``) encrypted with a
passphrase read from the terminal; the public key is registered in Blastdoor's home
(``HOME/approvers/NAME.pub``) and in the ledger. A grant counts only when its signature checks
against a registered public key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from blastdoor.approvals.errors import ApprovalError

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSPHRASE = 8


@dataclass(frozen=True)
class Approver:
    name: str
    uid: int
    key: Ed25519PublicKey
    key_id: str

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def private_folder() -> Path:
    given = os.environ.get("BLASTDOOR_APPROVER_KEYS")
    return (
        Path(given).expanduser() if given else Path.home() / ".config" / "blastdoor" / "approvers"
    )


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ApprovalError(f"approver name {name[:80]!r} is not a plain lower-case name",
                            hint="use letters, digits, '.', '_' and '-', e.g. alice")  # fmt: skip
    return name


def enroll(name: str, passphrase: str, *, public_folder: Path, secret_folder: Path) -> Approver:
    """Make ``name``'s key pair and register its public half for this OS user."""
    raw = make_key(name, passphrase, secret_folder=secret_folder, public_folder=public_folder)
    return register(name, os.getuid(), raw, public_folder=public_folder)


def make_key(name: str, passphrase: str, *, secret_folder: Path, public_folder: Path | None = None) -> bytes:
    """A new key pair for approver ``name``: the private half sealed with ``passphrase`` in
    ``secret_folder``; the raw public key returned (for :func:`register`, here or in the daemon)."""
    check_name(name)
    if len(passphrase) < MIN_PASSPHRASE:
        raise ApprovalError(
            "the passphrase is too short", hint=f"use at least {MIN_PASSPHRASE} characters"
        )
    secret_path = secret_folder / f"{name}.key"
    if secret_path.exists() or (public_folder is not None and (public_folder / f"{name}.pub").exists()):
        raise ApprovalError(f"approver {name} already exists", hint="pick another name")
    private = Ed25519PrivateKey.generate()
    sealed = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )  # fmt: skip
    try:
        secret_folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write(secret_path, sealed, 0o600)
    except OSError as error:
        raise ApprovalError(f"cannot store the approver key: {error.strerror}",
                            hint="check the folders' permissions") from None  # fmt: skip
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def register(name: str, uid: int, raw: bytes, *, public_folder: Path) -> Approver:
    """Register ``raw`` (32 bytes) as approver ``name``'s public key, belonging to OS user ``uid``."""
    check_name(name)
    try:
        public = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise ApprovalError("that is not an Ed25519 public key", hint="enroll again") from None
    try:
        public_folder.mkdir(parents=True, exist_ok=True)
        _write(public_folder / f"{name}.pub",
               f"blastdoor-approver 1\nname {name}\nuid {uid}\nkey {base64.b64encode(raw).decode()}\n".encode(), 0o644)  # fmt: skip
    except FileExistsError:
        raise ApprovalError(f"approver {name} already exists", hint="pick another name") from None
    except OSError as error:
        raise ApprovalError(f"cannot register the approver key: {error.strerror}",
                            hint="check the folders' permissions") from None  # fmt: skip
    return Approver(name, uid, public, key_id(public))


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def unlock(name: str, passphrase: str, *, secret_folder: Path) -> Ed25519PrivateKey:
    path = secret_folder / f"{check_name(name)}.key"
    try:
        sealed = path.read_bytes()
    except OSError:
        raise ApprovalError(f"no private key for approver {name} in {secret_folder}",
                            hint="run this as the approver, or set BLASTDOOR_APPROVER_KEYS to their key folder") from None  # fmt: skip
    try:
        private = serialization.load_pem_private_key(sealed, password=passphrase.encode())
    except (ValueError, TypeError):
        raise ApprovalError("wrong passphrase", hint="try again; the attempt is recorded") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise ApprovalError(f"{path} is not an Ed25519 key", hint="enroll the approver again")
    return private


def registered(public_folder: Path) -> dict[str, Approver]:
    """Every approver whose public key is registered (unreadable files are skipped)."""
    found: dict[str, Approver] = {}
    if not public_folder.is_dir():
        return found
    for path in sorted(public_folder.glob("*.pub")):
        approver = _parse(path)
        if approver is not None and approver.name == path.stem:
            found[approver.name] = approver
    return found


def _parse(path: Path) -> Approver | None:
    try:
        lines = dict(
            line.split(" ", 1) for line in path.read_text("utf-8").splitlines()[1:] if " " in line
        )
        raw = base64.b64decode(lines["key"], validate=True)
        public = Ed25519PublicKey.from_public_bytes(raw)
        return Approver(lines["name"], int(lines["uid"]), public, key_id(public))
    except (OSError, UnicodeDecodeError, KeyError, ValueError):
        return None


def local_names(secret_folder: Path) -> list[str]:
    """The approvers whose private keys are in ``secret_folder``."""
    return sorted(p.stem for p in secret_folder.glob("*.key")) if secret_folder.is_dir() else []
