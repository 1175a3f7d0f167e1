"""Reaching a MySQL or MariaDB server from a profile's ``mysql://`` / ``mariadb://`` URL.

``mysql://USER:PASSWORD@HOST:PORT/DATABASE?unix_socket=PATH&charset=NAME&ssl-mode=...``: the user,
password and database are percent-decoded (RFC 3986); the port defaults to 3306. TLS is asked for
with MySQL's own option names (``ssl-mode``, ``ssl-ca``, ``ssl-cert``, ``ssl-key``; ``_`` or ``-``:
broker/mysql_tls.py). Any other query parameter is refused rather than ignored: a setting a person
wrote must never be quietly dropped.

The broker talks to the server with PyMySQL (pure Python). ``mysqldump`` / ``mariadb-dump`` and
the ``mysql`` / ``mariadb`` client get the connection from an option file of their own
(:meth:`Server.option_file`, passed as ``--defaults-file`` by broker/engines/mysql.py), never in
argv, where ``ps`` would show the password; that file is also the only one they read, so no
``~/.my.cnf`` adds to or changes the connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from blastdoor.broker.errors import BrokerError
from blastdoor.broker.mysql_tls import OPTIONS, Tls
from blastdoor.errors import error_line, first_line

_PARAMETERS = ("unix_socket", "charset", *OPTIONS)
FIX = "a person stores it again with blastdoor profile add ... --replace"


@dataclass(frozen=True, kw_only=True)
class Server:
    """Where a MySQL URL points, parsed once (``repr`` leaves the password out)."""

    host: str = "localhost"
    port: int = 3306
    user: str = ""
    password: str = ""
    database: str = ""
    unix_socket: str = ""
    charset: str = "utf8mb4"
    tls: Tls = field(default_factory=Tls)

    def __repr__(self) -> str:
        return f"Server({self.user}@{self.host}:{self.port}/{self.database})"

    def connect(self, *, program: str, database: bool = True) -> Any:
        """A PyMySQL connection (autocommit off; only one statement per query, the server's own
        rule without CLIENT_MULTI_STATEMENTS; ``LOAD DATA LOCAL`` off). Raises BrokerError with
        the server's message, which never holds the password."""
        import pymysql
        from pymysql.constants import CLIENT

        try:
            return pymysql.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                                   database=(self.database or None) if database else None,
                                   unix_socket=self.unix_socket or None, charset=self.charset,
                                   client_flag=CLIENT.FOUND_ROWS, autocommit=False, local_infile=False,
                                   connect_timeout=10, program_name=program, **self.tls.pymysql())  # fmt: skip
        except pymysql.Error as error:
            raise BrokerError(f"cannot connect to {self.where()}: {describe(error)}",
                              hint="check the profile's URL, and that the server is running") from None  # fmt: skip

    def where(self) -> str:
        place = self.unix_socket or f"{self.host}:{self.port}"
        return f"MySQL at {place}" + (f" (database {self.database})" if self.database else "")

    def option_file(self, folder: Path, *, program: str) -> Path:
        """The ``[client]`` option file ``program`` reads instead of any other."""
        lines = ["[client]", f"user={_quoted(self.user)}", f"password={_quoted(self.password)}",
                 f"default-character-set={self.charset}"]  # fmt: skip
        if self.unix_socket:
            lines += ["protocol=socket", f"socket={_quoted(self.unix_socket)}"]
        else:  # TCP, as PyMySQL uses (the client would take a socket for "localhost")
            lines += ["protocol=tcp", f"host={_quoted(self.host)}", f"port={self.port}"]
        lines += [f"{name}={_quoted(value)}" if value else name for name, value in self.tls.options(program)]
        path = folder / "client.cnf"
        path.touch(mode=0o600)
        path.write_text("\n".join(lines) + "\n", "utf-8")
        return path


def server(dsn: str) -> Server:
    """The server a ``mysql://`` or ``mariadb://`` URL names (BrokerError when it cannot be read;
    the message never repeats the URL, which holds the password)."""
    try:
        parts = urlsplit(dsn)
        port = parts.port or 3306
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise BrokerError("the profile's MySQL URL cannot be read", hint=FIX) from None
    options = {name.replace("_", "-") if name.startswith("ssl") else name: value for name, value in query}
    unknown = sorted(set(options) - set(_PARAMETERS))
    if unknown or len(options) != len(query):
        raise BrokerError(f"the profile's MySQL URL has parameters Blastdoor does not read: {', '.join(unknown) or 'repeated ones'}",
                          hint=f"it reads {', '.join(_PARAMETERS)} (ssl_* may be written with _); {FIX}")  # fmt: skip
    database = unquote(parts.path.lstrip("/"))
    if "/" in database:
        raise BrokerError("the profile's MySQL URL names a path, not a database", hint="store it as mysql://USER:PASSWORD@HOST:PORT/DATABASE")
    return Server(host=parts.hostname or "localhost", port=port, user=unquote(parts.username or ""),
                  password=unquote(parts.password or ""), database=database,
                  unix_socket=options.get("unix_socket", ""), charset=options.get("charset") or "utf8mb4",
                  tls=Tls.of(options))  # fmt: skip


def describe(error: BaseException) -> str:
    """A PyMySQL error in one line: ``(code) message``."""
    args: tuple[Any, ...] = tuple(getattr(error, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int):
        return first_line(f"({args[0]}) {args[1]}", limit=500)
    return error_line(error)


def dump_programs(version: str) -> tuple[str, str]:
    """The dump tool names to try, the server's own kind first."""
    return ("mariadb-dump", "mysqldump") if "mariadb" in version.lower() else ("mysqldump", "mariadb-dump")


def client_programs(version: str) -> tuple[str, str]:
    return ("mariadb", "mysql") if "mariadb" in version.lower() else ("mysql", "mariadb")


def _quoted(value: str) -> str:
    """An option-file value in double quotes: the reader strips the outer pair only (a quote inside
    stays as it is) and undoes the backslash escapes ``\\\\ \\n \\r \\t``."""
    escaped = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def fetch(db: Any, query: str, args: Any = None) -> list[tuple[Any, ...]]:
    """Every row ``query`` returns on the PyMySQL connection ``db``."""
    with db.cursor() as cursor:
        cursor.execute(query, args)
        return list(cursor.fetchall())


def fetch_value(db: Any, query: str, args: Any = None) -> str:
    """The first column of the first row ``query`` returns, as text ('' for no row)."""
    found = fetch(db, query, args)
    return str(found[0][0]) if found else ""


def quote_name(name: str) -> str:
    """A MySQL identifier in backquotes (a backquote inside doubled)."""
    return "`" + name.replace("`", "``") + "`"
