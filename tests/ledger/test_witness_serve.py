"""``blastdoor witness serve`` as a user runs it: a process of its own that keeps a ledger's
checkpoints, survives a restart, and refuses what does not extend the history it holds."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from blastdoor.config import Settings
from blastdoor.ledger.checkpoint import PublicKey, Signer
from blastdoor.ledger.entry import now
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.verify import verify


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


class _Server:
    def __init__(self, key: Path, folder: Path) -> None:
        self.args = [sys.executable, "-m", "blastdoor", "witness", "serve", "--key", str(key), "--dir", str(folder),
                     "--listen", "127.0.0.1:0"]  # fmt: skip
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> str:
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("witness for blastdoor-ledger/"), line + (self.process.stderr.read() if self.process.stderr else "")
        self.url = line.split(": ", 1)[1].strip()
        self.args[-1] = self.url.split("/")[2]  # a restart listens where the ledger was told to send
        return self.url

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.communicate(timeout=10)


@pytest.fixture
def ledger_and_server(database_url: str, settings_for: Callable[..., Settings], tmp_path: Path) -> Iterator[tuple[Ledger, _Server]]:
    with Ledger.open(settings_for(database_url)) as ledger:
        _ = ledger.signer  # the install key exists from here on
    server = _Server(settings_for(database_url).keys / "install.ed25519.pub", tmp_path / "kept")
    url = server.start()
    with Ledger.open(settings_for(database_url, witnesses=(url,))) as ledger:
        yield ledger, server
    server.stop()


def _post(url: str, data: bytes) -> int:
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def _held(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return bytes(answer.read()).decode()


def test_it_keeps_each_checkpoint_and_carries_on_after_a_restart(ledger_and_server: tuple[Ledger, _Server], tmp_path: Path) -> None:
    ledger, server = ledger_and_server
    for n in range(12):
        ledger.record({"v": 1, "type": "decision", "time": now(), "n": n})
        if n % 4 == 3:
            ledger.checkpoint()
            assert ledger.witness_problems == []
    assert _held(server.url) == ledger.store.checkpoints()[-1].note
    kept = next((tmp_path / "kept").glob("*.checkpoints")).read_text()
    assert kept.count("\n\n\n") == 3  # every checkpoint, appended
    server.stop()
    server.start()  # a restart reads the newest from its folder
    assert _held(server.url) == ledger.store.checkpoints()[-1].note
    ledger.record({"v": 1, "type": "decision", "time": now(), "n": 12})
    ledger.checkpoint()
    assert ledger.witness_problems == [] and verify(ledger).ok and verify(ledger).witnesses == 1


def test_it_refuses_garbage_foreign_keys_and_rewritten_history(ledger_and_server: tuple[Ledger, _Server],
                                                               tmp_path: Path) -> None:  # fmt: skip
    ledger, server = ledger_and_server
    ledger.record({"v": 1, "type": "decision", "time": now()})
    ledger.checkpoint()
    before = _held(server.url)
    assert _post(server.url, b"\x00\xff not json") == 400
    assert _post(server.url, b"x" * (65 * 1024)) == 400
    stranger = _stranger().sign(size=1, root=b"\x00" * 32, time=now())
    assert _post(server.url, json.dumps({"checkpoint": stranger, "old_size": 0, "proof": []}).encode()) == 409
    assert _post(server.url.rsplit("/", 1)[0] + "/blastdoor-ledger_0000000000000000", b"{}") == 404
    # a checkpoint of a shorter tree, properly signed by the ledger's own key: history rewritten
    shorter = ledger.signer.sign(size=1, root=ledger.root(1), time=now())
    held_size = int(before.splitlines()[1])
    assert _post(server.url, json.dumps({"checkpoint": shorter, "old_size": held_size, "proof": []}).encode()) == 409
    assert _held(server.url) == before
    # the note it holds, sent again: acknowledged, not appended again
    kept = next((tmp_path / "kept").glob("*.checkpoints"))
    size = kept.stat().st_size
    assert _post(server.url, json.dumps({"checkpoint": before, "old_size": held_size, "proof": []}).encode()) == 200
    assert kept.stat().st_size == size


def _stranger() -> Signer:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    return Signer(key, PublicKey(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)))


def test_bad_arguments_are_one_line(tmp_path: Path) -> None:
    key = tmp_path / "key.pub"
    key.write_text("not a key")
    for args, said in ((["--key", str(tmp_path / "missing.pub")], "cannot read the public key"),
                       (["--key", str(key)], "is not a PEM public key"),
                       (["--key", str(key), "--listen", "nowhere"], "is not HOST:PORT")):  # fmt: skip
        done = subprocess.run([sys.executable, "-m", "blastdoor", "witness", "serve", "--dir", str(tmp_path), *args],
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert done.returncode != 0 and said in done.stderr and "Traceback" not in done.stderr, done.stderr
