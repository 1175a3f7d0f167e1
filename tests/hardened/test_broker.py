"""The broker in hardened mode: the daemon holds the credentials and runs the calls; the agent's
user asks over the socket and never holds, reads or adds a credential."""

from __future__ import annotations

from pathlib import Path

from tests.broker.conftest import SECRET, pg_database, query  # noqa: F401  (pg_database is a fixture)
from tests.hardened.conftest import Machine


def test_an_agent_runs_sql_through_the_daemon_without_the_credential(machine: Machine, pg_database: str) -> None:  # noqa: F811
    query(pg_database, "CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 7)")
    # a person (in the approvers group) stores the credential with the daemon
    added = machine.run(machine.alice, "profile", "add", "prod-db", "--scope", "production", "--purpose", "orders",
                        "--allow", "read", "--secret", "DATABASE_URL", stdin=pg_database + "\n")  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    stored = machine.home / "profiles" / "prod-db.json"
    assert stored.stat().st_uid not in (machine.agent.uid, machine.alice.uid) and SECRET not in stored.read_text()
    listed = machine.run(machine.agent, "profile", "list")
    assert "prod-db  production  allows read" in listed.stdout and SECRET not in listed.stdout
    # the agent reads through the broker: the daemon ran it, the ledger names the agent's uid
    done = machine.run(machine.agent, "sql", "--profile", "prod-db", "--session", "s-hb", "--", "SELECT count(*) FROM orders")
    assert done.returncode == 0 and done.stdout.splitlines()[:2] == ["count", "7"], done.stdout + done.stderr
    decision = [e for e in machine.entries() if e["type"] == "decision" and e.get("session") == "s-hb"][-1]
    assert decision["uid"] == machine.agent.uid and decision["credential_name"] == "profile:prod-db"
    # out of the credential's purpose: denied, whoever asks
    deleted = machine.run(machine.agent, "sql", "--profile", "prod-db", "--", "DELETE FROM orders")
    assert deleted.returncode == 5 and "broker.out-of-purpose" in deleted.stderr, deleted.stderr
    assert query(pg_database, "SELECT count(*) FROM orders") == [(7,)]
    assert SECRET not in done.stdout + done.stderr + deleted.stderr


