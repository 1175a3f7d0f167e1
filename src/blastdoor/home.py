"""Blastdoor's home folder: created by ``blastdoor init`` and on first use by every command.

It holds the user policy (``policy.toml``), the install's signing key (``keys/``, Ed25519, used for
ledger checkpoints), the SQLite ledger (``blastdoor.db``, created by the ledger's own migrations on
first use) and the freeze marker. Creation is idempotent: files already there are never overwritten,
and a lost private key is reported, never silently replaced (old checkpoints would stop verifying).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from blastdoor.config import Settings
from blastdoor.errors import HomeError

USER_POLICY_TEMPLATE = """\
# Your Blastdoor policy. Rules here are tried before the built-in ones (`blastdoor policy show`).
# mode = "observe" records decisions without enforcing them.
mode = "enforce"

# Name your environments so Blastdoor can tell production from the rest (glob patterns, matched
# against database hosts, kube contexts, AWS profiles, Terraform workspaces, hosts, app names).
[scope]
production = []
staging = []
development = []

# An example rule (uncomment to use):
# [[rule]]
# id = "team.no-helm-uninstall"
# verb = "delete"
# target = "helm-release"
# decision = "hold"
# reason = "helm releases are removed only with an approval"
"""


def ensure_home(settings: Settings) -> Path:
    """Create the home folder and what belongs in it, keeping anything already there."""
    home = settings.home
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not settings.policy.exists() and settings.policy.parent == home:
            _write_new(settings.policy, USER_POLICY_TEMPLATE, mode=0o600)
        _ensure_keys(home / "keys")
    except OSError as error:
        raise HomeError(f"cannot set up Blastdoor's home at {home}: {error.strerror or error}",
                        hint="set BLASTDOOR_HOME to a folder you can write") from None  # fmt: skip
    return home


def _write_new(path: Path, text: str, *, mode: int) -> None:
    """Write ``path`` only if it does not exist (atomically, never half-written)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _ensure_keys(folder: Path) -> None:
    private = folder / "install.ed25519"
    if private.exists():
        return
    if (folder / "install.ed25519.pub").exists():
        raise HomeError(f"the signing key {private} is missing but its public key is there",
                        hint="restore the private key from a backup; a new key would make old checkpoints unverifiable")  # fmt: skip
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    folder.mkdir(mode=0o700, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    _write_new(folder / "install.ed25519.pub", public, mode=0o644)
    _write_new(private, pem, mode=0o600)
