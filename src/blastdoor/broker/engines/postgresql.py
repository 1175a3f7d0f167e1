"""PostgreSQL: statements planned with PostgreSQL's own parser (broker/snapshot_plan.py), run in one
transaction (broker/sql_run.py), saved and restored as rows in the database and ``pg_dump`` files
(broker/pg_snapshot.py), estimated by the planner (analyze/sql_estimate.py), and backups proven
with ``pg_restore`` (broker/pg_backup.py). Its programs get the password as ``PGPASSWORD``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from blastdoor.broker import client_tools
from blastdoor.broker.engines import POSTGRESQL, Engine, ServerEngine
from blastdoor.broker.errors import BrokerError

if TYPE_CHECKING:
    from blastdoor.analyze.sql_estimate import RowEstimate
    from blastdoor.broker.backup_verify import Proof
    from blastdoor.broker.dumps import Dump
    from blastdoor.broker.scrub import Scrubber
    from blastdoor.broker.snapshot import Snapshots
    from blastdoor.broker.snapshot_plan import Part, Plan
    from blastdoor.broker.sql_run import SqlOutcome

INSTALL = "install the PostgreSQL client tools (Debian: postgresql-client) matching the server's version"


def engine(url: str) -> PostgreSQL:
    return PostgreSQL(url)


class PostgreSQL(ServerEngine):
    name, title = POSTGRESQL, "PostgreSQL"

    def __init__(self, url: str) -> None:
        self.url = url  # a postgresql:// URL or a libpq keyword string

    def plan(self, text: str) -> Plan:
        from blastdoor.broker.snapshot_plan import plan

        return plan(text)

    def estimate(self, text: str) -> list[RowEstimate]:
        from blastdoor.analyze.sql_estimate import estimate

        return estimate(self.url, text)

    def run(self, text: str, *, tags: Mapping[str, str], scrubber: Scrubber, out: BinaryIO,
            guard_key: Callable[[str], str]) -> SqlOutcome:  # fmt: skip
        from blastdoor.broker.sql_run import run_sql

        return run_sql(self.url, text, tags=tags, scrubber=scrubber, out=out, guard_key=guard_key)

    def identity(self) -> dict[str, str]:
        from blastdoor.broker import pg_snapshot

        return pg_snapshot.identity(self)

    def take(self, snapshots: Snapshots, manifest: dict[str, Any], parts: tuple[Part, ...]) -> None:
        from blastdoor.broker import pg_snapshot

        pg_snapshot.take(self, snapshots, manifest, parts)

    def check(self, snapshots: Snapshots, manifest: Mapping[str, Any]) -> None:
        from blastdoor.broker import pg_snapshot

        pg_snapshot.check(self, manifest)

    def restore(self, snapshots: Snapshots, manifest: Mapping[str, Any]) -> Iterator[str]:
        from blastdoor.broker import pg_snapshot

        return pg_snapshot.restore(self, manifest)

    def read_dump(self, path: Path) -> Dump:
        from blastdoor.broker import dumps

        return dumps.read(path)

    def verify_backup(self, dump: Dump, *, scratch: Engine | None, tolerance: float, max_age_hours: int,
                      clean: Callable[[str], str]) -> Proof:  # fmt: skip
        from blastdoor.broker import pg_backup

        server = self.scratch_of(scratch)
        return pg_backup.verify(self, dump, scratch=server.url if server else "", tolerance=tolerance,
                                max_age_hours=max_age_hours, clean=clean)  # fmt: skip

    def tool(self, names: Sequence[str], args: Sequence[str], *, doing: str, stdin: IO[bytes] | None = None,
             timeout: float = client_tools.TOOL_SECONDS) -> client_tools.Ran:  # fmt: skip
        program = client_tools.find(names, doing=doing, install=INSTALL)
        conninfo, secret_env = split_conninfo(self.url)
        return client_tools.run(program, [*args, f"--dbname={conninfo}"], doing=doing, env=secret_env, stdin=stdin,
                                timeout=timeout)  # fmt: skip


def split_conninfo(dsn: str) -> tuple[str, dict[str, str]]:
    """The connection string without its password, and the environment that carries it (so the
    password never appears in a child's argv, where ``ps`` would show it)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    except Exception:
        raise BrokerError("the profile's database URL cannot be read",
                          hint="a person stores it again with blastdoor profile add ... --replace") from None  # fmt: skip
    secret_env = {variable: params.pop(key) for key, variable in (("password", "PGPASSWORD"), ("sslpassword", "PGSSLPASSWORD"))
                  if params.get(key)}  # fmt: skip
    return make_conninfo(**params), secret_env
