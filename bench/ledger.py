"""Ledger benchmark: durable appends/s with concurrent writers, verify speed, proof time, storage.

Method (docs/benchmarks.md): for each store, N writer processes append typical decision entries
for a fixed time, in two modes: through an appender (``blastdoor ledger appender``, its own
process) and directly (each writer its own transactions). The baseline, measured in the same run
with the same writers, inserts the same canonical bytes into a bare table with the same durability
settings (SQLite WAL + synchronous=FULL, ``BEGIN IMMEDIATE``; PostgreSQL autocommit INSERT,
synchronous_commit on); a second one, the issue's "bare hash chain", links each row to the last
under the chain's lock as any chain must (PostgreSQL: a head row FOR UPDATE). The four alternate
within each round. Reported: medians over rounds, and the median of each round's ratio to each
baseline. Then: verify throughput on a ledger of --verify-size entries,
inclusion-proof time at --proof-size entries (built with group commit), bytes per entry.

    python bench/ledger.py [--writers 4] [--seconds 5] [--rounds 3] [--postgres URL] [--appends-only]

It prints a Markdown table, ready to paste into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
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
    suffix = f" -target=module.m{n}"
    action, decision = payload["action"], payload["decision"]  # copied along the changed paths only
    effects = [{**effect, "evidence": effect["evidence"] + suffix} for effect in decision["effects"]]
    return {**payload, "action": {**action, "input": action["input"] + suffix},
            "decision": {**decision, "effects": effects}}  # fmt: skip


def _settings(home: str, url: str, every: int = 100) -> Settings:
    base = Settings.resolve(env={"BLASTDOOR_HOME": home, "BLASTDOOR_DATABASE_URL": url})
    return Settings(**{**base.__dict__, "checkpoint_every": every})


def _ledger_writer(home: str, url: str, through: bool, seconds: float, start: float, out: Any) -> None:
    payload = sample_payload()
    with Ledger.open(_settings(home, url), through_appender=through) as ledger:
        ledger.record(payload)  # warm: imports, connection, redactor, the appender's socket
        assert through == (ledger._link is not None and ledger._link._sock is not None), "no appender"
        while time.time() < start:
            time.sleep(0.001)
        count = 0
        while time.time() < start + seconds:
            ledger.record(_varied(payload, count))
            count += 1
    out.put(count)


@contextlib.contextmanager
def _baseline_connection(url: str) -> Iterator[Any]:
    """A baseline writer's connection, as durable as the ledger's: SQLite in WAL mode with
    synchronous=FULL (each write takes BEGIN IMMEDIATE itself), PostgreSQL in autocommit in the
    run's schema."""
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        try:
            yield db
        finally:
            db.close()
        return
    import psycopg

    from blastdoor.ledger.postgres_store import split_url

    conninfo, schema = split_url(url)
    with psycopg.connect(conninfo, autocommit=True) as pg:
        pg.execute(f"SET search_path TO {schema}")
        yield pg


def _timed(start: float, seconds: float, step: Any) -> int:
    """How many times ``step`` ran from ``start`` for ``seconds``."""
    while time.time() < start:
        time.sleep(0.001)
    count = 0
    while time.time() < start + seconds:
        step()
        count += 1
    return count


def _bare_writer(url: str, body: bytes, seconds: float, start: float, out: Any) -> None:
    text = body.decode()
    with _baseline_connection(url) as db:
        if isinstance(db, sqlite3.Connection):

            def step() -> None:
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO bare (body) VALUES (?)", (text,))
                db.execute("COMMIT")

        else:

            def step() -> None:
                db.execute("INSERT INTO bare (body) VALUES (%s)", (text,))

        out.put(_timed(start, seconds, step))


def _chain_writer(url: str, body: bytes, seconds: float, start: float, out: Any) -> None:
    """The issue's own baseline, a bare hash chain: each append reads the last link under the
    chain's lock (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: the head row, FOR UPDATE),
    stores sha256(last link + body) with the body and commits, as durably as the ledger does;
    no Merkle tree, no checkpoints, no redaction, no ids."""
    text = body.decode()
    with _baseline_connection(url) as db:
        if isinstance(db, sqlite3.Connection):

            def step() -> None:
                db.execute("BEGIN IMMEDIATE")
                last = db.execute("SELECT link FROM bare_chain ORDER BY seq DESC LIMIT 1").fetchone()
                link = hashlib.sha256((last[0] if last else bytes(32)) + body).digest()
                db.execute("INSERT INTO bare_chain (body, link) VALUES (?, ?)", (text, link))
                db.execute("COMMIT")

        else:

            def step() -> None:
                with db.transaction():
                    seq, last = db.execute("SELECT seq, link FROM bare_chain_head WHERE id = 1 FOR UPDATE").fetchone()
                    link = hashlib.sha256(last + body).digest()
                    db.execute("INSERT INTO bare_chain (seq, body, link) VALUES (%s, %s, %s)", (seq + 1, text, link))
                    db.execute("UPDATE bare_chain_head SET seq = %s, link = %s WHERE id = 1", (seq + 1, link))

        out.put(_timed(start, seconds, step))


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
            db.execute("CREATE TABLE IF NOT EXISTS bare_chain (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, link BLOB NOT NULL)")
        return
    import psycopg

    from blastdoor.ledger.postgres_store import split_url

    conninfo, schema = split_url(url)
    with psycopg.connect(conninfo, autocommit=True) as pg:
        pg.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        pg.execute(
            f"CREATE TABLE IF NOT EXISTS {schema}.bare (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)"
        )
        pg.execute(f"CREATE TABLE IF NOT EXISTS {schema}.bare_chain (seq BIGINT PRIMARY KEY, body TEXT NOT NULL, link BYTEA NOT NULL)")
        pg.execute(f"CREATE TABLE IF NOT EXISTS {schema}.bare_chain_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, link BYTEA NOT NULL)")
        pg.execute(f"INSERT INTO {schema}.bare_chain_head VALUES (1, 0, %s) ON CONFLICT DO NOTHING", (bytes(32),))


