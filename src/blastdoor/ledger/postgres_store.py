"""The team ledger store: PostgreSQL (``BLASTDOOR_DATABASE_URL=postgresql://...``), through psycopg 3.

Durability: a commit returns after PostgreSQL has flushed its WAL (``synchronous_commit`` on, the
server default). Writers from any number of machines are serialised by a transaction-scoped
advisory lock, and ``seq`` is the primary key, so the chain cannot fork. The tables live in the
schema named by the URL's ``schema`` parameter (default ``blastdoor``), which Blastdoor removes from
the URL before connecting: ``postgresql://user@host/db?schema=blastdoor_team``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from blastdoor.errors import error_line, first_line
from blastdoor.ledger.store import (
    APPROVAL_TABLES,
    PRUNE_EVERY,
    RESULTS_KEPT,
    Extender,
    Group,
    GroupExtender,
    LedgerError,
    Pending,
    Row,
    Store,
    StoredCheckpoint,
    edge,
    first_time,
    prune_below,
)

if TYPE_CHECKING:
    import psycopg
    from psycopg.pq.abc import PGresult

    from blastdoor.ledger.chain import Head

_LOCK_CLASS = 0x6C6467  # advisory lock namespace for "ldg"; the second key is the schema's hash
_APPEND_AFTER = b"blastdoor_append_after"  # the prepared statement's name on the store's connection
_APPEND_AFTER_TYPES = [20, 17, 25, 25]  # bigint, bytea, text, text (PostgreSQL's type ids)

# Migration 3: the ids noted with entries (store.py), and an append in one round trip for a writer
# that holds the ledger's end in memory: under the writers' lock, and only if the ledger still
# ends where the writer believes and none of the ids is noted yet; otherwise nothing happens and
# the writer appends the usual way. Old noted ids are removed as store.prune_below says. A VOLATILE
# function reads with a fresh snapshot per statement, so the checks see everything committed
# before the lock was granted. The entries come as one JSON array of [time, body, leaf hash, chain
# hash, nodes (hex), id or null], the cheapest parameter to send from Python (arrays of bytea and
# text cost twice the client's CPU).
APPEND_AFTER = f"""
        CREATE TABLE ledger_spooled (
            seq BIGINT PRIMARY KEY,
            id TEXT NOT NULL UNIQUE
        );
        CREATE FUNCTION ledger_append_after(after_seq BIGINT, after_chain BYTEA, lock_key TEXT, batch TEXT)
        RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
        DECLARE
            items JSONB := batch::jsonb;
            last_seq BIGINT;
            last_chain BYTEA;
            one TEXT;
        BEGIN
            PERFORM pg_advisory_xact_lock({_LOCK_CLASS}, hashtext(lock_key));
            SELECT seq, chain_hash INTO last_seq, last_chain FROM ledger_entries ORDER BY seq DESC LIMIT 1;
            IF COALESCE(last_seq, 0) <> after_seq OR (after_seq > 0 AND last_chain <> after_chain) THEN
                RETURN FALSE;
            END IF;
            -- one probe per id: "= ANY" was planned as a table scan while the table was new
            FOR one IN SELECT item->>5 FROM jsonb_array_elements(items) AS item WHERE item->>5 IS NOT NULL LOOP
                IF EXISTS (SELECT 1 FROM ledger_spooled WHERE id = one) THEN
                    RETURN FALSE;
                END IF;
            END LOOP;
            INSERT INTO ledger_entries (seq, time, body, leaf_hash, chain_hash, nodes)
                SELECT after_seq + k, item->>0, item->>1, decode(item->>2, 'hex'), decode(item->>3, 'hex'), decode(item->>4, 'hex')
                FROM jsonb_array_elements(items) WITH ORDINALITY AS x(item, k);
            INSERT INTO ledger_spooled (seq, id)
                SELECT after_seq + k, item->>5 FROM jsonb_array_elements(items) WITH ORDINALITY AS x(item, k)
                WHERE item->>5 IS NOT NULL
                ON CONFLICT (seq) DO UPDATE SET id = EXCLUDED.id;  -- a row left by an entry that was removed
            IF (after_seq + jsonb_array_length(items)) / {PRUNE_EVERY} <> after_seq / {PRUNE_EVERY} THEN
                EXECUTE 'DELETE FROM ledger_spooled WHERE seq < $1'  -- EXECUTE: planned with the value
                    USING after_seq + jsonb_array_length(items) - {RESULTS_KEPT};
            END IF;
            RETURN TRUE;
        END $$;
        """

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE ledger_entries (
            seq BIGINT PRIMARY KEY,
            time TEXT NOT NULL,
            body TEXT NOT NULL,
            leaf_hash BYTEA NOT NULL,
            chain_hash BYTEA NOT NULL,
            nodes BYTEA NOT NULL
        );
        CREATE INDEX ledger_entries_time ON ledger_entries (time);
        CREATE TABLE ledger_checkpoints (
            id BIGSERIAL PRIMARY KEY,
            size BIGINT NOT NULL,
            note TEXT NOT NULL
        );
        """,
    ),
    (2, APPROVAL_TABLES),
    (3, APPEND_AFTER),
)
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def split_url(url: str) -> tuple[str, str]:
    """The libpq URL without Blastdoor's ``schema`` parameter, and that schema."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), "blastdoor")
    if not _SCHEMA.match(schema):
        raise LedgerError(f"schema={schema!r} in the database URL is not a plain lower-case name",
                          hint="use letters, digits and _ only, e.g. schema=blastdoor")  # fmt: skip
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class PostgresStore(Store):
    appends_after_head = True

    def __init__(self, *, url: str, schema: str, connection: psycopg.Connection[Any]) -> None:
        self.url = _redacted(url)
        self._schema = schema
        self._db = connection
        self._append_after_prepared = False  # ledger_append_after's statement, prepared on first use

    @classmethod
    def open(cls, url: str) -> PostgresStore:
        import psycopg

        conninfo, schema = split_url(url)
        try:
            connection = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
        except (psycopg.Error, ValueError) as error:
            raise LedgerError(f"cannot connect to the ledger database {_redacted(url)}: {error_line(error)}",
                              hint="check BLASTDOOR_DATABASE_URL (host, port, user, password, database)") from None  # fmt: skip
        store = cls(url=url, schema=schema, connection=connection)
        with store._errors("open"):
            store._migrate()
        return store

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.Error as error:
            raise LedgerError(f"the ledger database {self.url} failed ({doing}): {error_line(error)}",
                              hint="check the server and the connection's permissions") from None  # fmt: skip

    @contextlib.contextmanager
    def _write(self) -> Iterator[psycopg.Cursor[Any]]:
        """One write transaction under the advisory lock, in pipeline mode: statements go out
        together and the client waits only where it reads a result (one round trip to take the
        lock and read the ledger's end, one to insert and commit)."""
        with self._db.pipeline(), self._db.transaction(), self._db.cursor() as cursor:
            cursor.execute(f"SET LOCAL search_path TO {self._schema}")
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_CLASS, self._schema)
            )
            yield cursor

    def _migrate(self) -> None:
        with self._db.transaction(), self._db.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_CLASS, self._schema)
            )
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {self._schema}")
            cursor.execute(f"SET LOCAL search_path TO {self._schema}")
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            cursor.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            current = int(cursor.fetchone()[0])  # type: ignore[index]
            if current > len(MIGRATIONS):
                raise LedgerError(f"the ledger {self.url} has schema version {current}, newer than this Blastdoor knows",
                                  hint="upgrade Blastdoor")  # fmt: skip
            for version, script in MIGRATIONS:
                if version > current:
                    cursor.execute(script.encode())
                    cursor.execute(
                        "INSERT INTO schema_migrations (version) VALUES (%s)", (version,)
                    )
        self._db.execute(f"SET search_path TO {self._schema}")

    def append(self, extend: Extender, frontier_seqs: Callable[[int], list[int]]) -> list[Row]:
        with self._errors("append"), self._write() as cursor:
            new = extend(*self._edge(cursor, self._last(cursor), frontier_seqs))
            self._insert(cursor, new)
        return new

    def append_once(self, items: Sequence[Pending], extend: GroupExtender,
                    frontier_seqs: Callable[[int], list[int]]) -> Group:  # fmt: skip
        ids = [item.id for item in items]
        with self._errors("append"), self._write() as cursor, self._db.cursor() as ending:
            cursor.execute("SELECT id, seq FROM ledger_spooled WHERE id = ANY(%s)", (ids,))
            last = self._last(ending)  # sent with the query above: one round trip for both
            noted = {str(i): int(seq) for i, seq in cursor.fetchall()}
            fresh, new = first_time(items, noted), []
            if fresh:
                new = extend(*self._edge(cursor, last, frontier_seqs), [(i.time, i.body) for i in fresh])
                self._insert(cursor, new)
                taken = list(zip((item.id for item in fresh), (row.seq for row in new[len(new) - len(fresh):]), strict=True))
                cursor.execute("DELETE FROM ledger_spooled WHERE seq >= %s", (new[0].seq,))  # left by removed entries
                if (below := prune_below(new[0].seq - 1, new[-1].seq)) is not None:  # not OR'ed: an OR scans the table
                    cursor.execute("DELETE FROM ledger_spooled WHERE seq < %s", (below,))
                cursor.executemany("INSERT INTO ledger_spooled (id, seq) VALUES (%s, %s)", taken)
                noted |= dict(taken)
            rows = {row.seq: row for row in new}
            earlier = [seq for seq in noted.values() if seq not in rows]
            rows |= self._rows(cursor, earlier) if earlier else {}
        if any(noted.get(i) not in rows for i in ids):
            raise LedgerError("an entry noted as appended is missing from the ledger", hint="run `blastdoor ledger verify`")
        return Group([rows[noted[i]] for i in ids], new)

    def append_after(self, head: Head, rows: Sequence[Row], ids: Sequence[str]) -> bool:
        """One statement, so one round trip and one commit (the connection is in autocommit). It
        goes through libpq directly, as a prepared statement with binary parameters: psycopg's
        own execute cost the appender, which makes this call for every batch, three times the CPU
        (~65 us a call against ~20, docs/benchmarks.md)."""
        import json

        noted = [None] * (len(rows) - len(ids)) + list(ids)  # the ids belong to the last rows
        batch = json.dumps([[r.time, r.body.decode("utf-8"), r.leaf_hash.hex(), r.chain_hash.hex(), r.nodes.hex(), i]
                            for r, i in zip(rows, noted, strict=True)], ensure_ascii=False)  # fmt: skip
        connection = self._db.pgconn  # idle: every other use of the connection ends its transaction
        if not self._append_after_prepared:
            self._check(connection.prepare(_APPEND_AFTER, b"SELECT ledger_append_after($1, $2, $3, $4)", _APPEND_AFTER_TYPES))
            self._append_after_prepared = True
        values = [head.size.to_bytes(8, "big", signed=True), head.chain, self._schema.encode(), batch.encode()]
        found = self._check(connection.exec_prepared(_APPEND_AFTER, values, [1, 1, 1, 1]))
        return bool(found.ntuples == 1 and found.get_value(0, 0) == b"t")

    def _check(self, result: PGresult) -> PGresult:
        """``result`` of a statement sent through libpq, or the one-line LedgerError it failed with."""
        from psycopg import pq

        if result.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
            message = (result.error_message or b"no answer").decode("utf-8", "replace").strip()
            raise LedgerError(f"the ledger database {self.url} failed (append): {first_line(message)}",
                              hint="check the server and the connection's permissions")  # fmt: skip
        return result

    @staticmethod
    def _last(cursor: psycopg.Cursor[Any]) -> psycopg.Cursor[Any]:
        """Ask for the last entry (its id is the ledger's size); read with :meth:`_edge`."""
        return cursor.execute("SELECT seq, time, body, leaf_hash, chain_hash, nodes FROM ledger_entries ORDER BY seq DESC LIMIT 1")

    @classmethod
    def _edge(cls, cursor: psycopg.Cursor[Any], last: psycopg.Cursor[Any],
              frontier_seqs: Callable[[int], list[int]]) -> tuple[int, list[Row]]:  # fmt: skip
        """:func:`~blastdoor.ledger.store.edge`, the last row read from ``last`` (:meth:`_last`)."""
        return edge([Row.from_columns(values) for values in last.fetchall()], frontier_seqs, lambda seqs: cls._rows(cursor, seqs))

    @staticmethod
    def _insert(cursor: psycopg.Cursor[Any], rows: Sequence[Row]) -> None:
        cursor.executemany(
            "INSERT INTO ledger_entries (seq, time, body, leaf_hash, chain_hash, nodes) VALUES (%s, %s, %s, %s, %s, %s)",
            [(r.seq, r.time, r.body.decode("utf-8"), r.leaf_hash, r.chain_hash, r.nodes) for r in rows],
        )

    def size(self) -> int:
        with self._errors("read"):
            found = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM ledger_entries").fetchone()
            return int(found[0]) if found else 0

    @staticmethod
    def _rows(cursor: psycopg.Cursor[Any], seqs: Sequence[int]) -> dict[int, Row]:
        if not seqs:
            return {}
        cursor.execute(
            "SELECT seq, time, body, leaf_hash, chain_hash, nodes FROM ledger_entries WHERE seq = ANY(%s)",
            (list(seqs),),
        )
        return {row.seq: row for row in map(Row.from_columns, cursor.fetchall())}

    def rows(self, seqs: Sequence[int]) -> dict[int, Row]:
        with self._errors("read"), self._db.cursor() as cursor:
            return self._rows(cursor, seqs)

    def scan(self, *, start: int = 1, since: str = "", stop: int = 0) -> Iterator[Row]:
        query = "SELECT seq, time, body, leaf_hash, chain_hash, nodes FROM ledger_entries WHERE seq >= %s"
        params: list[object] = [start]
        if stop:
            query += " AND seq <= %s"
            params.append(stop)
        if since:
            query += " AND seq >= COALESCE((SELECT MIN(seq) FROM ledger_entries WHERE time >= %s), 9223372036854775807)"
            params.append(since)
        with (
            self._errors("read"),
            self._db.transaction(),
            self._db.cursor(name="blastdoor_scan") as cursor,
        ):
            cursor.itersize = 4096
            cursor.execute(query + " ORDER BY seq", params)
            yield from map(Row.from_columns, cursor)

    def add_checkpoint(self, sign: Callable[[int], str]) -> StoredCheckpoint:
        with self._errors("checkpoint"), self._write() as cursor:
            cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM ledger_entries")
            size = int(cursor.fetchone()[0])  # type: ignore[index]
            note = sign(size)
            cursor.execute(
                "INSERT INTO ledger_checkpoints (size, note) VALUES (%s, %s) RETURNING id",
                (size, note),
            )
            found = cursor.fetchone()
            return StoredCheckpoint(id=int(found[0]) if found else 0, size=size, note=note)

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self._errors("read"):
            found = self._db.execute(
                "SELECT id, size, note FROM ledger_checkpoints ORDER BY id"
            ).fetchall()
            return [StoredCheckpoint(id=int(i), size=int(s), note=str(n)) for i, s, n in found]

    def select(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._errors("read"):
            return [
                tuple(row)
                for row in self._db.execute(
                    sql.replace("?", "%s").encode(), list(params)
                ).fetchall()
            ]

    def change(self, sql: str, params: Sequence[object] = ()) -> int:
        with self._errors("write"), self._db.transaction():
            return int(self._db.execute(sql.replace("?", "%s").encode(), list(params)).rowcount)

    def close(self) -> None:
        self._db.close()
