"""PostgreSQL dump files: which one is newest, what format it is, when it was made, and whether a
plain one is safe to hand to ``psql``.

Formats (``pg_dump --format``): *custom* files start with ``PGDMP``; *directory* dumps are folders
holding ``toc.dat``; *tar* archives hold ``toc.dat`` as a member; *plain* dumps are SQL text. The
first three carry their creation time in their table of contents (``pg_restore -l`` prints
``Archive created at ...``), which is what the age of a backup is measured from; a plain dump only
has its file time, and the proof says so.

A plain dump is a psql script, and psql scripts can run shell commands (``\\!``), read files and
connect to other databases (``\\connect``): restoring a hostile or ``--create`` dump into a scratch
database could reach the real one. So a plain dump is read first as psql reads it, and one with
any psql meta-command outside quotes, comments and COPY data (other than the
``\\restrict``/``\\unrestrict`` lines pg_dump itself writes) is refused (broker/psql_script.py).

A script dump (plain SQL here, mysqldump's in broker/mysql_backup.py) may be stored gzipped, as
backup jobs often pipe it (``pg_dump | gzip``): :func:`opened` reads it through ``gzip`` as it
streams, so nothing is unpacked to disk and a corrupt or cut file is one line (:data:`UNREADABLE`).
"""

from __future__ import annotations

import contextlib
import gzip
import re
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, cast

from blastdoor.broker import client_tools, psql_script
from blastdoor.broker.errors import BrokerError
from blastdoor.files import sha256_of

CUSTOM, DIRECTORY, TAR, PLAIN = "custom", "directory", "tar", "plain"
_CREATED = re.compile(r"^;\s*Archive created at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?: (\S+))?", re.MULTILINE)
MAX_DUMPS_LISTED = 10_000
GZIP_MAGIC = b"\x1f\x8b"
UNREADABLE = (OSError, EOFError, zlib.error)  # what reading a (gzipped) dump can raise: gzip's BadGzipFile is an OSError


