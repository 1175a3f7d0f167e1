"""``blastdoor exec``: the secret reaches the child and nothing else; production runs commands, not
sessions; a credential is never used outside its purpose, approval or not."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.approvals.terminal import on_terminal
from tests.broker.conftest import SECRET, add_profile, cli, entries, ledger_bytes

LEAK = """\
import base64, os, sys, urllib.parse
value = os.environ["API_TOKEN"]
print("same" if value == sys.argv[1] else "different")
print(value)
print(base64.b64encode(value.encode()).decode())
print(base64.b64encode(b"bot:" + value.encode()).decode())
print(urllib.parse.quote("token=" + value, safe=""))
sys.stdout.write(value[:7]); sys.stdout.flush(); sys.stdout.write(value[7:] + "\\n")
print(value, file=sys.stderr)
"""
PASSPHRASE = "correct horse battery"


def test_the_child_gets_the_secret_and_its_output_loses_it(env: dict[str, str], isolated_home: Path, tmp_path: Path) -> None:
    add_profile(env, "ci-token", scope="development", allow=["*"], values={"API_TOKEN": SECRET})
    (tmp_path / "leak.py").write_text(LEAK)
    done = cli(env, "exec", "--profile", "ci-token", "--run", "run-7", "--", "python3", "leak.py", SECRET, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "same"  # the argv the agent passed is scrubbed only in the record, not for the child
    assert SECRET not in done.stdout + done.stderr
    assert lines[1:] == ["[secret removed: API_TOKEN]"] * 2 + [lines[3], "token%3D[secret removed: API_TOKEN]", "[secret removed: API_TOKEN]"]
    assert "[secret removed: API_TOKEN]" in lines[3]  # inside a longer base64 text (HTTP Basic)
    assert done.stderr.strip() == "[secret removed: API_TOKEN]"
    assert SECRET not in ledger_bytes(isolated_home).decode("latin-1")
    outcome = next(e for e in entries(isolated_home) if e["type"] == "broker-exec")
    assert outcome["exit"] == 0 and outcome["run"] == "run-7" and outcome["profile"] == "ci-token"
    assert outcome["stdout_sha256"] == hashlib.sha256(done.stdout.encode()).hexdigest()


def test_production_runs_commands_not_sessions(env: dict[str, str], isolated_home: Path, tmp_path: Path) -> None:
    add_profile(env, "prod", scope="production", allow=["*"], values={"DATABASE_URL": "postgresql://a:b@prod/x"})
    marker = tmp_path / "ran"
    for argv in (["sh", "-c", f"touch {marker}"], ["bash"], ["python3", "-c", f"open('{marker}','w')"],
                 ["env"], ["printenv", "DATABASE_URL"], ["psql"], ["sudo", "touch", str(marker)],
                 ["/usr/bin/env", "touch", str(marker)], ["cat", "/proc/self/environ"]):  # fmt: skip
        done = cli(env, "exec", "--profile", "prod", "--", *argv, cwd=tmp_path)
        assert done.returncode == 5, (argv, done.stdout, done.stderr)
        assert "broker.session-refused" in done.stderr
    assert not marker.exists()
    assert not [e for e in entries(isolated_home) if e["type"] == "broker-exec"]
    decisions = [e for e in entries(isolated_home) if e["type"] == "decision"]
    assert len(decisions) == 9 and {d["credential_name"] for d in decisions} == {"profile:prod"}


def test_out_of_purpose_is_denied_before_any_request(env: dict[str, str], isolated_home: Path) -> None:
    # PocketOS: a token made to manage custom domains was used to delete a volume.
    add_profile(env, "railway-domains", scope="production", allow=["read", "create", "modify"],
                purpose="manage custom domains", values={"RAILWAY_TOKEN": "rw-" + SECRET})  # fmt: skip
    mutation = '{"query":"mutation { volumeDelete(volumeId: \\"vol-1\\") }"}'
    done = cli(env, "exec", "--profile", "railway-domains", "--", "curl", "-X", "POST",
               "https://backboard.railway.app/graphql/v2", "-d", mutation)  # fmt: skip
    assert done.returncode == 5 and "broker.out-of-purpose" in done.stderr
    assert "manage custom domains" in done.stderr
    assert not [e for e in entries(isolated_home) if e["type"] == "approval-request"]


def test_an_approval_cannot_widen_a_purpose(env: dict[str, str], isolated_home: Path, tmp_path: Path) -> None:
    """The same action, approved while the profile allowed it, is denied once the profile no
    longer does, and the approval stays unused."""
    add_profile(env, "prod", scope="production", allow=["*"], values={"DATABASE_URL": "postgresql://a:b@prod/x"})
    argv = ["psql", "-c", "INSERT INTO executives (name) VALUES ('x')"]
    held = cli(env, "exec", "--profile", "prod", "--", *argv, cwd=tmp_path)
    assert held.returncode == 4, held.stderr
    request = re.search(r"Approval request (r-[0-9a-f]{12})", held.stderr).group(1)  # type: ignore[union-attr]
    code, screen = on_terminal(["approver", "add", "alice"], [("new passphrase", PASSPHRASE), ("again", PASSPHRASE)],
                               home=isolated_home, env=env)  # fmt: skip
    assert code == 0, screen
    code, screen = on_terminal(["approve", request], [("passphrase", PASSPHRASE)], home=isolated_home, env=env)
    assert code == 0, screen
    done = cli(env, "profile", "add", "prod", "--replace", "--scope", "production", "--purpose", "reports",
               "--allow", "read", "--secret", "DATABASE_URL", stdin="postgresql://a:b@prod/x\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    again = cli(env, "exec", "--profile", "prod", "--", *argv, cwd=tmp_path)
    assert again.returncode == 5 and "broker.out-of-purpose" in again.stderr
    assert not [e for e in entries(isolated_home) if e["type"] == "approval-used"]
    listed = cli(env, "requests", "--all")
    assert request in listed.stdout and "APPROVED" in listed.stdout


def test_a_password_given_as_a_url_parameter_is_scrubbed_too(env: dict[str, str], tmp_path: Path) -> None:
    url = f"postgresql://app@db.internal:5432/app?password={SECRET}&sslmode=disable"
    add_profile(env, "dev-db", scope="development", allow=["*"], values={"DATABASE_URL": url})
    (tmp_path / "show.py").write_text("import os\nprint(os.environ['PGPASSWORD'], os.environ['PGHOST'])\n")
    done = cli(env, "exec", "--profile", "dev-db", "--", "python3", "show.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[secret", "removed:", "DATABASE_URL]", "db.internal"]


@pytest.mark.parametrize("argv", [["psql", "-c", "DROP TABLE executives"], ["psql", "-Atc", "DELETE FROM executives"],
                                  ["mysql", "-e", "TRUNCATE executives"], ["psql", "-c", "UPDATE executives SET title = NULL"]],
                         ids=["drop", "delete", "truncate", "update"])  # fmt: skip
def test_sql_that_destroys_data_is_sent_to_blastdoor_sql_which_saves_it_first(env: dict[str, str], isolated_home: Path,
                                                                               tmp_path: Path, argv: list[str]) -> None:  # fmt: skip
    """A client under exec runs its SQL where the broker cannot snapshot what it destroys, so on a
    production profile it is denied, approval or not, with the command that does save it first."""
    add_profile(env, "prod", scope="production", allow=["*"], values={"DATABASE_URL": "postgresql://a:b@prod/x"})
    done = cli(env, "exec", "--profile", "prod", "--", *argv, cwd=tmp_path)
    assert done.returncode == 5 and "broker.no-snapshot" in done.stderr, done.stderr
    assert "blastdoor sql --profile prod" in done.stderr
    assert not [e for e in entries(isolated_home) if e["type"] == "approval-request"]


@pytest.mark.parametrize(("argv", "session"), [
    (["psql", "-Atc", "SELECT 1"], False), (["psql", "-At"], True), (["psql", "-U", "-c"], True),
    (["mysql", "-uroot", "-Nse", "SELECT 1"], False), (["mysql", "-uroot"], True), (["psql", "-l"], False),
], ids=["psql-bundled", "psql-flags-only", "psql-c-as-a-user-name", "mysql-bundled", "mysql-bare", "psql-list"])  # fmt: skip
def test_a_database_client_is_a_session_unless_its_own_parser_finds_a_statement(argv: list[str], session: bool) -> None:
    """Read as psql's and mysql's getopt read them: -Atc carries a statement; in -U -c, -c is the
    user's name and the client opens a session."""
    from blastdoor.broker.sessions import refusal

    assert bool(refusal(argv)) is session


