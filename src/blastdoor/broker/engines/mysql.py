"""MySQL and MariaDB: statements planned with the analysis's MySQL parser (broker/mysql_plan.py),
run one statement per query (broker/mysql_sql.py), saved and restored as row copies in the
``blastdoor_snapshots`` database and ``mysqldump`` files (broker/mysql_snapshot.py), estimated by
the optimizer (broker/mysql_estimate.py), and backups proven by restoring a ``mysqldump`` into a
throwaway database (broker/mysql_backup.py). Its programs
read the connection, password included, from an option file of mode 0600 in a private temporary
folder that is removed after the run (broker/mysql_connect.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from blastdoor.broker import client_tools
from blastdoor.broker.engines import MYSQL, Engine, ServerEngine
from blastdoor.broker.errors import BrokerError
from blastdoor.broker.mysql_connect import Server, server

if TYPE_CHECKING:
    from blastdoor.analyze.sql_estimate import RowEstimate
    from blastdoor.broker.backup_verify import Proof
    from blastdoor.broker.dumps import Dump
    from blastdoor.broker.scrub import Scrubber
    from blastdoor.broker.snapshot import Snapshots
    from blastdoor.broker.snapshot_plan import Part, Plan
    from blastdoor.broker.sql_run import SqlOutcome

INSTALL = "install the MariaDB or MySQL client tools (Debian: mariadb-client)"


def engine(url: str) -> MySQL:
    return MySQL(url)


class MySQL(ServerEngine):
    name, title = MYSQL, "MySQL / MariaDB"

    def __init__(self, url: str = "", *, server: Server | None = None) -> None:
        self.url = url
        if server is not None:
            self.__dict__["server"] = server  # given, not read from the URL

    @cached_property
    def server(self) -> Server:
        """The server the URL names, read when first needed (BrokerError when it cannot be)."""
        return server(self.url)

    def plan(self, text: str) -> Plan:
        from blastdoor.broker.mysql_plan import plan

        return plan(text)

    def estimate(self, text: str) -> list[RowEstimate]:
        from blastdoor.broker.mysql_estimate import estimate

        try:
            target = self.server
        except BrokerError:
            return []  # a URL that cannot be read gets no estimate; running it says why
        return estimate(target, text)

    def run(self, text: str, *, tags: Mapping[str, str], scrubber: Scrubber, out: BinaryIO,
            guard_key: Callable[[str], str]) -> SqlOutcome:  # fmt: skip
        from blastdoor.broker.mysql_sql import run_mysql

        return run_mysql(self.url, text, tags=tags, scrubber=scrubber, out=out)

    def identity(self) -> dict[str, str]:
        from blastdoor.broker import mysql_snapshot

        return mysql_snapshot.identity(self)

    def take(self, snapshots: Snapshots, manifest: dict[str, Any], parts: tuple[Part, ...]) -> None:
        from blastdoor.broker import mysql_snapshot

        mysql_snapshot.take(self, snapshots, manifest, parts)

    def check(self, snapshots: Snapshots, manifest: Mapping[str, Any]) -> None:
        from blastdoor.broker import mysql_snapshot

        mysql_snapshot.check(self, snapshots, manifest)

    def restore(self, snapshots: Snapshots, manifest: Mapping[str, Any]) -> Iterator[str]:
        from blastdoor.broker import mysql_snapshot

        return mysql_snapshot.restore(self, snapshots, manifest)

    def read_dump(self, path: Path) -> Dump:
        from blastdoor.broker import mysql_backup

        return mysql_backup.read_dump(path)

    def verify_backup(self, dump: Dump, *, scratch: Engine | None, tolerance: float, max_age_hours: int,
                      clean: Callable[[str], str]) -> Proof:  # fmt: skip
        from blastdoor.broker import mysql_backup

        server = self.scratch_of(scratch)
        return mysql_backup.verify(self, dump, scratch=server.server if server else None, tolerance=tolerance,
                                   max_age_hours=max_age_hours, clean=clean)  # fmt: skip

    def tool(self, names: Sequence[str], args: Sequence[str], *, doing: str, stdin: IO[bytes] | None = None,
             timeout: float = client_tools.TOOL_SECONDS) -> client_tools.Ran:  # fmt: skip
        program = client_tools.find(names, doing=doing, install=INSTALL)
        with tempfile.TemporaryDirectory(prefix="blastdoor-mysql-") as folder:
            options = self.server.option_file(Path(folder), program=program)
            return client_tools.run(program, [f"--defaults-file={options}", *args], doing=doing, stdin=stdin, timeout=timeout)

