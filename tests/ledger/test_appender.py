"""The appender: writers hand it their entries, it appends many per transaction. What a user depends
on: every acknowledged entry is on disk, even when the appender is killed at any moment; no entry
is appended twice or lost when a writer falls back to appending itself; the chain never forks with
direct writers beside it; a malformed request gets a one-line refusal and changes nothing. Every
test runs against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from blastdoor.config import Settings
from blastdoor.ledger.appender import Running
from blastdoor.ledger.appender_link import HELLO, decode_request, encode_answer, frame, recv_frame
from blastdoor.ledger.entry import canonical, now
from blastdoor.ledger.ledger import Ledger, appender_socket, open_store
from blastdoor.ledger.store import Pending
from blastdoor.ledger.verify import verify
from tests.ledger.conftest import run_processes


def _entry(text: str) -> dict[str, Any]:
    return {"v": 1, "type": "decision", "time": now(), "action": {"kind": "shell", "input": text}}


def _inputs(ledger: Ledger) -> list[str]:
    return [json.loads(row.body).get("action", {}).get("input", "") for row in ledger.store.scan(start=2)]


def _through_appender(ledger: Ledger) -> bool:
    link = ledger._link
    return link is not None and link._sock is not None


@pytest.fixture
def settings(database_url: str, settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(database_url, checkpoint_every=5)


@pytest.fixture
def appender(settings: Settings) -> Iterator[Running]:
    running = Running(settings)
    assert running.serving
    yield running
    running.stop()


def test_entries_handed_to_the_appender_are_on_disk_in_order_and_verify(settings: Settings, appender: Running) -> None:
    with Ledger.open(settings) as ledger:
        entries = [ledger.record(_entry(f"call {n}")) for n in range(12)]
        assert _through_appender(ledger)
        assert [entry.seq for entry in entries] == list(range(2, 14))
        stored = ledger.store.rows([entry.seq for entry in entries])
        assert [stored[e.seq].chain_hash for e in entries] == [e.chain_hash for e in entries]
        assert _inputs(ledger) == [f"call {n}" for n in range(12)]
        report = verify(ledger)
        assert report.ok, report.problems
        assert [point.size for point in ledger.store.checkpoints()] == [5, 10]  # signed by the appender


def test_several_entries_of_one_writer_stay_together_and_redacted(settings: Settings, appender: Running) -> None:
    with Ledger.open(settings) as ledger:
        entries = ledger.record_many([_entry("export TOKEN=ghp_" + "a1B2" * 9), _entry("second")])
        assert _through_appender(ledger) and entries[1].seq == entries[0].seq + 1
        assert "ghp_" not in entries[0].body.decode() and "[redacted:" in entries[0].body.decode()


def test_writers_through_the_appender_and_direct_writers_never_fork_the_chain(
    settings: Settings, appender: Running, isolated_home: Path
) -> None:
    run_processes(_writer, [(settings.database_url, str(isolated_home), w, 30, w % 2 == 0) for w in range(4)])
    with Ledger.open(settings) as ledger:
        report = verify(ledger)
        assert report.ok, report.problems
        seen = [text.split(":") for text in _inputs(ledger)]
    assert len(seen) == 120
    for w in range(4):
        assert [int(n) for writer, n in seen if writer == str(w)] == list(range(30))


def _writer(url: str, home: str, writer: int, count: int, through: bool) -> None:
    settings = Settings.resolve(env={"BLASTDOOR_HOME": home, "BLASTDOOR_DATABASE_URL": url})
    with Ledger.open(settings, through_appender=through) as ledger:
        for n in range(count):
            ledger.record(_entry(f"{writer}:{n}"))
        assert _through_appender(ledger) == through


def test_the_appender_reads_the_new_end_after_a_direct_writer_appended(settings: Settings, appender: Running) -> None:
    with Ledger.open(settings) as handed, Ledger.open(settings, through_appender=False) as direct:
        for n in range(3):
            handed.record(_entry(f"a{n}"))
            direct.record(_entry(f"d{n}"))
            direct.record(_entry(f"d{n}'"))
        assert _through_appender(handed)
        assert _inputs(handed) == ["a0", "d0", "d0'", "a1", "d1", "d1'", "a2", "d2", "d2'"]
        report = verify(handed)
        assert report.ok, report.problems


def _raw_client(path: Path, identity: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(str(path))
    sock.sendall(frame(HELLO + b"\0" + identity.encode()))
    assert recv_frame(sock) == b"ok"
    return sock


def _request(*items: tuple[str, bytes]) -> bytes:
    parts = [b"A"]
    for ident, body in items:
        parts += [len(ident).to_bytes(2, "big") + len(body).to_bytes(4, "big"), ident.encode(), body]
    return frame(b"".join(parts))


@pytest.mark.parametrize(
    ("request_bytes", "said"),
    [
        (_request(("id-1", b"not json")), "entry 1 is not UTF-8 JSON"),
        (_request(("id-1", b'["a list"]')), "entry 1 is not a JSON object"),
        (_request(("id-1", canonical(_entry("fine"))), ("id 2", b"{}")), "entry 2 has an id that is malformed"),
        (_request(("id-1", b"\xff\xfe")), "entry 1 is not UTF-8 JSON"),
        (_request(("id-1", b'{"time": "2026\\u0000"}')), "entry 1 has a NUL in its time"),
        (frame(b"A" + b"\x00\x04\x00\x00\x10\x00id-1{}"), "entry 1 is cut short"),
        (frame(b"Z"), "not an append request"),
    ],
)
def test_a_malformed_request_gets_one_line_and_changes_nothing(
    settings: Settings, appender: Running, request_bytes: bytes, said: str
) -> None:
    with Ledger.open(settings) as ledger:
        ledger.record(_entry("before"))
        sock = _raw_client(appender_socket(settings.home), ledger.identity())
        sock.sendall(request_bytes)
        answer = recv_frame(sock)
        assert answer.startswith(b"E") and said in answer.decode() and b"\n" not in answer
        sock.sendall(_request(("id-after", canonical(_entry("same connection, well formed")))))
        assert recv_frame(sock).startswith(b"K")  # the connection still serves
        sock.close()
        ledger.record(_entry("after"))
        assert _through_appender(ledger)
        assert _inputs(ledger) == ["before", "same connection, well formed", "after"]
        assert verify(ledger).ok


def test_a_writer_of_another_ledger_is_turned_away_and_appends_directly(
    settings: Settings, appender: Running, tmp_path: Path
) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    with Ledger(store=open_store(other), keys=settings.keys, url=other, appender=appender_socket(settings.home)) as ledger:
        entry = ledger.record(_entry("mine"))
        assert not _through_appender(ledger)
        assert entry.seq == 2 and _inputs(ledger) == ["mine"]
    with Ledger.open(settings) as served:
        assert "mine" not in _inputs(served)


class _DyingAppender:
    """An appender that takes one request and dies before answering: after committing it
    (``commit``), or before (not), or answers that its store failed (``retry``)."""

    def __init__(self, settings: Settings, *, commit: bool, answer: bytes = b"") -> None:
        self.path = appender_socket(settings.home)
        self.path.parent.mkdir(mode=0o700, exist_ok=True)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.path))
        self.listener.listen(4)
        self.settings, self.commit, self.answer = settings, commit, answer
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        recv_frame(conn)
        conn.sendall(frame(b"ok"))
        request = decode_request(recv_frame(conn))
        if self.commit:
            with Ledger.open(self.settings, through_appender=False) as ledger:
                items = [Pending(i, json.loads(body)["time"], body) for i, body in request]
                ledger.append(items, once=True)
        if self.answer:
            conn.sendall(frame(self.answer))
        conn.close()
        self.listener.close()
        os.unlink(self.path)


@pytest.mark.parametrize(
    ("commit", "answer"),
    [(True, b""), (False, b""), (True, b"Rthe store failed"), (False, b"Rthe store failed"), (False, b"K")],
    ids=["committed-then-died", "died-before-commit", "committed-said-retry", "said-retry", "malformed-answer"],
)
def test_a_writer_whose_appender_dies_before_answering_appends_exactly_once(
    settings: Settings, commit: bool, answer: bytes
) -> None:
    with Ledger.open(settings, through_appender=False) as first:
        first.record(_entry("before"))
    dying = _DyingAppender(settings, commit=commit, answer=answer)
    with Ledger.open(settings) as ledger:
        entries = ledger.record_many([_entry("one"), _entry("two")])
        dying.thread.join(10)
        ledger.record(_entry("after"))  # nobody listens now: appended directly
        assert _inputs(ledger) == ["before", "one", "two", "after"]
        assert [e.seq for e in entries] == [3, 4]
        stored = ledger.store.rows([3, 4])
        assert [stored[e.seq].leaf_hash for e in entries] == [e.leaf_hash for e in entries]
        assert verify(ledger).ok


def test_an_answer_lists_witness_problems(settings: Settings) -> None:
    assert encode_answer([(3, b"l" * 32, b"c" * 32)], ["witness x: refused"]).endswith(b"witness x: refused")


def test_only_one_appender_serves_a_home(settings: Settings, appender: Running) -> None:
    second = Running(settings)
    assert not second.serving
    second.stop()
    started = subprocess.run([sys.executable, "-m", "blastdoor", "ledger", "appender"], capture_output=True,
                             text=True, timeout=60, check=False, env=_env(settings))  # fmt: skip
    assert started.returncode == 0 and "already serves" in started.stderr


def test_a_home_with_a_long_path_still_reaches_its_appender(
    database_url: str, tmp_path: Path, settings_for: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / ("h" * 60) / ("o" * 60)
    monkeypatch.setenv("BLASTDOOR_HOME", str(home))
    settings = settings_for(database_url, home=home)
    assert len(str(appender_socket(home))) > 108
    running = Running(settings)
    try:
        with Ledger.open(settings) as ledger:
            ledger.record(_entry("far away"))
            assert _through_appender(ledger) and _inputs(ledger) == ["far away"]
    finally:
        running.stop()


def _env(settings: Settings, **more: str) -> dict[str, str]:
    return {**os.environ, "BLASTDOOR_HOME": str(settings.home), "BLASTDOOR_DATABASE_URL": settings.database_url,
            "BLASTDOOR_CHECKPOINT_EVERY": str(settings.checkpoint_every), **more}  # fmt: skip


WRITER = """
import sys
from blastdoor.config import Settings
from blastdoor.ledger.entry import now
from blastdoor.ledger.ledger import Ledger
tag = sys.argv[1]
with Ledger.open(Settings.resolve()) as ledger:
    for n in range(100000):
        entry = ledger.record({"v": 1, "type": "decision", "time": now(), "writer": tag, "n": n})
        link = ledger._link
        via = "appender" if link is not None and link._sock is not None else "direct"
        print(entry.seq, entry.leaf_hash.hex(), via, flush=True)  # acknowledged
