"""Where redaction and canonical JSON should run: in each writer (what Blastdoor does) or in the appender.

Alternating rounds, same run, same writers: (a) writers redact and canonicalise and send canonical
bodies (``Ledger.record`` through the appender); (b) writers send the raw payload as JSON and the
appender redacts and canonicalises it before appending. Medians of appends/s (docs/benchmarks.md).

    python bench/ledger_payloads.py [--writers 4] [--seconds 5] [--rounds 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from blastdoor.home import ensure_home
from blastdoor.ledger.appender import Appender, listening
from blastdoor.ledger.appender_link import AppenderLink
from blastdoor.ledger.entry import canonical
from blastdoor.ledger.ledger import Ledger, appender_socket
from blastdoor.ledger.store import Pending
from ledger import _ledger_writer, _run, _settings, _varied, sample_payload  # type: ignore[import-not-found]


class RedactingAppender(Appender):
    """(b): each body is the writer's raw payload; redact and canonicalise it here."""

    def __init__(self, ledger: Ledger, listener: Any) -> None:
        super().__init__(ledger, listener)
        self._redacting = ledger

    def entries(self, message: bytes, *, taken: set[str]) -> list[Pending]:
        raw = super().entries(message, taken=taken)
        return [Pending(item.id, item.time, canonical(self._redacting.redact(json.loads(item.body)))) for item in raw]


def _serve(home: str, url: str, redacting: bool, stop: Any, ready: Any) -> None:
    with listening(_settings(home, url)) as plain:
        assert plain is not None
        appender = RedactingAppender(plain._ledger, plain._listener) if redacting else plain
        threading.Thread(target=lambda: (stop.wait(), appender.stop()), daemon=True).start()
        ready.set()
        appender.run()


def _payload_writer(home: str, url: str, seconds: float, start: float, out: Any) -> None:
    payload = sample_payload()
    with Ledger.open(_settings(home, url), through_appender=False) as ledger:
        link = AppenderLink(appender_socket(ledger._keys.parent), identity=ledger.identity())
        while time.time() < start:
            time.sleep(0.001)
        count = 0
        while time.time() < start + seconds:
            varied = _varied(payload, count)
            answer = link.append([Pending(f"{time.time_ns()}-{count}-p", varied["time"], json.dumps(varied).encode())])
            assert answer is not None
            count += 1
        link.close()
    out.put(count)


@contextlib.contextmanager
def _dropped(server: str, schema: str) -> Iterator[None]:
    try:
        yield
    finally:
        if server:
            import psycopg

            with psycopg.connect(server, autocommit=True) as pg:
                pg.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default="", help="a PostgreSQL server (a schema of its own, dropped after); default SQLite")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    schema = f"bd_bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="bd-bench-") as home, _dropped(args.postgres, schema):
        url = f"{args.postgres}?schema={schema}" if args.postgres else f"sqlite:///{home}/ledger.db"
        ensure_home(_settings(home, url))
        rates: dict[str, list[float]] = {"writers redact": [], "appender redacts": []}
        for _ in range(args.rounds):
            modes = (("writers redact", _ledger_writer, (home, url, True)), ("appender redacts", _payload_writer, (home, url)))
            for mode, writer, writer_args in modes:
                stop, ready = context.Event(), context.Event()
                server = context.Process(target=_serve, args=(home, url, mode == "appender redacts", stop, ready))
                server.start()
                assert ready.wait(30)
                rates[mode].append(_run(writer, writer_args, args.writers, args.seconds))
                stop.set()
                server.join(30)
        for mode, found in rates.items():
            print(f"{mode:<17} {statistics.median(found):>8,.0f} appends/s (rounds {', '.join(f'{r:,.0f}' for r in found)})")


if __name__ == "__main__":
    main()
