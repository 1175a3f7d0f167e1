"""Where snapshots are kept: ``HOME/snapshots/ID.json``, the manifest of each, and beside it
what the engine saved (``HOME/snapshots/ID/`` for dump files, ``ID.sqlite3`` for a SQLite copy;
rows copied inside the database are named in the manifest).

A manifest lists the parts; it is written as ``taking`` before the first part and ``taken`` after
the last, so a broker that died in between leaves a manifest that says so. Its ``kind`` names the
engine that took it (broker/engines/; a manifest without one is PostgreSQL's, from before kinds
were written), and its ``identity`` the database it was taken in (``Engine.identity``): a restore
puts it back there only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from blastdoor.broker.errors import BrokerError
from blastdoor.files import write_atomic

TAKING, TAKEN, RESTORED = "taking", "taken", "restored"


class Snapshots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def manifest_path(self, snapshot: str) -> Path:
        if not snapshot.startswith("s-") or not snapshot[2:].replace("-", "").isalnum() or len(snapshot) > 40:
            raise BrokerError(f"{snapshot[:60]!r} is not a snapshot id", hint="snapshot ids look like s-1a2b3c4d5e6f")
        return self.folder / f"{snapshot}.json"

    def read(self, snapshot: str) -> dict[str, Any]:
        path = self.manifest_path(snapshot)
        try:
            data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise BrokerError(f"no snapshot {snapshot}", hint=f"snapshots are listed in {self.folder}") from None
        except (OSError, ValueError) as error:
            raise BrokerError(f"cannot read snapshot {snapshot}: {error}", hint="the manifest is damaged") from None
        return data

    def write(self, manifest: Mapping[str, Any]) -> str:
        """Write the manifest atomically; its sha256 (for the ledger)."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        path = self.manifest_path(str(manifest["id"]))
        write_atomic(path, text)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def check_files(target: str, files: Sequence[Path], sha256: object) -> None:
    """Raise (:func:`unrestorable`) unless every saved file of ``target`` is there with the sha256
    recorded for them when they were saved."""
    from blastdoor.files import sha256_of

    missing = [file for file in files if not file.is_file()]
    if missing:
        raise unrestorable(f"the saved copy of {target}: {missing[0]} is gone")
    if sha256_of(list(files))[0] != sha256:
        raise unrestorable(f"the saved copy of {target}: {', '.join(map(str, files))} changed since it was saved")


def check_rows(target: str, copy: str, digest: str | None, recorded: object) -> None:
    """Raise (:func:`unrestorable`) unless the row copy ``copy`` of ``target`` is there (``digest``
    is its digest now, None when it is gone) with the digest recorded when it was taken."""
    if digest is None:
        raise unrestorable(f"the saved rows of {target} ({copy}) are gone")
    if digest != recorded:
        raise unrestorable(f"the saved rows of {target} ({copy}) changed since they were taken")


def split_name(name: str, *, quote: str) -> list[str]:
    """A qualified name (``schema.table``, each part quoted with ``quote`` where needed, a quote
    inside doubled) → its parts, unquoted."""
    import csv

    return next(csv.reader([name], delimiter=".", quotechar=quote))


def unrestorable(problem: str) -> BrokerError:
    """The error of a snapshot whose saved parts are not as they were saved (found before anything
    was put back)."""
    return BrokerError(problem, hint="nothing was restored; check the saved copy, and restore by hand if it is right")


def rows_digest(columns: Sequence[tuple[str, str]], rows: bytes) -> str:
    """A row copy's digest: the sha256 of its columns (each name and type, in order) and of ``rows``,
    the sha256 of its rows' sha256s sorted as bytes (each engine has the server make those). The
    columns count: values swapped between two columns by renaming them would go back swapped."""
    listed = json.dumps([[name, kind] for name, kind in columns]).encode()
    return "sha256:" + hashlib.sha256(listed + b"\n" + rows).hexdigest()