"""


def _start_appender(settings: Settings) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "blastdoor", "ledger", "appender"], env=_env(settings),
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().startswith("appending for")
    return proc


def test_kill_9_of_the_appender_loses_no_acknowledged_entry_and_doubles_none(settings: Settings) -> None:
    rng = random.Random(3)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(w)], stdout=subprocess.PIPE, text=True,
                                env=_env(settings)) for w in range(3)]  # fmt: skip
    try:
        for _ in range(5):
            appender = _start_appender(settings)
            time.sleep(rng.uniform(0.4, 1.6))  # writers reconnect within a second, then append through it
            appender.send_signal(signal.SIGKILL)
            appender.wait(30)
            time.sleep(rng.uniform(0.0, 0.3))  # meanwhile they append directly
    finally:
        for writer in writers:
            writer.send_signal(signal.SIGKILL)
    acknowledged: dict[int, str] = {}
    ways: set[str] = set()
    for writer in writers:
        assert writer.stdout is not None
        out = writer.stdout.read()
        writer.wait(30)
        for line in out.splitlines(keepends=True):
            fields = line.split()
            if line.endswith("\n") and len(fields) == 3 and len(fields[1]) == 64:  # a whole acknowledgement
                acknowledged[int(fields[0])] = fields[1]
                ways.add(fields[2])
    assert ways == {"appender", "direct"} and len(acknowledged) > 50, (ways, len(acknowledged))
    with Ledger.open(settings, through_appender=False) as ledger:
        report = verify(ledger)
        assert report.ok, report.problems
        stored = ledger.store.rows(sorted(acknowledged))
        assert {seq: row.leaf_hash.hex() for seq, row in stored.items()} == acknowledged
        written = [json.loads(row.body) for row in ledger.store.scan(start=2)]
    for w in range(3):  # each writer's entries once each, in order (an unacknowledged last one may be there)
        numbers = [entry["n"] for entry in written if entry.get("writer") == str(w)]
        assert numbers == list(range(len(numbers)))


def test_the_one_statement_append_refuses_a_moved_end_and_a_noted_id(ledger: Ledger) -> None:
    from blastdoor.ledger import chain

    ledger.record(_entry("first"))
    size = ledger.store.size()
    head = chain.Head.of(size, list(ledger.store.rows(chain.frontier_seqs(size)).values()))
    rows, end = head.grow([("t", canonical(_entry("second")))])
    assert ledger.store.append_after(head, rows, ["id-2"])
    again, _ = head.grow([("t", canonical(_entry("on a moved end")))])
    assert not ledger.store.append_after(head, again, ["id-3"])  # the ledger no longer ends at head
    noted, _ = end.grow([("t", canonical(_entry("a noted id")))])
    assert not ledger.store.append_after(end, noted, ["id-2"])  # id-2 is an entry already
    forged = chain.Head(end.size, bytes(32), end.frontier)
    assert not ledger.store.append_after(forged, forged.grow([("t", canonical(_entry("forged")))])[0], [])
    assert _inputs(ledger) == ["first", "second"]
    group = ledger.append([Pending("id-2", "t", canonical(_entry("second, asked again")))], once=True)
    assert [row.seq for row in group.mine] == [3] and group.appended == []  # found where it is
    assert verify(ledger).ok
