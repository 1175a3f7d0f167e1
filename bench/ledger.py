"""Ledger benchmark: durable appends/s with concurrent writers, verify speed, proof time, storage.

Method (docs/benchmarks.md): for each store, N writer processes append typical decision entries
for a fixed time; the baseline, measured in the same run with the same writers, inserts the same
canonical bytes into a bare table with the same durability settings (SQLite WAL + synchronous=FULL,
``BEGIN IMMEDIATE``; PostgreSQL autocommit INSERT, synchronous_commit on). Reported: medians over
rounds, and the ratio ledger / bare. Then: verify throughput on a ledger of --verify-size entries,
inclusion-proof time at --proof-size entries (built with group commit), bytes per entry.

    python bench/ledger.py [--writers 4] [--seconds 5] [--rounds 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import blastdoor.ledger.verify as verifier
from blastdoor.config import Settings
from blastdoor.home import ensure_home
from blastdoor.judge import judge
from blastdoor.ledger import chain, merkle
from blastdoor.ledger.entry import canonical
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.record import decision_payload
from blastdoor.ledger.verify import verify
from blastdoor.model import Action
from blastdoor.policy import load

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def sample_payload() -> dict[str, Any]:
    action = Action.shell(
        "terraform destroy -auto-approve",
        cwd="/srv/infra",
        agent="claude-code",
        session_id="s-1",
        run_id="r-1",
        tool_use_id="toolu_01",
    )
    policy = load()
    return decision_payload(
        action, judge(action, policy), policy_digest=policy.digest, source="bench"
    )


def _varied(payload: dict[str, Any], n: int) -> dict[str, Any]:
    """``payload`` with its command text made unique, as a stream of real decisions is (the
    strings that repeat from entry to entry, reasons and rule ids, still repeat)."""
    import copy

    varied = copy.deepcopy(payload)
    suffix = f" -target=module.m{n}"
    varied["action"]["input"] += suffix
    for effect in varied["decision"]["effects"]:
        effect["evidence"] += suffix
    return varied


def _settings(home: str, url: str, every: int = 100) -> Settings:
    base = Settings.resolve(env={"BLASTDOOR_HOME": home, "BLASTDOOR_DATABASE_URL": url})
    return Settings(**{**base.__dict__, "checkpoint_every": every})


def _ledger_writer(home: str, url: str, seconds: float, start: float, out: Any) -> None:
    payload = sample_payload()
    with Ledger.open(_settings(home, url)) as ledger:
        ledger.record(payload)  # warm: imports, connection, redactor
        while time.time() < start:
            time.sleep(0.001)
        count = 0
        while time.time() < start + seconds:
            ledger.record(_varied(payload, count))
            count += 1
    out.put(count)


def _bare_writer(url: str, body: bytes, seconds: float, start: float, out: Any) -> None:
    count = 0
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        while time.time() < start:
            time.sleep(0.001)
        while time.time() < start + seconds:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO bare (body) VALUES (?)", (body.decode(),))
            db.execute("COMMIT")
            count += 1
    else:
        import psycopg

        from blastdoor.ledger.postgres_store import split_url

        conninfo, schema = split_url(url)
        with psycopg.connect(conninfo, autocommit=True) as pg:
            pg.execute(f"SET search_path TO {schema}")
            while time.time() < start:
                time.sleep(0.001)
            while time.time() < start + seconds:
                pg.execute("INSERT INTO bare (body) VALUES (%s)", (body.decode(),))
                count += 1
    out.put(count)


def _run(target: Any, args_of: Any, writers: int, seconds: float) -> float:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    start = time.time() + 3.0  # every writer is connected and warm before the clock starts
    procs = [
        context.Process(target=target, args=(*args_of, seconds, start, out)) for _ in range(writers)
    ]
    for proc in procs:
        proc.start()
    total = sum(out.get(timeout=seconds + 60) for _ in procs)
    for proc in procs:
        proc.join()
    return total / seconds


def _bare_table(url: str) -> None:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS bare (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
            )
        return
    import psycopg

    from blastdoor.ledger.postgres_store import split_url

    conninfo, schema = split_url(url)
    with psycopg.connect(conninfo, autocommit=True) as pg:
        pg.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        pg.execute(
            f"CREATE TABLE IF NOT EXISTS {schema}.bare (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)"
        )


def appends(name: str, url: str, home: str, args: argparse.Namespace) -> None:
    with Ledger.open(_settings(home, url)) as ledger:
        ledger.record(sample_payload())
    _bare_table(url)
    body = canonical(sample_payload())
    ours, bare = [], []
    for _ in range(args.rounds):
        ours.append(_run(_ledger_writer, (home, url), args.writers, args.seconds))
        bare.append(_run(_bare_writer, (url, body), args.writers, args.seconds))
    ratio = statistics.median(o / b for o, b in zip(ours, bare, strict=True))
    print(f"{name}: {args.writers} writers, ledger {statistics.median(ours):,.0f} appends/s "
          f"(rounds {', '.join(f'{o:,.0f}' for o in ours)}); bare fsynced INSERT {statistics.median(bare):,.0f}/s "
          f"(rounds {', '.join(f'{b:,.0f}' for b in bare)}); ratio {ratio:.2f}; entry body {len(body)} bytes")  # fmt: skip


def verify_and_prove(home: str, args: argparse.Namespace) -> None:
    url = f"sqlite:///{Path(home) / 'big.db'}"
    payload = sample_payload()
    body = (str(payload["time"]), canonical(ledger_payload := dict(payload)))
    with Ledger.open(_settings(home, url, every=10**9)) as ledger:
        ledger.record(
            ledger_payload
        )  # the genesis entry and one ordinary entry, through the front door
        built = time.perf_counter()
        done = 2
        while (
            done < args.proof_size
        ):  # the rest straight into the store: same bytes, no redaction pass
            step = min(20_000, args.proof_size - done)
            ledger.store.append(
                lambda size, edge, n=step: chain.extend(size, edge, [body] * n), chain.frontier_seqs
            )
            done += step
        built = time.perf_counter() - built
        ledger.checkpoint()
        size = ledger.store.size()
        timings = []
        for index in range(0, size, max(1, size // 200)):
            begun = time.perf_counter()
            merkle.inclusion_proof(ledger, index, size)
            timings.append(time.perf_counter() - begun)
        alone, split = [], []  # one reader, then one per core (verify's default), alternating
        for _ in range(args.rounds):
            for times, per_reader in ((alone, 10**12), (split, verifier.PER_READER)):
                saved, verifier.PER_READER = verifier.PER_READER, per_reader
                begun = time.perf_counter()
                report = verify(ledger)
                times.append(time.perf_counter() - begun)
                verifier.PER_READER = saved
                assert report.ok
    bytes_per_entry = os.path.getsize(url.removeprefix("sqlite:///")) / size
    print(
        f"built {size:,} entries (20,000 per transaction, hashing and Merkle nodes included) in {built:.1f} s"
    )
    print(f"inclusion proof at {size:,} entries: median {statistics.median(timings) * 1000:.2f} ms, "
          f"max {max(timings) * 1000:.2f} ms over {len(timings)} proofs")  # fmt: skip
    one, many = statistics.median(alone), statistics.median(split)
    print(f"verify: {size / many:,.0f} entries/s with {report.readers} readers (median {many:.1f} s); "
          f"one reader {size / one:,.0f}/s ({one:.1f} s) in the same run; ratio {one / many:.2f}")  # fmt: skip
    print(
        f"storage: {bytes_per_entry:,.0f} bytes per entry in SQLite (body {len(canonical(payload))} bytes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=PG_DEFAULT, help="PostgreSQL URL ('' to skip)")
    parser.add_argument("--proof-size", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bd-bench-") as home:
        ensure_home(_settings(home, f"sqlite:///{home}/ledger.db"))
        appends("SQLite", f"sqlite:///{home}/ledger.db", home, args)
        if args.postgres:
            schema = f"bd_bench_{uuid.uuid4().hex[:8]}"
            try:
                appends("PostgreSQL", f"{args.postgres}?schema={schema}", home, args)
            finally:
                import psycopg

                with psycopg.connect(args.postgres, autocommit=True) as pg:
                    pg.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        verify_and_prove(home, args)


if __name__ == "__main__":
    main()
