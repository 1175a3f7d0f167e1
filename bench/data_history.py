"""Row history costs: pgbench TPC-B with and without history, and undo of a million deleted rows.

    python bench/data_history.py [--seconds 60] [--rounds 1] [--scale 4] [--rows 1000000]

Throughput: a fresh database initialised by ``pgbench -i -s SCALE``; rounds alternate history off
and on (``data enable`` on all four pgbench tables, ``data disable`` after), each round
``pgbench -c 4 -j 2 -T SECONDS -n`` (TPC-B: three UPDATEs, one SELECT, one INSERT per
transaction). The figure is the ratio of median TPS off / on, both measured in this run.

Undo: a table of ROWS rows (bigint key, text, numeric, timestamptz, jsonb) under history; one
transaction tagged with a run id deletes them all; then the run is undone (the same call ``blastdoor
data undo --run`` makes, verification of the seals included). Reported: seconds for the delete with
history (and without it, as the baseline), for the undo, and whether every row came back.

Needs PostgreSQL at $BLASTDOOR_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test) and
pgbench on PATH. Prints one JSON line per measure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
import uuid

import psycopg

from blastdoor.broker.scrub import Scrubber
from blastdoor.config import Settings
from blastdoor.data import install, service
from blastdoor.data.selection import Selection
from blastdoor.data.target import Target
from blastdoor.home import ensure_home

BASE = os.environ.get("BLASTDOOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _database() -> str:
    name = f"bd_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(BASE, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return name


def _drop(name: str) -> None:
    with psycopg.connect(BASE, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _url(name: str) -> str:
    return BASE.rsplit("/", 1)[0] + "/" + name


def _pgbench(url: str, *args: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    env = os.environ | {"PGHOST": str(info.get("host", "127.0.0.1")), "PGPORT": str(info.get("port", 5432)),
                        "PGUSER": str(info.get("user", "postgres")), "PGDATABASE": str(info["dbname"])}  # fmt: skip
    done = subprocess.run(["pgbench", *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout + done.stderr


def throughput(seconds: int, rounds: int, scale: int) -> dict[str, object]:
    name = _database()
    target = Target(_url(name), name, Scrubber([]))
    try:
        _pgbench(target.dsn, "-i", "-q", "-s", str(scale))
        off: list[float] = []
        on: list[float] = []
        for _ in range(rounds):
            for enabled, results in ((False, off), (True, on)):
                if enabled:
                    install.enable(target, tables=[], guard=True)
                out = _pgbench(target.dsn, "-c", "4", "-j", "2", "-T", str(seconds), "-n")
                match = re.search(r"tps = ([0-9.]+)", out)
                assert match, out
                results.append(float(match.group(1)))
                if enabled:
                    install.disable(target)
        ratio = statistics.median(off) / statistics.median(on)
        return {"measure": "pgbench TPC-B, 4 clients", "seconds": seconds, "scale": scale,
                "tps_off": off, "tps_on": on, "median_off": statistics.median(off),
                "median_on": statistics.median(on), "ratio_off_over_on": round(ratio, 3), "target": "<= 2"}  # fmt: skip
    finally:
        _drop(name)


def undo_million(rows: int) -> dict[str, object]:
    name = _database()
    target = Target(_url(name), name, Scrubber([]))
    create = ("CREATE TABLE {t} (id bigint PRIMARY KEY, name text, amount numeric(12,2), at timestamptz, doc jsonb);"
              "INSERT INTO {t} SELECT g, 'row ' || g, g / 3.0, now() - g * interval '1 second', "
              "jsonb_build_object('g', g, 'even', g % 2 = 0) FROM generate_series(1, %s) g")  # fmt: skip
    try:
        with psycopg.connect(target.dsn, autocommit=True) as db:
            db.execute(create.format(t="plain").replace("%s", str(rows)))
            db.execute(create.format(t="tracked").replace("%s", str(rows)))
            db.execute("VACUUM ANALYZE")
            started = time.perf_counter()
            db.execute("DELETE FROM plain")
            plain_delete = time.perf_counter() - started
            checksum = db.execute("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM tracked t").fetchone()
        started = time.perf_counter()
        install.enable(target, tables=["tracked"], guard=True)
        enable_seconds = time.perf_counter() - started
        with psycopg.connect(target.dsn) as db:
            db.execute("SELECT set_config('blastdoor.run_id', 'run-bench', true)")
            started = time.perf_counter()
            db.execute("DELETE FROM tracked")
            db.commit()
            tracked_delete = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as home:
            settings = Settings.resolve(home=home)
            ensure_home(settings)
            started = time.perf_counter()
            report = service.undo_run(settings, target, Selection(run="run-bench"), on_conflict="refuse", dry_run=False)
            undo_seconds = time.perf_counter() - started
        with psycopg.connect(target.dsn) as db:
            back = db.execute("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM tracked t").fetchone()
        return {"measure": f"undo of a run that deleted {rows:,} rows", "rows": rows,
                "delete_without_history_s": round(plain_delete, 2), "delete_with_history_s": round(tracked_delete, 2),
                "enable_with_baseline_s": round(enable_seconds, 2), "undo_s": round(undo_seconds, 2),
                "changes_reverted": report.changes, "identical": back == checksum, "target": "<= 60 s"}  # fmt: skip
    finally:
        _drop(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("throughput", "undo"), default=None)
    args = parser.parse_args()
    if args.only != "undo":
        print(json.dumps(throughput(args.seconds, args.rounds, args.scale)), flush=True)
    if args.only != "throughput":
        print(json.dumps(undo_million(args.rows)), flush=True)


if __name__ == "__main__":
    main()