def test_the_agents_user_cannot_add_or_remove(machine: Machine, tmp_path: Path) -> None:
    tried = machine.run(machine.agent, "profile", "add", "mine", "--scope", "production", "--purpose", "x",
                        "--allow", "*", "--secret", "TOKEN", stdin="t0ken-value\n")  # fmt: skip
    assert tried.returncode == 1 and "may not add profiles" in tried.stderr, tried.stderr
    assert not (machine.home / "profiles" / "mine.json").exists()
    removed = machine.run(machine.agent, "profile", "remove", "prod-db")
    assert removed.returncode == 1 and "may not remove profiles" in removed.stderr
    refused = [e for e in machine.entries() if e["type"] == "approval-refused" and e.get("uid") == machine.agent.uid]
    assert any("may not add profiles" in e.get("why", "") for e in refused)
    # claiming another uid changes nothing: the daemon records the one the kernel names
    added = machine.run(machine.alice, "profile", "add", "nowhere-db", "--scope", "development", "--purpose", "x",
                        "--secret", "DATABASE_URL", "--replace", stdin="postgresql://u:pw1234@127.0.0.1:1/none\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    machine.run(machine.agent, "sql", "--profile", "nowhere-db", "--uid", "0", "--session", "s-forged-uid", "--", "SELECT 1")
    claimed = [e for e in machine.entries() if e["type"] == "decision" and e.get("session") == "s-forged-uid"]
    assert claimed and {e["uid"] for e in claimed} == {machine.agent.uid}


def test_a_multi_line_secret_reaches_the_daemon_whole(machine: Machine) -> None:
    from blastdoor.broker.vault import Vault
    from blastdoor.config import Settings

    pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----"
    added = machine.run(machine.alice, "profile", "add", "signing", "--scope", "staging", "--purpose", "sign builds",
                        "--secret", "SIGNING_KEY", "--secret", "OTHER", "--from-env", "--replace",
                        env={"SIGNING_KEY": pem, "OTHER": "second-value"})  # fmt: skip
    assert added.returncode == 0, added.stderr
    stored = Vault.of(Settings.resolve(home=str(machine.home), env={})).get("signing")
    assert stored.secrets == {"SIGNING_KEY": pem, "OTHER": "second-value"}
    assert stored.by == machine.alice.name  # the person the socket named, not the daemon's user


def test_profile_values_never_become_the_daemons_environment() -> None:
    # a variable named LD_PRELOAD is a value to store, not something the daemon's child may act on
    import json

    from blastdoor.hardened.broker_ops import _profile_add
    from blastdoor.integrations.daemon import Peer

    call = {"name": "p", "scope": "staging", "purpose": "x", "secret": ["LD_PRELOAD"], "values": {"LD_PRELOAD": "/x.so"}}
    deferred = _profile_add(call, Peer(pid=1, uid=0, gid=0))
    assert set(deferred.env) == {"USER"} and json.loads(deferred.stdin) == {"LD_PRELOAD": "/x.so"}
    assert "--values-json" in deferred.argv and not any(part.startswith("/x.so") for part in deferred.argv)


PROGRAM = """import os, pwd, sys
print(os.environ.get("API_TOKEN") == sys.argv[1])
print(os.environ["API_TOKEN"])
print(pwd.getpwuid(os.getuid()).pw_name)
try:
    os.listdir(sys.argv[2])
    print("the home is open")
except PermissionError:
    print("the home is closed")
"""


def test_exec_runs_the_program_as_the_runner_never_as_the_daemon(machine: Machine) -> None:
    import pwd

    added = machine.run(machine.alice, "profile", "add", "ci-token", "--scope", "development", "--purpose", "ci",
                        "--allow", "*", "--secret", "API_TOKEN", "--replace", stdin="tok-" + SECRET + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    work = machine.folder / "agent-work"
    work.mkdir(mode=0o755, exist_ok=True)
    (work / "who.py").write_text(PROGRAM)
    done = machine.run(machine.agent, "exec", "--profile", "ci-token", "--session", "s-runner", "--", "python3",
                       "who.py", "tok-" + SECRET, str(machine.home), cwd=work)  # fmt: skip
    daemon_user = pwd.getpwuid(machine.home.stat().st_uid).pw_name
    assert done.returncode == 0, done.stdout + done.stderr
    # the secret reached the program, not its output; the program ran as the runner, who cannot read the home
    lines = done.stdout.splitlines()
    assert lines[:2] + lines[3:] == ["True", "[secret removed: API_TOKEN]", "the home is closed"]
    assert lines[2] in (f"{daemon_user}-run0", f"{daemon_user}-run1")  # a runner of the pool
    assert SECRET not in done.stdout + done.stderr
    entries = [e for e in machine.entries() if e.get("session") == "s-runner"]
    assert [e["uid"] for e in entries if e["type"] == "decision"] == [machine.agent.uid]
    outcome = [e for e in entries if e["type"] == "broker-exec"][-1]
    assert outcome["runner"] is True and outcome["exit"] == 0


def test_nothing_one_exec_leaves_behind_lives_into_the_next(machine: Machine) -> None:
    """A child that leaves its process group (its own session) would live on as the runner's user
    and could read the next program's environment; the runner kills it when the program ends."""
    import os
    import time

    added = machine.run(machine.alice, "profile", "add", "ci-token", "--scope", "development", "--purpose", "ci",
                        "--allow", "*", "--secret", "API_TOKEN", "--replace", stdin="tok-" + SECRET + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    work = machine.folder / "agent-work"
    work.mkdir(mode=0o755, exist_ok=True)
    (work / "escape.py").write_text("import subprocess\n"
                                    "p = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
                                    "print(p.pid)\n")  # fmt: skip
    done = machine.run(machine.agent, "exec", "--profile", "ci-token", "--session", "s-escape", "--", "python3",
                       "escape.py", cwd=work)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    escaped = int(done.stdout.split()[0])
    for _ in range(50):  # killed by the runner; reaped by init soon after
        try:
            os.kill(escaped, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"process {escaped}, started by the first exec, is still running")


def test_exec_output_reaches_the_agent_while_the_program_runs(machine: Machine) -> None:
    """A long command (a deploy, a migration) shows its progress: the first line arrives while the
    program still waits, scrubbed like the rest."""
    import select

    added = machine.run(machine.alice, "profile", "add", "ci-token", "--scope", "development", "--purpose", "ci",
                        "--allow", "*", "--secret", "API_TOKEN", "--replace", stdin="tok-" + SECRET + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    work = machine.folder / "agent-work"
    work.mkdir(mode=0o755, exist_ok=True)
    go = work / "go"
    go.unlink(missing_ok=True)
    (work / "slow.py").write_text("import os, sys, time\n"
                                  "print('step one with', os.environ['API_TOKEN'], flush=True)\n"
                                  f"deadline = time.time() + 60\nwhile not os.path.exists({str(go)!r}) and time.time() < deadline:\n"
                                  "    time.sleep(0.05)\n"
                                  "print('step two')\n")  # fmt: skip
    started = machine.start(machine.agent, "exec", "--profile", "ci-token", "--", "python3", "slow.py", cwd=work)
    try:
        assert started.stdout is not None
        ready, _, _ = select.select([started.stdout], [], [], 60)
        assert ready, "nothing arrived while the program ran"
        first = started.stdout.readline()
        assert started.poll() is None  # the program is still waiting for the go
        assert first == "step one with [secret removed: API_TOKEN]\n"
        go.touch()
        rest, errors = started.communicate(timeout=60)
    finally:
        if started.poll() is None:
            started.kill()
    assert started.returncode == 0, errors
    assert rest == "step two\n" and SECRET not in first + rest + errors


def test_only_the_daemons_user_reaches_the_runner(machine: Machine) -> None:
    import os

    import pytest

    from blastdoor.errors import BlastdoorError
    from blastdoor.hardened.runner import run, runner_socket

    path = runner_socket(machine.socket, 0)
    # the agent's user cannot even reach the socket: its folder admits only the daemon's group
    probe = machine.python_as(machine.agent, "-c", f"import socket; socket.socket(socket.AF_UNIX).connect({str(path)!r})")
    assert probe.returncode != 0 and "PermissionError" in probe.stderr
    # root can reach it, and is refused: the runner serves the daemon's user alone
    out = os.open(os.devnull, os.O_WRONLY)
    try:
        with pytest.raises(BlastdoorError, match="serves only the Blastdoor daemon's user"):
            run(str(path), ["id"], env={}, cwd="/", stdout=out, stderr=out)
    finally:
        os.close(out)


def test_ctrl_c_on_sql_leaves_the_statement_to_the_daemon(machine: Machine, pg_database: str) -> None:  # noqa: F811
    """A statement is not cut off halfway: the agent's client says so and exits 130; the daemon
    runs it to its end and records it."""
    import signal
    import time

    added = machine.run(machine.alice, "profile", "add", "slow-db", "--scope", "development", "--purpose", "tests",
                        "--allow", "*", "--secret", "DATABASE_URL", "--replace", stdin=pg_database + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr

    def recorded(kind: str) -> list[dict[str, object]]:
        return [e for e in machine.entries() if e.get("session") == "s-sql-ctrl-c" and e["type"] == kind]

    def wait_for(kind: str) -> list[dict[str, object]]:
        deadline = time.monotonic() + 30
        while not (found := recorded(kind)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return found

    started = machine.start(machine.agent, "sql", "--profile", "slow-db", "--session", "s-sql-ctrl-c", "--",
                            "SELECT 'slept' FROM pg_sleep(3)", cwd=machine.folder)  # fmt: skip
    assert wait_for("decision"), "the daemon never judged the statement"  # the client now waits for its end
    started.send_signal(signal.SIGINT)
    out, err = started.communicate(timeout=60)
    assert started.returncode == 130 and "slept" not in out
    assert err == "blastdoor: interrupted; the daemon runs the call to its end and records how it ended\n"
    assert not recorded("broker-sql")  # the statement was still running when the client left
    ended = wait_for("broker-sql")
    assert ended and ended[-1]["result"] == "committed"


def test_no_file_of_the_daemons_home_holds_a_secret_in_the_clear(machine: Machine) -> None:
    """After a program printed its secret on both streams and failed, the daemon's and runners'
    logs, the ledger's database and everything else in the home hold neither the secret nor its
    base64 form (the profile store is sealed)."""
    import base64

    added = machine.run(machine.alice, "profile", "add", "leaky", "--scope", "development", "--purpose", "ci",
                        "--allow", "*", "--secret", "API_TOKEN", "--replace", stdin="tok-" + SECRET + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    work = machine.folder / "leaky-work"
    work.mkdir(mode=0o755, exist_ok=True)
    (work / "leak.py").write_text("import os, sys\nprint(os.environ['API_TOKEN'])\n"
                                  "sys.exit('failed with ' + os.environ['API_TOKEN'])\n")  # fmt: skip
    done = machine.run(machine.agent, "exec", "--profile", "leaky", "--session", "s-leak", "--", "python3", "leak.py", cwd=work)
    assert done.returncode == 1 and "[secret removed: API_TOKEN]" in done.stdout + done.stderr
    forms = [SECRET.encode(), base64.b64encode(("tok-" + SECRET).encode())]
    holding = [str(path) for path in machine.home.rglob("*") if path.is_file()
               and any(form in path.read_bytes() for form in forms)]  # fmt: skip
    assert holding == [], holding
