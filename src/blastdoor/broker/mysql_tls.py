"""TLS to a MySQL or MariaDB server, asked for in the profile's URL with the options MySQL's own
clients take: ``?ssl-mode=VERIFY_IDENTITY&ssl-ca=/etc/ssl/db-ca.pem`` (``ssl_mode``, ``ssl_ca`` ...
are the same options, as in MySQL option files).

``ssl-mode`` is one of:

- ``DISABLED``: no TLS;
- ``PREFERRED``: TLS when the server offers it, unverified (what PyMySQL does when the URL says
  nothing about TLS);
- ``REQUIRED``: TLS or no connection, the certificate not verified (a passive eavesdropper learns
  nothing; an active one in the middle is not stopped);
- ``VERIFY_CA``: and the server's certificate must be signed by ``ssl-ca`` (the system's
  authorities without one);
- ``VERIFY_IDENTITY``: and name the host the URL names.

``ssl-ca`` without ``ssl-mode`` means ``VERIFY_CA`` (a CA given is a CA to check against);
``ssl-cert`` / ``ssl-key`` (a client certificate) without it mean ``REQUIRED``. Paths must be
absolute: the broker has no working folder of its own.

The broker's own connection (PyMySQL) enforces the mode. The command-line programs get it in their
option file, as each kind reads it: MySQL's as ``ssl-mode``; MariaDB's (10.x, 11.x), which have no
``ssl-mode``, as ``ssl-verify-server-cert`` for the two VERIFY modes (which then also check the
host name) and ``skip-ssl`` for ``DISABLED``. MariaDB's programs cannot require TLS without
verifying the certificate, so under ``REQUIRED`` they use TLS whenever the server offers it; the
broker's own connection, which requires it, has always just been made to the same server.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from blastdoor.broker.errors import BrokerError

DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY = "DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"
MODES = (DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY)
OPTIONS = ("ssl-mode", "ssl-ca", "ssl-cert", "ssl-key")
_FIX = "a person stores the URL again with blastdoor profile add ... --replace"


@dataclass(frozen=True, kw_only=True)
class Tls:
    mode: str = ""  # '' when the URL says nothing: PyMySQL's own default, the programs' own default
    ca: str = ""
    cert: str = ""
    key: str = ""

    @classmethod
    def of(cls, options: Mapping[str, str]) -> Tls:
        """The TLS a URL's query options ask for (``ssl-*`` names, ``_`` or ``-``, already
        normalised to ``-``); BrokerError for a mode or a combination that makes no sense."""
        mode = options.get("ssl-mode", "").strip().upper().replace("-", "_")
        if mode and mode not in MODES:
            raise BrokerError(f"the profile's MySQL URL asks for ssl-mode={mode[:30]}, which MySQL does not have",
                              hint=f"use one of {', '.join(MODES)}; {_FIX}")  # fmt: skip
        ca, cert, key = (options.get(f"ssl-{name}", "") for name in ("ca", "cert", "key"))
        for name, path in (("ssl-ca", ca), ("ssl-cert", cert), ("ssl-key", key)):
            if path and not Path(path).is_absolute():
                raise BrokerError(f"the profile's MySQL URL names {name} as the relative path {path[:100]}",
                                  hint=f"give the absolute path; {_FIX}")  # fmt: skip
        if key and not cert:
            raise BrokerError("the profile's MySQL URL names ssl-key without ssl-cert", hint=f"give both; {_FIX}")
        if mode in (DISABLED, PREFERRED) and (ca or cert):
            raise BrokerError(f"the profile's MySQL URL names certificates with ssl-mode={mode}, which would not check them",
                              hint=f"use ssl-mode=REQUIRED, VERIFY_CA or VERIFY_IDENTITY; {_FIX}")  # fmt: skip
        if not mode and (ca or cert):
            mode = VERIFY_CA if ca else REQUIRED
        return cls(mode=mode, ca=ca, cert=cert, key=key)

    @property
    def required(self) -> bool:
        return self.mode in (REQUIRED, VERIFY_CA, VERIFY_IDENTITY)

    def pymysql(self) -> dict[str, Any]:
        """PyMySQL's connection arguments for this mode (BrokerError when a file cannot be read)."""
        if self.mode == DISABLED:
            return {"ssl_disabled": True}
        if not self.required:
            return {}
        import ssl

        try:
            context = ssl.create_default_context(cafile=self.ca or None)
            context.check_hostname = self.mode == VERIFY_IDENTITY
            context.verify_mode = ssl.CERT_NONE if self.mode == REQUIRED else ssl.CERT_REQUIRED
            if self.cert:
                context.load_cert_chain(self.cert, keyfile=self.key or None)
        except (OSError, ssl.SSLError) as error:
            raise BrokerError(f"cannot read the TLS files the profile's MySQL URL names: {getattr(error, 'strerror', None) or error}",
                              hint=f"check {', '.join(p for p in (self.ca, self.cert, self.key) if p)}") from None  # fmt: skip
        return {"ssl": context}  # an SSLContext: PyMySQL refuses a server without TLS

    def options(self, program: str) -> list[tuple[str, str]]:
        """The option file's (name, value) pairs for ``program`` (MySQL's or MariaDB's kind); a
        flag's value is ''."""
        if not self.mode:
            return []
        files = [(f"ssl-{name}", value) for name, value in (("ca", self.ca), ("cert", self.cert), ("key", self.key)) if value]
        if not is_mariadb(program):
            return [("ssl-mode", self.mode), *files]
        if self.mode == DISABLED:
            return [("skip-ssl", "")]
        if self.mode == PREFERRED:
            return []
        verify = "ssl-verify-server-cert" if self.mode != REQUIRED else "skip-ssl-verify-server-cert"
        return [("ssl", ""), (verify, ""), *files]


@cache
def is_mariadb(program: str) -> bool:
    """Whether ``program`` is one of MariaDB's (``mysqldump`` is often MariaDB's under that name)."""
    try:
        said = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "mariadb" in Path(program).name
    return "mariadb" in said.lower()