def test_programs_that_run_code_or_open_a_shell_are_sessions_too(env: dict[str, str], isolated_home: Path,
                                                                 tmp_path: Path) -> None:  # fmt: skip
    """awk, jq and sed are languages with the environment in reach (awk's ENVIRON printed the
    token one letter at a time, past the scrubber); find -exec, editors and pagers run other
    programs; psql's \\! and mysql's system run a shell from the statement itself."""
    add_profile(env, "prod", scope="production", allow=["*"], values={"API_TOKEN": SECRET})
    marker = tmp_path / "ran"
    spelled = 'BEGIN{s=ENVIRON["API_TOKEN"]; for(i=1;i<=length(s);i++) printf("%s.", substr(s,i,1))}'
    for argv in (["awk", spelled], ["gawk", spelled], ["jq", "-n", "env.API_TOKEN|explode"], ["sed", "-n", f"1e touch {marker}"],
                 ["find", str(tmp_path), "-maxdepth", "0", "-exec", "touch", str(marker), ";"], ["less", "/etc/hostname"],
                 ["vim", "-c", f"!touch {marker}"], ["make", "-f", "/dev/null"],
                 ["psql", "-c", f"SELECT 1 \\! touch {marker}"], ["psql", "-Atc", f"\\o |touch {marker}"],
                 ["mysql", "-e", f"system touch {marker}"], ["mysql", "-e", f"SELECT 1; \\! touch {marker}"]):  # fmt: skip
        done = cli(env, "exec", "--profile", "prod", "--", *argv, cwd=tmp_path)
        assert done.returncode == 5 and "broker.session-refused" in done.stderr, (argv, done.stdout, done.stderr)
        assert done.stdout == ""
    assert not marker.exists()
    assert not [e for e in entries(isolated_home) if e["type"] == "broker-exec"]
    for argv in (["psql", "-c", "\\dt"], ["psql", "-c", "SELECT 'a\\b'"], ["find", str(tmp_path), "-name", "x"]):
        done = cli(env, "exec", "--profile", "prod", "--", *argv, cwd=tmp_path)
        assert "broker.session-refused" not in done.stderr, (argv, done.stderr)
