"""Row history costs on SQLite: a TPC-B-shaped write load with and without history, and undo of
a run that deleted many rows.

    python bench/data_history_sqlite.py [--transactions 20000] [--rounds 5] [--rows 1000000]

Throughput: pgbench's TPC-B transaction, written out in Python against a SQLite file in WAL mode
(per transaction: three UPDATEs, one SELECT, one INSERT; 100,000 accounts, 10 tellers, 1 branch).
Rounds alternate history off and on (``data enable`` on the four tables; ``data disable`` after);
the figure is the ratio of median transactions/s off / on, both measured in this run.

Undo: a table of ROWS rows (integer key, text, a real, a blob) under history; one tagged
transaction deletes them all; the run is undone the way ``blastdoor data undo --run`` does it
(verifying the seals first). Reported: seconds for the delete with history (and without, on an
untracked copy, as the baseline), for the undo, and whether every row came back.
Prints one JSON line per measure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from blastdoor.broker.scrub import Scrubber
from blastdoor.config import Settings
from blastdoor.data import service
from blastdoor.data.selection import Selection
from blastdoor.data.sqlite import install
from blastdoor.data.target import Target
from blastdoor.home import ensure_home

ACCOUNTS, TELLERS = 100_000, 10


def _tpcb_database(path: Path) -> Target:
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript("PRAGMA journal_mode = WAL;"
                     "CREATE TABLE branches (bid INTEGER PRIMARY KEY, bbalance INT, filler TEXT);"
                     "CREATE TABLE tellers (tid INTEGER PRIMARY KEY, bid INT, tbalance INT, filler TEXT);"
                     "CREATE TABLE accounts (aid INTEGER PRIMARY KEY, bid INT, abalance INT, filler TEXT);"
                     "CREATE TABLE history (tid INT, bid INT, aid INT, delta INT, mtime TEXT, filler TEXT)")  # fmt: skip
    db.execute("BEGIN")
    db.execute("INSERT INTO branches VALUES (1, 0, '')")
    db.executemany("INSERT INTO tellers VALUES (?, 1, 0, '')", [(t,) for t in range(1, TELLERS + 1)])
    db.executemany("INSERT INTO accounts VALUES (?, 1, 0, ?)", [(a, " " * 84) for a in range(1, ACCOUNTS + 1)])
    db.execute("COMMIT")
    db.close()
    return Target(f"sqlite:///{path}", str(path), Scrubber([]))


def _tpcb(path: Path, transactions: int) -> float:
    """Transactions per second of ``transactions`` TPC-B transactions on one connection."""
    db = sqlite3.connect(path, isolation_level=None)
    pick = random.Random(7)
    started = time.perf_counter()
    for _ in range(transactions):
        aid, tid, delta = pick.randint(1, ACCOUNTS), pick.randint(1, TELLERS), pick.randint(-5000, 5000)
        db.execute("BEGIN")
        db.execute("UPDATE accounts SET abalance = abalance + ? WHERE aid = ?", (delta, aid))
        db.execute("SELECT abalance FROM accounts WHERE aid = ?", (aid,)).fetchone()
        db.execute("UPDATE tellers SET tbalance = tbalance + ? WHERE tid = ?", (delta, tid))
        db.execute("UPDATE branches SET bbalance = bbalance + ? WHERE bid = 1", (delta,))
        db.execute("INSERT INTO history VALUES (?, 1, ?, ?, datetime('now'), '')", (tid, aid, delta))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return transactions / elapsed


def throughput(transactions: int, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        target = _tpcb_database(Path(folder) / "tpcb.db")
        path = target.sqlite_path
        assert path is not None
        off, on = [], []
        for _ in range(rounds):
            off.append(_tpcb(path, transactions))
            install.enable(target, tables=[])
            on.append(_tpcb(path, transactions))
            install.disable(target)
    return {"measure": "SQLite TPC-B-shaped transactions/s, history off / on", "transactions": transactions,
            "rounds": rounds, "tps_off_median": round(statistics.median(off)), "tps_on_median": round(statistics.median(on)),
            "ratio": round(statistics.median(off) / statistics.median(on), 2), "target": "<= 2x"}  # fmt: skip


def _digest(db: sqlite3.Connection, table: str) -> str:
    digest = hashlib.sha256()
    for found in db.execute(f"SELECT * FROM {table} ORDER BY id"):
        digest.update(repr(found).encode())
    return digest.hexdigest()


def undo_many(rows: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as home:
        path = Path(folder) / "app.db"
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        for table in ("plain", "tracked"):
            db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT, amount REAL, photo BLOB)")
            db.execute("BEGIN")
            db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
                           ((i, f"row {i}", i / 3, i.to_bytes(4, "big")) for i in range(1, rows + 1)))  # fmt: skip
            db.execute("COMMIT")
        checksum = _digest(db, "tracked")
        started = time.perf_counter()
        db.execute("DELETE FROM plain")
        plain_delete = time.perf_counter() - started
        target = Target(f"sqlite:///{path}", str(path), Scrubber([]))
        started = time.perf_counter()
        install.enable(target, tables=["tracked"])
        enable_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with install.tagged(db, run_id="run-bench"):
            db.execute("DELETE FROM tracked")
        tracked_delete = time.perf_counter() - started
        settings = Settings.resolve(home=home)
        ensure_home(settings)
        started = time.perf_counter()
        report = service.undo_run(settings, target, Selection(run="run-bench"), on_conflict="refuse", dry_run=False)
        undo_seconds = time.perf_counter() - started
        identical = _digest(db, "tracked") == checksum
        db.close()
    return {"measure": f"SQLite: undo of a run that deleted {rows:,} rows", "rows": rows,
            "delete_without_history_s": round(plain_delete, 2), "delete_with_history_s": round(tracked_delete, 2),
            "enable_with_baseline_s": round(enable_seconds, 2), "undo_s": round(undo_seconds, 2),
            "changes_reverted": report.changes, "identical": identical, "target": "<= 60 s"}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("throughput", "undo"), default=None)
    args = parser.parse_args()
    if args.only != "undo":
        print(json.dumps(throughput(args.transactions, args.rounds)), flush=True)
    if args.only != "throughput":
        print(json.dumps(undo_many(args.rows)), flush=True)


if __name__ == "__main__":
    main()