def gzipped(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


@contextlib.contextmanager
def opened(path: Path) -> Iterator[IO[bytes]]:
    """``path`` to read, unpacked as it is read when it is gzipped."""
    with gzip.open(path, "rb") if gzipped(path) else path.open("rb") as handle:
        yield cast(IO[bytes], handle)


@dataclass(frozen=True)
class Dump:
    path: Path
    format: str
    created: datetime  # UTC
    created_from: str  # "archive" (its table of contents) or "file time"
    sha256: str
    bytes: int
    source: str = ""  # where it was fetched from when not a local file (s3://BUCKET/KEY#VERSION, rds:...)

    def describe(self) -> dict[str, object]:
        where = {"source": self.source} if self.source else {"path": str(self.path)}
        return {**where, "format": self.format, "created": self.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "created_from": self.created_from, "sha256": self.sha256, "bytes": self.bytes}  # fmt: skip


def newest(where: Path, *, read: Callable[[Path], Dump]) -> Dump:
    """The dump ``where`` names: the file or dump folder itself, or the newest dump inside a folder
    of dumps (by file time), as ``read`` (the engine's) makes it out, its creation time included."""
    try:
        if not where.exists():
            raise BrokerError(f"{where} does not exist", hint="name a dump file or the folder the backups are written to")
        if where.is_dir() and not (where / "toc.dat").is_file():
            candidates = [p for p in _listed(where) if p.is_file() or (p / "toc.dat").is_file()]
            if not candidates:
                raise BrokerError(f"no dump in {where}", hint="point --dump at the folder the dumps are written to, or at one dump file")
            where = max(candidates, key=lambda p: p.stat().st_mtime)
    except OSError as error:
        raise BrokerError(f"cannot read {where}: {error.strerror or error}", hint="check the path and its permissions") from None
    return read(where)


def read(path: Path) -> Dump:
    """What PostgreSQL dump ``path`` is, when it was made and its digest (BrokerError when it is none)."""
    try:
        kind = _format(path)
        digest, size = _digest(path)
        stamp = path.stat().st_mtime
    except OSError as error:
        raise BrokerError(f"cannot read {path}: {error.strerror or error}", hint="check the path and its permissions") from None
    created = archive_time(path) if kind != PLAIN else None
    return Dump(path=path, format=kind, created=created or datetime.fromtimestamp(stamp, UTC),
                created_from="archive" if created else "file time", sha256=digest, bytes=size)  # fmt: skip


def archive_time(path: Path) -> datetime | None:
    """The creation time a custom, tar or directory dump records (``pg_restore -l``)."""
    from blastdoor.broker.engines.postgresql import INSTALL

    doing = f"read the dump {path.name}"
    listed = client_tools.run(client_tools.find(["pg_restore"], doing=doing, install=INSTALL), ["--list", str(path)],
                              doing=doing, timeout=600)  # fmt: skip
    if listed.code is None:
        raise BrokerError(f"pg_restore --list failed on {path.name}: {listed.unfinished}", hint="check that it is a pg_dump archive")
    if not listed.ok:
        raise BrokerError(f"{path.name} is not a dump pg_restore can read: {listed.said()}",
                          hint="the file may be truncated or not a pg_dump archive")  # fmt: skip
    found = _CREATED.search(listed.stdout.decode("utf-8", "replace"))
    if not found or (found.group(2) or "UTC") not in ("UTC", "GMT", "+00", "Z"):
        return None  # another time zone: fall back to the file time rather than guess
    return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def check_plain(path: Path) -> None:
    """Refuse a plain dump that would make psql do more than run SQL in the scratch database
    (broker/psql_script.py)."""
    try:
        with opened(path) as handle:
            psql_script.check(handle, path.name)
    except UNREADABLE as error:
        raise unreadable(path, error) from None


def unreadable(path: Path, error: BaseException) -> BrokerError:
    """The one line for a dump that could not be read to its end."""
    said = getattr(error, "strerror", None) or str(error) or "the compressed data ends early"
    return BrokerError(f"cannot read {path}: {said}", hint="check the path and its permissions, and that the file is whole")


def _listed(folder: Path) -> list[Path]:
    found = []
    for index, entry in enumerate(folder.iterdir()):
        if index >= MAX_DUMPS_LISTED:
            raise BrokerError(f"{folder} holds more than {MAX_DUMPS_LISTED:,} entries", hint="point --dump at one dump file")
        if not entry.name.startswith("."):
            found.append(entry)
    return found


def _format(path: Path) -> str:
    if path.is_dir():
        return DIRECTORY
    if not path.is_file():
        raise BrokerError(f"{path} is not a regular file or dump folder", hint="name a pg_dump file")
    try:
        with opened(path) as handle:
            head = handle.read(8192)
    except UNREADABLE as error:
        raise unreadable(path, error) from None
    if gzipped(path) and (head.startswith(b"PGDMP") or b"\0" in head):
        raise BrokerError(f"{path.name} is a gzipped archive", hint="pg_restore reads only its own compression: unpack it first")
    if head.startswith(b"PGDMP"):
        return CUSTOM
    if len(head) > 262 and head[257:262] == b"ustar":
        try:
            with tarfile.open(path) as archive:
                if "toc.dat" in archive.getnames():
                    return TAR
        except (tarfile.TarError, OSError):
            pass
        raise BrokerError(f"{path.name} is a tar archive but not a pg_dump one", hint="name a pg_dump file")
    if b"\0" in head or not head.strip():
        raise BrokerError(f"{path.name} is not a PostgreSQL dump (empty or binary)", hint="name a pg_dump file")
    text = head.decode("utf-8", errors="replace")
    if "PostgreSQL database dump" not in text:
        raise BrokerError(f"{path.name} is text but not a pg_dump script", hint="name a pg_dump file")
    return PLAIN


def _digest(path: Path) -> tuple[str, int]:
    """A dump file's digest, or a directory dump's over its files in name order."""
    return sha256_of(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
