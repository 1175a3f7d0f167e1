"""Profiles at rest: ``HOME/profiles/NAME.json``, the secrets sealed with AES-256-GCM.

The broker key (``HOME/keys/broker.key``, 32 random bytes, mode 0600) encrypts each profile's secret
values; the clear part (scope, purpose, allowed actions, variable names) is the cipher's associated
data, so widening a profile's purpose by editing its file makes it unreadable rather than more
powerful. In single-user mode the agent's user can read the key too: sealing keeps the values out
of backups, greps and secret scanners, and makes edits detectable. In hardened mode the home belongs
to the blastdoor user and the agent cannot read either (docs/threat-model.md).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets as random
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from blastdoor.broker.errors import BrokerError
from blastdoor.broker.profile import Profile, check_name
from blastdoor.config import Settings
from blastdoor.files import write_atomic

FORMAT = 1
KEY_BYTES = 32
MAX_PROFILE_BYTES = 1_000_000


class Vault:
    def __init__(self, folder: Path, key_path: Path) -> None:
        self.folder = folder
        self.key_path = key_path

    @classmethod
    def of(cls, settings: Settings) -> Vault:
        """The vault in Blastdoor's home: its profiles, sealed with the broker key."""
        return cls(settings.profiles, settings.broker_key)

    def add(self, profile: Profile, *, replace: bool = False) -> None:
        path = self._path(profile.name)
        if path.exists() and not replace:
            raise BrokerError(f"profile {profile.name} already exists",
                              hint="pass --replace to store new secrets under that name, or pick another name")  # fmt: skip
        clear = profile.public()
        nonce = random.token_bytes(12)
        sealed = AESGCM(self._key(create=True)).encrypt(
            nonce, json.dumps(dict(profile.secrets)).encode(), _aad(clear)
        )
        document = {"v": FORMAT, "profile": clear, "nonce": _b64(nonce), "sealed": _b64(sealed)}
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, json.dumps(document, indent=2) + "\n", mode=0o600, sync=True)

    def get(self, name: str) -> Profile:
        path = self._path(name)
        try:
            if path.stat().st_size > MAX_PROFILE_BYTES:
                raise BrokerError(f"{path} is too large to be a profile", hint="remove it and add the profile again")
            document = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            known = ", ".join(self.names()) or "none yet"
            raise BrokerError(f"no profile named {name}",
                              hint=f"profiles here: {known}; a person adds one with blastdoor profile add") from None  # fmt: skip
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise BrokerError(f"cannot read profile {name}: {error}",
                              hint="remove the file and add the profile again") from None  # fmt: skip
        return self._open(name, document)

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(path.stem for path in self.folder.glob("*.json"))

    def remove(self, name: str) -> None:
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            raise BrokerError(f"no profile named {name}", hint="blastdoor profile list shows them") from None

    def _open(self, name: str, document: Any) -> Profile:
        broken = BrokerError(f"profile {name} was changed after it was stored (or the broker key was replaced); it is not used",
                             hint=f"a person adds it again: blastdoor profile add {name} ... --replace")  # fmt: skip
        try:
            clear = document["profile"]
            if document.get("v") != FORMAT or clear.get("name") != name:
                raise broken
            values = AESGCM(self._key(create=False)).decrypt(
                _unb64(document["nonce"]), _unb64(document["sealed"]), _aad(clear)
            )
            return Profile.from_public(clear, json.loads(values))
        except (InvalidTag, KeyError, TypeError, ValueError, AttributeError):
            raise broken from None

    def _path(self, name: str) -> Path:
        return self.folder / f"{check_name(name)}.json"

    def _key(self, *, create: bool) -> bytes:
        try:
            key = self.key_path.read_bytes()
        except FileNotFoundError:
            if not create:
                raise BrokerError(f"the broker key {self.key_path} is missing, so no stored profile can be opened",
                                  hint="restore it from a backup, or add the profiles again") from None  # fmt: skip
            self.key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(random.token_bytes(KEY_BYTES))
            key = self.key_path.read_bytes()
        if len(key) != KEY_BYTES:
            raise BrokerError(f"the broker key {self.key_path} is not {KEY_BYTES} bytes",
                              hint="restore it from a backup, or remove it and add the profiles again")  # fmt: skip
        return key


def _aad(clear: Any) -> bytes:
    return json.dumps(clear, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: Any) -> bytes:
    return base64.b64decode(str(text), validate=True)

