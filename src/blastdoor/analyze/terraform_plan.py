"""Terraform and OpenTofu plans: what applying one would do, resource by resource.

Input is the JSON that ``terraform show -json PLANFILE`` (or ``tofu show -json``) prints
(https://developer.hashicorp.com/terraform/internals/json-format). Each entry of
``resource_changes`` carries ``change.actions``: ``["delete"]``, a replacement
(``["delete", "create"]`` or, with ``create_before_destroy``, ``["create", "delete"]``),
``["update"]``, ``["create"]``, ``["read"]``, ``["no-op"]`` or ``["forget"]``, and for deletes and
replacements an ``action_reason`` (``delete_because_no_resource_config``: the block vanished from
the configuration; ``replace_because_tainted``; ...).

Effects: a delete or replacement of a *stateful* resource (one that holds data a configuration
cannot bring back: databases, volumes, buckets, queues, keys, DNS zones, IAM) is a ``destroy``,
one effect per resource; other deletes and replacements are one ``delete`` effect with their
count; creations and updates are counted the same way. Updates that weaken a resource's own
protection (``deletion_protection`` turned off, ``skip_final_snapshot`` turned on, backup retention
cut, ``force_destroy`` turned on) are effects of their own. A plan this module cannot read gives an
``execute-unknown`` effect that says what was not understood.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

from blastdoor.model import Blast, Effect, Reversibility, Target, Verb

KNOWN_FORMATS = ("0.", "1.")  # format_version majors this module was written against
SHOWN = 5  # addresses named in one effect's detail
ENV_VARIABLES = ("env", "environment", "stage", "workspace", "tier")

# Type names (provider prefix included) of resources whose deletion loses data or access.
_STATEFUL = re.compile(
    r"(^|_)(db|rds|database|sql|postgres(ql)?|mysql|mariadb|mongo(db)?|mongodbatlas|dynamodb|docdb|documentdb|"
    r"neptune|redshift|aurora|cosmosdb|spanner|bigtable|bigquery|firestore|datastore|keyspaces?|cassandra|"
    r"elasticache|redis|memcached?|memorydb|opensearch|elasticsearch|timestream|qldb|"
    r"s3|bucket|storage|blob|volume|disk|ebs|efs|fsx|file_system|filestore|glacier|backup|snapshot|"
    r"queue|sqs|sns|kinesis|stream|kafka|msk|mq|pubsub|eventhub|servicebus|"
    r"kms|key_ring|crypto_key|key_vault|secret|secretsmanager|ssm_parameter|"
    r"zone|iam|cognito|user_pool|identity_pool|directory|"
    r"ecr|repository|container_registry|artifact_registry|registry|"
    r"persistent_volume|persistent_volume_claim|stateful_set|namespace|"
    r"neon|supabase|planetscale|turso|railway_volume|fly_volume|render_postgres|heroku_addon|"
    r"private_key|certificate_authority)(_|$)"
)  # fmt: skip
# ... except these, whose names contain such a word but hold nothing of their own
_STATELESS = re.compile(
    r"_(policy|policy_attachment|attachment|association|notification|lifecycle_configuration|"
    r"public_access_block|ownership_controls|versioning|acl|cors_configuration|website_configuration|"
    r"logging|metric|replication_configuration|subscription|event_source_mapping|record|record_set|"
    r"parameter_group|subnet_group|option_group|proxy_target|endpoint|alias|grant|member|binding)$"
)  # fmt: skip

_PROTECTION_OFF = ("deletion_protection", "prevent_destroy", "termination_protection", "disable_api_termination",
                   "enable_deletion_protection", "delete_protection")  # fmt: skip
_RETENTION = re.compile(r"(backup_retention(_period)?|retention_(period|in_days)|backup_retention_days|snapshot_retention_limit|retention_days)$")  # fmt: skip


_ACTIONS = frozenset({"delete", "create", "update", "read", "no-op", "forget"})


class PlanError(ValueError):
    """The input is not a plan this module can read."""


@dataclass(frozen=True)
class Change:
    """One resource change, reduced to what the effects need."""

    address: str
    type: str
    action: str  # delete, replace, create, update, read, no-op, forget
    reason: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    marked: bool = False  # named as holding data by the policy's stateful_resources

    @property
    def stateful(self) -> bool:
        return self.marked or stateful(self.type)


def stateful(type_name: str) -> bool:
    """Whether deleting a resource of this type loses data (or access) a configuration cannot restore."""
    name = type_name.lower()
    return bool(_STATEFUL.search(name)) and not _STATELESS.search(name)


def _marked(change: Change, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(change.address, pattern) or fnmatchcase(change.type, pattern) for pattern in patterns)


def load(text: str) -> Mapping[str, Any]:
    """The plan object in ``text`` (JSON), or a PlanError saying what is wrong with it."""
    if not text.strip():
        raise PlanError("the plan is empty")
    try:
        plan = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        where = f" at line {error.lineno}" if isinstance(error, json.JSONDecodeError) else ""
        raise PlanError(f"the plan is not valid JSON{where} (truncated?)") from None
    if not isinstance(plan, dict):
        raise PlanError("the plan is not a JSON object")
    return plan


def changes(plan: Mapping[str, Any]) -> list[Change]:
    """Every resource change of ``plan``; a PlanError when it is not a plan this module reads."""
    version = str(plan.get("format_version", ""))
    if "lineage" in plan and "serial" in plan:
        raise PlanError("this is a Terraform state file, not a plan (terraform show -json PLANFILE makes one)")
    if not version:
        raise PlanError("the JSON has no format_version: it is not the output of terraform show -json")
    if not version.startswith(KNOWN_FORMATS):
        raise PlanError(f"plan format {version[:20]} is newer than this Blastdoor knows (0.x, 1.x)")
    found = plan.get("resource_changes") or []
    if not isinstance(found, list):
        raise PlanError("resource_changes is not a list")
    return [_change(item) if isinstance(item, dict) else Change("?", "", "unknown", "", {}, {}) for item in found]


def _change(item: Mapping[str, Any]) -> Change:
    change = _object(item.get("change"))
    actions = [a for a in change.get("actions", []) if isinstance(a, str)]
    if sorted(actions) == ["create", "delete"]:
        action = "replace"
    elif len(actions) == 1 and actions[0] in _ACTIONS:
        action = actions[0]
    else:  # an action this module does not know is not taken to be harmless
        action = "unknown"
    return Change(str(item.get("address", "?")), str(item.get("type", "")), action, str(item.get("action_reason") or ""),
                  _object(change.get("before")), _object(change.get("after")))  # fmt: skip


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def hints(plan: Mapping[str, Any]) -> set[str]:
    """Scope hints the plan carries: variables such as ``environment = "production"``."""
    found = set()
    variables = plan.get("variables")
    if isinstance(variables, dict):
        for name, entry in variables.items():
            value = entry.get("value") if isinstance(entry, dict) else None
            if str(name).lower() in ENV_VARIABLES and isinstance(value, str) and value:
                found.add(f"env={value[:100]}")
    return found


def analyze_plan(text: str, *, target: str = "", evidence: str = "", stateful: Sequence[str] = ()) -> list[Effect]:
    """The effects of applying the plan in ``text`` (JSON) to the workspace ``target``. ``stateful``
    are more addresses or types (globs) of resources that hold data: your own providers and modules."""
    where = Target("terraform", target or "plan")
    proof = evidence or f"terraform plan ({len(text):,} bytes of JSON)"
    tags = {"terraform", "plan"} | ({f"workspace={target}"} if target else set())
    try:
        plan = load(text)
        found = changes(plan)
    except PlanError as error:
        return [Effect(verb=Verb.EXECUTE_UNKNOWN, target=where, evidence=proof, reversibility=Reversibility.IRREVERSIBLE,
                       detail=f"apply a plan Blastdoor could not understand: {error}", tags=frozenset(tags))]  # fmt: skip
    tags |= hints(plan)
    if stateful:
        found = [replace(change, marked=True) if _marked(change, stateful) else change for change in found]
    effects = list(_effects(found, where, proof, frozenset(tags)))
    if not effects:
        effects.append(Effect(verb=Verb.READ, target=where, evidence=proof, tags=frozenset(tags),
                              detail=f"the plan changes nothing ({len(found)} resources unchanged)"))  # fmt: skip
    return effects


def _effects(found: Sequence[Change], where: Target, proof: str, tags: frozenset[str]) -> Iterator[Effect]:
    destroyed: list[Effect] = []
    weakened: list[Effect] = []
    grouped: dict[str, list[Change]] = {}
    for change in found:
        if change.action in ("delete", "replace") and change.stateful:
            destroyed.append(_destroy(change, proof, tags))
        else:
            grouped.setdefault(change.action, []).append(change)
        weakened.extend(_weakened(change, proof, tags))
    yield from destroyed
    yield from weakened
    for action, verb, rev, words in (
        ("delete", Verb.DELETE, Reversibility.REVERSIBLE, "delete"),
        ("replace", Verb.DELETE, Reversibility.REVERSIBLE, "delete and re-create"),
        ("forget", Verb.MODIFY, Reversibility.REVERSIBLE, "stop managing (left in place)"),
        ("update", Verb.MODIFY, Reversibility.REVERSIBLE, "update in place"),
        ("create", Verb.CREATE, Reversibility.REVERSIBLE, "create"),
        ("unknown", Verb.EXECUTE_UNKNOWN, Reversibility.IRREVERSIBLE, "change in ways Blastdoor cannot read"),
    ):  # fmt: skip
        group = grouped.get(action, [])
        if group:
            extra = {"replace"} if action == "replace" else set()
            yield Effect(verb=verb, target=where, evidence=proof, reversibility=rev, blast=Blast(resources=len(group)),
                         detail=f"{words} {_count(group)}" + (" (stateless: the configuration makes them again)"
                                                             if action in ("delete", "replace") else ""),
                         tags=tags | extra)  # fmt: skip


def _destroy(change: Change, proof: str, tags: frozenset[str]) -> Effect:
    why = {"delete_because_no_resource_config": "its block was removed from the configuration",
           "delete_because_no_module": "its module was removed from the configuration",
           "delete_because_count_index": "count no longer includes it",
           "delete_because_each_key": "for_each no longer includes it",
           "replace_because_tainted": "it is tainted",
           "replace_by_request": "-replace asked for it",
           "replace_because_cannot_update": "a changed argument forces a new resource"}.get(change.reason, change.reason)  # fmt: skip
    verb = "replace (destroy, then create empty)" if change.action == "replace" else "destroy"
    extra = {"stateful", "replace"} if change.action == "replace" else {"stateful"}
    if change.reason == "delete_because_no_resource_config":
        extra.add("config-removed")
    if change.before.get("skip_final_snapshot") is True:
        extra.add("no-final-snapshot")
    return Effect(verb=Verb.DESTROY, target=Target("terraform-resource", change.address), evidence=proof,
                  reversibility=Reversibility.IRREVERSIBLE, blast=Blast(resources=1), tags=tags | extra,
                  detail=f"{verb} {change.address} ({change.type}), which holds data" + (f": {why}" if why else ""))  # fmt: skip


def _weakened(change: Change, proof: str, tags: frozenset[str]) -> Iterator[Effect]:
    """Updates that take away a resource's own protection against loss."""
    if change.action not in ("update", "replace", "create"):
        return
    before, after = change.before, change.after
    said = []
    for name in _PROTECTION_OFF:
        if before.get(name) is True and after.get(name) is False:
            said.append(f"turns {name} off")
    if after.get("skip_final_snapshot") is True and before.get("skip_final_snapshot") is not True and change.stateful:
        said.append("sets skip_final_snapshot, so deleting it keeps no final snapshot")
    if after.get("force_destroy") is True and before.get("force_destroy") is not True:
        said.append("sets force_destroy, so deleting it also deletes what it holds")
    for name, old in before.items():
        new = after.get(name)
        if _RETENTION.search(name) and isinstance(old, int) and isinstance(new, int) and new < old:
            said.append(f"cuts {name} from {old} to {new}")
    if said:
        yield Effect(verb=Verb.MODIFY, target=Target("terraform-resource", change.address), evidence=proof,
                     reversibility=Reversibility.IRREVERSIBLE, tags=tags | {"protection-off"},
                     detail=f"{change.address} ({change.type}): " + "; ".join(said))  # fmt: skip


def _count(group: Sequence[Change]) -> str:
    names = ", ".join(c.address for c in group[:SHOWN])
    more = f" and {len(group) - SHOWN} more" if len(group) > SHOWN else ""
    noun = "resource" if len(group) == 1 else "resources"
    return f"{len(group)} {noun} ({names}{more})"
