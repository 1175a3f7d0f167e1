"""SQLite: one file is the whole database, so what a statement may destroy is saved as a copy of the
file, whole (broker/sqlite_sql.py), whenever the judged text changes anything; statements run in
one transaction. SQLite has no server, no password and no planner estimate Blastdoor reads, and
Blastdoor does not yet prove SQLite backups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from blastdoor.broker.engines import SQLITE, Engine
from blastdoor.broker.errors import BrokerError
from blastdoor.broker.snapshot_plan import Part, Plan
from blastdoor.model import Verb

if TYPE_CHECKING:
    from blastdoor.analyze.sql_estimate import RowEstimate
    from blastdoor.broker.backup_verify import Proof
    from blastdoor.broker.dumps import Dump
    from blastdoor.broker.scrub import Scrubber
    from blastdoor.broker.snapshot import Snapshots
    from blastdoor.broker.sql_run import SqlOutcome
    from blastdoor.model import Effect

WHOLE = Part(kind="database", change="any change", relation="")
_CHANGES = (Verb.MODIFY, Verb.DELETE, Verb.DESTROY)


def engine(url: str) -> SQLite:
    return SQLite(url)


class SQLite:
    name = SQLITE

    def __init__(self, url: str) -> None:
        self.url = url

    def plan(self, text: str) -> Plan:
        return Plan()  # nothing to read: the file is saved whole

    def to_save(self, planned: Plan, effects: Sequence[Effect]) -> tuple[Part, ...]:
        return (WHOLE,) if any(found.verb in _CHANGES for found in effects) else ()

    def estimate(self, text: str) -> list[RowEstimate]:
        return []

    def run(self, text: str, *, tags: Mapping[str, str], scrubber: Scrubber, out: BinaryIO,
            guard_key: Callable[[str], str]) -> SqlOutcome:  # fmt: skip
        from blastdoor.broker.sqlite_sql import run_sqlite

        return run_sqlite(self.url, text, scrubber=scrubber, out=out)

    def identity(self) -> dict[str, str]:
        import os

        from blastdoor.broker.sqlite_sql import database_path

        return {"file": os.path.realpath(database_path(self.url))}

    def take(self, snapshots: Snapshots, manifest: dict[str, Any], parts: tuple[Part, ...]) -> None:
        from blastdoor.broker.sqlite_sql import save_copy

        snapshots.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        manifest["parts"].append(save_copy(self.url, snapshots.folder / f"{manifest['id']}.sqlite3"))
        snapshots.write(manifest)

    def check(self, snapshots: Snapshots, manifest: Mapping[str, Any]) -> None:
        from blastdoor.broker.snapshot import check_files

        for saved in manifest["parts"]:
            check_files(saved["target"], [_copy(snapshots, saved)], saved["sha256"])

    def restore(self, snapshots: Snapshots, manifest: Mapping[str, Any]) -> Iterator[str]:
        from blastdoor.broker.sqlite_sql import restore_copy

        for saved in manifest["parts"]:
            yield restore_copy(self.url, _copy(snapshots, saved))

    def read_dump(self, path: Path) -> Dump:
        raise _no_backups()

    def verify_backup(self, dump: Dump, *, scratch: Engine | None, tolerance: float, max_age_hours: int,
                      clean: Callable[[str], str]) -> Proof:  # fmt: skip
        raise _no_backups()


def _copy(snapshots: Snapshots, saved: Mapping[str, Any]) -> Path:
    return snapshots.folder / Path(str(saved["file"])).name


def _no_backups() -> BrokerError:
    return BrokerError("Blastdoor cannot verify the backups of a SQLite database yet",
                       hint="check a copy by hand: sqlite3 COPY 'PRAGMA integrity_check'")  # fmt: skip
