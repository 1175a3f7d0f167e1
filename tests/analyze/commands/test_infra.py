"""Terraform, OpenTofu, terragrunt, pulumi, cdk and serverless: what changes real infrastructure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blastdoor.judge import MAX_SCRIPT_BYTES, judge
from blastdoor.model import Action
from blastdoor.policy import load
from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("terraform destroy -auto-approve", "hold"),
        ("tofu apply -destroy", "hold"),
        ("terraform apply", "hold"),
        ("terraform apply -var-file=staging.tfvars", "ask"),
        ("terraform apply saved.tfplan", "ask"),
        ("terraform -chdir=envs/dev apply -auto-approve", "allow"),
        ("terraform -chdir=envs/staging destroy", "ask"),
        ("terraform state rm module.db", "hold"),
        ("terraform state mv -dry-run a b", "allow"),
        ("terraform workspace delete prod", "hold"),
        ("terraform workspace select qa", "allow"),
        ("terraform force-unlock 1234", "hold"),
        ("terraform plan -destroy -out=gone.tfplan", "allow"),
        ("terraform init -upgrade", "allow"),
        ("terraform state list", "allow"),
        ("terraform output -json", "allow"),
        ("terragrunt run-all destroy", "hold"),
        ("pulumi destroy --yes --stack acme/prod", "hold"),
        ("pulumi preview", "allow"),
        ("pulumi stack rm old-stack", "hold"),
        ("cdk diff", "allow"),
        ("cdk destroy MyStack", "hold"),
        ("sls remove --stage prod", "hold"),
        ("serverless deploy --stage dev", "allow"),
    ],
)
def test_infra_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


def test_workspace_from_the_environment_decides_scope() -> None:
    assert decide("terraform destroy", env={"TF_WORKSPACE": "dev"}).kind.value == "allow"
    assert decide("TF_WORKSPACE=production terraform apply").kind.value == "hold"


def test_auto_approve_is_tagged() -> None:
    found = decide("terraform apply -auto-approve").effects[0]
    assert "auto-approve" in found.tags


@pytest.mark.parametrize(
    ("cwd", "expected"),
    [
        ("/home/me/ci-check", "hold"),  # a checkout named for CI is not a CI environment
        ("/home/me/src/test_infra", "hold"),
        ("/tmp/scratch-dev-copy", "hold"),
        ("/srv/infra/envs/dev", "allow"),  # a folder named exactly for an environment
        ("/srv/infra/envs/staging", "ask"),
        ("/srv/infra/prod-eu/network", "hold"),  # production anywhere in the folder raises
    ],
)
def test_folder_names_raise_scope_but_lower_it_only_when_exact(cwd: str, expected: str) -> None:
    assert decide("terraform destroy -auto-approve", cwd=cwd).kind.value == expected


def test_the_state_a_command_writes_is_marked(tmp_path: Path) -> None:
    state = '{"version": 4, "terraform_version": "1.9.0", "serial": 12, "lineage": "1f2e-abc", "resources": []}'
    (tmp_path / "old.tfstate").write_text(state.replace("12", "3"))
    (tmp_path / "terraform.tfstate.d" / "prod").mkdir(parents=True)
    (tmp_path / "terraform.tfstate.d" / "prod" / "terraform.tfstate").write_text(state)

    def marks(command: str, **env: str) -> set[str]:
        return {t for e in decide(command, cwd=str(tmp_path), env=env).effects for t in e.tags if t.startswith("tfstate")}

    assert marks("terraform destroy -state old.tfstate") == {"tfstate=1f2e-abc:3"}
    assert marks("terraform apply -state=old.tfstate") == {"tfstate=1f2e-abc:3"}
    assert marks("terraform apply", TF_WORKSPACE="prod") == {"tfstate=1f2e-abc:12"}
    assert marks("terraform state push old.tfstate", TF_WORKSPACE="prod") == {"tfstate=1f2e-abc:12", "tfstate-push=1f2e-abc:3"}
    assert marks("terraform plan") == set()
    assert marks("terraform state list", TF_WORKSPACE="prod") == set()  # reads never move the stored serial
    assert marks("terraform state show aws_db.main", TF_WORKSPACE="prod") == set()
    assert marks("terraform state rm aws_db.main", TF_WORKSPACE="prod") == {"tfstate=1f2e-abc:12"}
    assert marks("TF_WORKSPACE=prod terraform destroy") == {"tfstate=1f2e-abc:12"}  # the assignment names the workspace
    pushed = marks("terraform state push -lock-timeout 10s old.tfstate", TF_WORKSPACE="prod")
    assert "tfstate-push=1f2e-abc:3" in pushed  # a flag's value is not the file pushed


def test_a_state_larger_than_a_script_is_still_marked(tmp_path: Path) -> None:
    resources = [
        {"mode": "managed", "type": "aws_s3_object", "name": f"o{i}", "provider": "aws",
         "instances": [{"attributes": {"key": f"assets/{i:06}.png", "etag": "0" * 32}}]}
        for i in range(12_000)
    ]  # fmt: skip
    state = {"version": 4, "terraform_version": "1.9.0", "serial": 881, "lineage": "7c1d-big",
             "outputs": {}, "resources": resources}  # fmt: skip
    (tmp_path / "terraform.tfstate").write_text(json.dumps(state, indent=2))
    assert (tmp_path / "terraform.tfstate").stat().st_size > 2 * MAX_SCRIPT_BYTES
    effects = decide("terraform destroy -auto-approve", cwd=str(tmp_path)).effects
    assert {t for e in effects for t in e.tags if t.startswith("tfstate")} == {"tfstate=7c1d-big:881"}
    # a reader that only reads whole files (a test's dict) gives the head of what it has
    small = json.dumps({**state, "resources": []})
    files = {"terraform.tfstate": small}
    effects = judge(Action.shell("terraform destroy"), load(), files=files.get).effects
    assert {t for e in effects for t in e.tags if t.startswith("tfstate")} == {"tfstate=7c1d-big:881"}


@pytest.mark.parametrize(
    ("command", "cwd", "expected"),
    [
        ("cd envs/prod && terraform apply -auto-approve", "/srv/infra", "hold"),
        ("cd envs/staging && terraform destroy", "/srv/infra", "ask"),
        ("cd envs/dev && terraform destroy -auto-approve", "/srv/infra", "allow"),
        ("cd envs/dev && terraform destroy -auto-approve", None, "allow"),
        ("cd /srv/infra/envs/dev && cd ../prod && terraform destroy", "/tmp", "hold"),
        ('cd "$TARGET" && terraform destroy -auto-approve', "/srv/infra/envs/dev", "hold"),  # moved somewhere unknown
    ],
)
def test_terraform_runs_in_the_folder_the_shell_moved_to(command: str, cwd: str | None, expected: str) -> None:
    assert decide(command, cwd=cwd).kind.value == expected