@contextlib.contextmanager
def _appender(home: str, url: str) -> Iterator[None]:
    """``blastdoor ledger appender`` for ``home``, as its own process, until the block ends."""
    env = {**os.environ, "BLASTDOOR_HOME": home, "BLASTDOOR_DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-m", "blastdoor", "ledger", "appender"], env=env,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("appending for")
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def appends(name: str, url: str, home: str, args: argparse.Namespace) -> None:
    with Ledger.open(_settings(home, url), through_appender=False) as ledger:
        ledger.record(sample_payload())
    _bare_table(url)
    body = canonical(sample_payload())
    rates: dict[str, list[float]] = {"appender": [], "direct": [], "bare": [], "chain": []}
    for _ in range(args.rounds):  # the modes alternate, so the machine's load hits each alike
        with _appender(home, url):
            rates["appender"].append(_run(_ledger_writer, (home, url, True), args.writers, args.seconds))
        rates["direct"].append(_run(_ledger_writer, (home, url, False), args.writers, args.seconds))
        rates["bare"].append(_run(_bare_writer, (url, body), args.writers, args.seconds))
        rates["chain"].append(_run(_chain_writer, (url, body), args.writers, args.seconds))
    for mode, label in (("appender", "through the appender"), ("direct", "direct")):
        bold = "**" if mode == "appender" else ""
        _row(f"{name}, {args.writers} writers, {label}",
             f"{bold}{statistics.median(rates[mode]):,.0f} appends/s{bold} ({_rounds(rates[mode])}); "
             f"to the bare INSERT {_ratios(rates[mode], rates['bare'], bold)}; "
             f"to the bare hash chain {_ratios(rates[mode], rates['chain'], bold)}")  # fmt: skip
    for mode, label in (("bare", "bare fsynced INSERT"), ("chain", "bare hash chain (head locked, fsynced)")):
        _row(f"{name}, {label}", f"{statistics.median(rates[mode]):,.0f}/s ({_rounds(rates[mode])})")


def _rounds(rates: list[float]) -> str:
    return ", ".join(f"{rate:,.0f}" for rate in rates)


def _ratios(rates: list[float], baseline: list[float], bold: str) -> str:
    """The median of the rounds' ratios, each to its own round's baseline, and the rounds'."""
    ratios = [rate / base for rate, base in zip(rates, baseline, strict=True)]
    return f"ratio {bold}{statistics.median(ratios):.2f}{bold} ({', '.join(f'{ratio:.2f}' for ratio in ratios)})"


def _row(measure: str, result: str) -> None:
    """One row of the results table, as docs/benchmarks.md has it."""
    print(f"| {measure} | {result} |", flush=True)


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
    one, many = statistics.median(alone), statistics.median(split)
    _row(f"verify, {size:,} entries", f"{size / many:,.0f} entries/s with {report.readers} reader(s) ({many:.1f} s); "
         f"one reader {size / one:,.0f}/s ({one:.1f} s) in the same run; ratio {one / many:.2f}")  # fmt: skip
    _row(f"inclusion proof, {size:,} entries", f"median {statistics.median(timings) * 1000:.2f} ms, "
         f"max {max(timings) * 1000:.2f} ms ({len(timings)} proofs)")  # fmt: skip
    _row("storage", f"{bytes_per_entry:,.0f} bytes per entry in SQLite ({len(canonical(payload))}-byte body)")
    print(f"(the {size:,}-entry ledger was built in {built:.1f} s, 20,000 entries per transaction, hashes and Merkle nodes included)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=PG_DEFAULT, help="PostgreSQL URL ('' to skip)")
    parser.add_argument("--proof-size", type=int, default=1_000_000)
    parser.add_argument("--appends-only", action="store_true", help="skip verify, proofs and storage")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, `python bench/ledger.py {' '.join(sys.argv[1:])}` on {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f} at the start")  # fmt: skip
    print("\n| measure | result |\n|---|---|")
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
        if not args.appends_only:
            verify_and_prove(home, args)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end; ratios are to the baselines of the same round")


if __name__ == "__main__":
    main()
