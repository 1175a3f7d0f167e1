"""Ledger export: JSONL round-trips to the hashes, OCSF 1.4.0 events, OTLP/JSON log requests."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from blastdoor.errors import BlastdoorError
from blastdoor.ledger.entry import GENESIS_CHAIN, Entry, canonical, chain_hash, leaf_hash
from blastdoor.ledger.export import FORMATS, ExportError, to_jsonl, to_ocsf, write
from blastdoor.ledger.export_otel import span_id, to_otel, trace_id
from blastdoor.model import (
    Action,
    Blast,
    Decision,
    DecisionKind,
    Effect,
    Reversibility,
    Scope,
    Target,
    Verb,
)
from tests.conftest import decide

TIME = "2025-03-04T05:06:07.123456Z"
TIME_NS = 1741064767123456000  # date -u -d 2025-03-04T05:06:07Z +%s → 1741064767, plus .123456 s


def effect(verb: Verb, kind: str = "path", name: str = "/srv/app") -> Effect:
    return Effect(
        verb=verb,
        target=Target(kind, name),
        detail=f"{verb.value} {name}",
        evidence=name,
        scope=Scope.PRODUCTION,
        reversibility=Reversibility.IRREVERSIBLE,
        blast=Blast(rows=3),
        tags=frozenset({"history-rewrite"}),
    )


def payload(
    kind: str = "shell",
    text: str = "rm -rf /srv/app",
    verdict: str = "deny",
    *,
    verbs: tuple[Verb, ...] = (Verb.DELETE,),
    enforced: bool = True,
    target: str = "",
    **fields: Any,
) -> dict[str, Any]:
    decision = Decision(
        kind=DecisionKind(verdict),
        reasons=(f"{verdict} because the target is production",),
        rule_ids=("prod-destroy",),
        effects=tuple(effect(verb) for verb in verbs),
        enforced=enforced,
    )
    action = {"kind": kind, "input": text, **({"target": target} if target else {})}
    base: dict[str, Any] = {
        "v": 1,
        "type": "decision",
        "time": TIME,
        "source": "hook:claude_code",
        "agent": "claude_code",
        "session": "sess-1",
        "run": "run-1",
        "tool_use": "toolu_01",
        "cwd": "/work/repo",
        "action": action,
        "decision": decision.to_json(),
        "policy_digest": "sha256:" + "ab" * 32,
        "rules_files": {"AGENTS.md": "sha256:" + "cd" * 32},
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def chain(*payloads: dict[str, Any]) -> list[Entry]:
    """Entries as a store would return them: canonical bodies, leaf hashes, a running chain hash."""
    entries, previous = [], GENESIS_CHAIN
    for seq, data in enumerate(payloads, start=1):
        body = canonical(data)
        leaf = leaf_hash(body)
        previous = chain_hash(previous, leaf)
        entries.append(Entry(seq=seq, body=body, leaf_hash=leaf, chain_hash=previous))
    return entries


def one(**kwargs: Any) -> Entry:
    return chain(payload(**kwargs))[0]


def lines(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


# --- JSONL -------------------------------------------------------------------------------------------


def test_jsonl_carries_the_payload_and_hashes_that_verify() -> None:
    entries = chain(payload(), payload(verdict="allow", verbs=(Verb.READ,)))
    previous = GENESIS_CHAIN
    for entry, line in zip(entries, (to_jsonl(entry) for entry in entries), strict=True):
        assert set(line) == {"seq", "leaf_hash", "chain_hash", "entry"}
        assert line["seq"] == entry.seq
        assert line["entry"] == entry.payload
        leaf = leaf_hash(canonical(line["entry"]))
        assert leaf.hex() == line["leaf_hash"]
        previous = chain_hash(previous, leaf)
        assert previous.hex() == line["chain_hash"]


# --- OCSF --------------------------------------------------------------------------------------------

KINDS = {
    # kind: (class_uid, category_uid, activity when the effect is a delete)
    "shell": (1007, 1, 1),
    "file_write": (1001, 1, 4),
    "diff": (1001, 1, 4),
    "sql": (6003, 6, 4),
    "http": (6003, 6, 4),
    "mcp_call": (6003, 6, 4),
    "terraform_plan": (6003, 6, 4),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_ocsf_required_attributes_for_every_action_kind(kind: str) -> None:
    entry = one(kind=kind)
    event = to_ocsf(entry)
    class_uid, category_uid, activity_id = KINDS[kind]
    assert (event["class_uid"], event["category_uid"], event["activity_id"]) == (
        class_uid,
        category_uid,
        activity_id,
    )
    assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
    assert event["category_uid"] == event["class_uid"] // 1000
    for name in (
        "class_uid",
        "category_uid",
        "activity_id",
        "type_uid",
        "time",
        "severity_id",
        "status_id",
    ):
        assert type(event[name]) is int, name
    assert event["time"] == TIME_NS // 1_000_000
    metadata = event["metadata"]
    assert metadata["version"] == "1.4.0"
    assert metadata["product"]["name"] == "Blastdoor"
    assert metadata["product"]["vendor_name"]
    assert metadata["uid"] == entry.leaf_hash.hex()
    assert metadata["sequence"] == 1
    assert metadata["correlation_uid"] == "run-1"
    assert event["actor"] == {"app_name": "claude_code", "session": {"uid": "sess-1"}}
    assert event["message"] == "Blastdoor decision: deny - deny because the target is production"


DECISIONS = {
    # verdict: (action_id, action, disposition_id, disposition, status_id, severity_id)
    "allow": (1, "Allowed", 1, "Allowed", 1, 1),
    "ask": (4, "Modified", 22, "Captcha", 99, 2),
    "hold": (4, "Modified", 14, "Delayed", 99, 3),
    "deny": (2, "Denied", 2, "Blocked", 2, 4),
}


@pytest.mark.parametrize("verdict", sorted(DECISIONS))
def test_ocsf_decision_maps_to_security_control_enums(verdict: str) -> None:
    event = to_ocsf(one(verdict=verdict))
    got = tuple(
        event[name]
        for name in (
            "action_id",
            "action",
            "disposition_id",
            "disposition",
            "status_id",
            "severity_id",
        )
    )
    assert got == DECISIONS[verdict]
    assert (
        event["severity"]
        == {1: "Informational", 2: "Low", 3: "Medium", 4: "High"}[event["severity_id"]]
    )
    assert event["unmapped"]["decision"] == verdict


@pytest.mark.parametrize("verdict", ["ask", "hold", "deny"])
def test_ocsf_observe_mode_reports_observed_not_blocked(verdict: str) -> None:
    event = to_ocsf(one(verdict=verdict, enforced=False))
    assert (event["action_id"], event["disposition_id"], event["status_id"]) == (3, 15, 1)
    assert event["status_detail"] == f"observe mode: would have been {verdict}"
    assert event["unmapped"]["enforced"] is False


def test_ocsf_observe_mode_allow_is_still_allowed() -> None:
    event = to_ocsf(one(verdict="allow", enforced=False))
    assert (event["action_id"], event["disposition_id"]) == (1, 1)


@pytest.mark.parametrize(
    ("kind", "verbs", "activity"),
    [
        ("terraform_plan", (Verb.CREATE, Verb.DESTROY), (4, "Delete")),
        ("http", (Verb.READ,), (2, "Read")),
        ("sql", (Verb.MODIFY, Verb.READ), (3, "Update")),
        ("mcp_call", (Verb.CREATE,), (1, "Create")),
        ("mcp_call", (Verb.EXECUTE_UNKNOWN,), (99, "Other")),
        ("mcp_call", (), (0, "Unknown")),
        ("file_write", (Verb.CREATE,), (1, "Create")),
        ("file_write", (Verb.MODIFY,), (3, "Update")),
    ],
)
def test_ocsf_activity_follows_the_strongest_effect(
    kind: str, verbs: tuple[Verb, ...], activity: tuple[int, str]
) -> None:
    event = to_ocsf(one(kind=kind, verbs=verbs))
    assert (event["activity_id"], event["activity_name"]) == activity
    assert event["type_uid"] == event["class_uid"] * 100 + activity[0]
    assert event["type_name"] == f"{event['class_name']}: {activity[1]}"


def test_ocsf_shell_is_a_process_launch_with_its_command_line() -> None:
    event = to_ocsf(one(kind="shell", text="git push --force origin main"))
    assert (event["class_name"], event["activity_name"], event["type_uid"]) == (
        "Process Activity",
        "Launch",
        100701,
    )
    assert event["process"] == {
        "cmd_line": "git push --force origin main",
        "uid": "toolu_01",
        "working_directory": "/work/repo",
    }
    assert event["device"]["type_id"] == 0


def test_ocsf_api_activity_names_operation_service_and_endpoint() -> None:
    event = to_ocsf(
        one(
            kind="http",
            text="DELETE https://api.example.com/v1/volumes/9",
            target="https://api.example.com/v1",
        )
    )
    assert event["api"]["operation"] == "DELETE"
    assert event["api"]["service"] == {"name": "api.example.com"}
    assert event["api"]["request"] == {
        "uid": "toolu_01",
        "data": {"input": "DELETE https://api.example.com/v1/volumes/9"},
    }
    assert event["dst_endpoint"] == {"hostname": "api.example.com"}
    assert event["src_endpoint"] == {"svc_name": "claude_code"}
    assert event["resources"] == [{"name": "/srv/app", "type": "path"}]
    mcp = to_ocsf(one(kind="mcp_call", text='{"name": "volumeDelete"}', target="railway"))
    assert mcp["api"]["operation"] == "tools/call"
    assert mcp["api"]["service"] == {"name": "railway"}
    sql = to_ocsf(
        one(kind="sql", text="delete from users", target="postgresql://db.prod.internal/app")
    )
    assert (sql["api"]["operation"], sql["dst_endpoint"]["hostname"]) == (
        "DELETE",
        "db.prod.internal",
    )


def test_ocsf_file_activities_name_the_file_and_carry_the_diff() -> None:
    written = to_ocsf(
        one(kind="file_write", text="DEBUG=0\n", target="/work/repo/.env", verbs=(Verb.MODIFY,))
    )
    assert written["file"] == {
        "name": ".env",
        "path": "/work/repo/.env",
        "type_id": 1,
        "type": "Regular File",
    }
    assert written["unmapped"]["input"] == "DEBUG=0\n"
    diff = to_ocsf(
        one(kind="diff", text="--- a/x\n+++ b/x\n", target="/work/repo/", verbs=(Verb.MODIFY,))
    )
    assert diff["file"]["name"] == "repo"
    assert diff["file_diff"] == "--- a/x\n+++ b/x\n"


def test_ocsf_unmapped_keeps_blastdoor_fields() -> None:
    entry = one()
    unmapped = to_ocsf(entry)["unmapped"]
    assert unmapped["rules"] == ["prod-destroy"]
    assert unmapped["effects"][0]["verb"] == "delete"
    assert unmapped["effects"][0]["blast"] == {"rows": 3}
    assert unmapped["policy_digest"] == "sha256:" + "ab" * 32
    assert unmapped["run_id"] == "run-1"
    assert unmapped["chain_hash"] == entry.chain_hash.hex()
    assert unmapped["leaf_hash"] == entry.leaf_hash.hex()
    assert unmapped["seq"] == 1


def test_ocsf_entry_types_without_a_decision() -> None:
    approval = to_ocsf(one(type="approval"))
    assert (approval["action_id"], approval["disposition_id"], approval["disposition"]) == (
        1,
        8,
        "Approved",
    )
    created = to_ocsf(chain({"v": 1, "type": "ledger-created", "time": TIME})[0])
    assert (created["class_uid"], created["activity_id"], created["type_uid"]) == (1008, 6, 100806)
    assert created["log_name"] == "blastdoor-ledger"
    assert "disposition_id" not in created
    outcome = to_ocsf(chain({"v": 1, "type": "outcome", "time": TIME, "run": "run-1"})[0])
    assert (outcome["class_uid"], outcome["category_uid"], outcome["type_uid"]) == (0, 0, 99)
    assert outcome["status_id"] == 0


def test_ocsf_from_a_recorded_decision() -> None:
    from blastdoor.ledger.record import decision_payload

    action = Action.shell(
        "rm -rf ~", agent="codex", session_id="s-9", run_id="r-9", tool_use_id="call_9"
    )
    data = decision_payload(action, decide("rm -rf ~"), policy_digest="sha256:00", source="test")
    event = to_ocsf(chain(data)[0])
    assert event["class_uid"] == 1007
    assert event["process"]["cmd_line"] == "rm -rf ~"
    assert event["disposition"] == DECISIONS[data["decision"]["decision"]][3]


def test_ocsf_unreadable_time_is_zero_not_a_crash() -> None:
    assert to_ocsf(one(time="yesterday"))["time"] == 0


# --- OpenTelemetry -------------------------------------------------------------------------------------

ANY_VALUE_KEYS = {
    "stringValue",
    "boolValue",
    "intValue",
    "doubleValue",
    "arrayValue",
    "kvlistValue",
    "bytesValue",
}
CAMEL = re.compile(r"^[a-z][a-zA-Z]*$")


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def check_otlp_json(request: dict[str, Any]) -> None:
    """The OTLP JSON encoding rules (opentelemetry-proto docs/specification.md)."""
    for node in walk(request):
        for key in node:
            assert CAMEL.match(key), f"{key!r} is not a lowerCamelCase field name"
        if "intValue" in node:
            assert isinstance(node["intValue"], str) and node["intValue"].lstrip("-").isdigit()
        if set(node) & ANY_VALUE_KEYS:
            assert len(node) == 1 and set(node) <= ANY_VALUE_KEYS, node
    for resource in request["resourceLogs"]:
        for scope in resource["scopeLogs"]:
            for record in scope["logRecords"]:
                for name in ("timeUnixNano", "observedTimeUnixNano"):
                    assert isinstance(record[name], str) and record[name].isdigit()
                assert type(record["severityNumber"]) is int and 1 <= record["severityNumber"] <= 24
                if "traceId" in record:
                    assert re.fullmatch(r"[0-9a-f]{32}", record["traceId"]) and set(
                        record["traceId"]
                    ) != {"0"}
                if "spanId" in record:
                    assert "traceId" in record
                    assert re.fullmatch(r"[0-9a-f]{16}", record["spanId"]) and set(
                        record["spanId"]
                    ) != {"0"}


def attributes(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item["value"] for item in record["attributes"]}


def test_otel_request_shape_and_encoding() -> None:
    entries = chain(
        payload(),
        payload(verdict="allow", verbs=(Verb.READ,)),
        {"v": 1, "type": "ledger-created", "time": TIME},
    )
    request = to_otel(entries)
    check_otlp_json(request)
    [resource] = request["resourceLogs"]
    assert {"key": "service.name", "value": {"stringValue": "blastdoor"}} in resource["resource"][
        "attributes"
    ]
    [scope] = resource["scopeLogs"]
    assert scope["scope"]["name"] == "blastdoor.ledger.export"
    records = scope["logRecords"]
    assert len(records) == 3
    assert records[0]["timeUnixNano"] == str(TIME_NS)
    assert (records[0]["severityNumber"], records[0]["severityText"]) == (17, "ERROR")
    assert (records[1]["severityNumber"], records[1]["severityText"]) == (9, "INFO")
    assert records[0]["eventName"] == "blastdoor.ledger.decision"
    assert records[0]["body"] == {
        "stringValue": "Blastdoor decision: deny - deny because the target is production"
    }


def test_otel_attributes_use_semantic_convention_names() -> None:
    entry = one()
    values = attributes(to_otel([entry])["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0])
    assert values["session.id"] == {"stringValue": "sess-1"}
    assert values["gen_ai.conversation.id"] == {"stringValue": "sess-1"}
    assert values["gen_ai.agent.name"] == {"stringValue": "claude_code"}
    assert values["gen_ai.tool.call.id"] == {"stringValue": "toolu_01"}
    assert values["gen_ai.operation.name"] == {"stringValue": "execute_tool"}
    assert values["blastdoor.decision"] == {"stringValue": "deny"}
    assert values["blastdoor.decision.enforced"] == {"boolValue": True}
    assert values["blastdoor.decision.rules"] == {
        "arrayValue": {"values": [{"stringValue": "prod-destroy"}]}
    }
    assert values["blastdoor.entry.seq"] == {"intValue": "1"}
    assert values["blastdoor.entry.leaf_hash"] == {"stringValue": entry.leaf_hash.hex()}
    assert values["blastdoor.run.id"] == {"stringValue": "run-1"}
    effects = values["blastdoor.decision.effects"]["arrayValue"]["values"]
    assert json.loads(effects[0]["stringValue"])["target"] == {"kind": "path", "name": "/srv/app"}


def test_otel_ids_group_records_by_run_and_tool_call() -> None:
    entries = chain(
        payload(),
        payload(tool_use="toolu_02"),
        payload(run="run-2"),
        payload(run=None),
        payload(tool_use=None),
    )
    records = to_otel(entries)["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    check_otlp_json(to_otel(entries))
    assert records[0]["traceId"] == records[1]["traceId"] == trace_id("run-1")
    assert records[2]["traceId"] == trace_id("run-2") != records[0]["traceId"]
    assert records[0]["spanId"] == span_id("toolu_01") != records[1]["spanId"]
    assert (
        "traceId" not in records[3] and "spanId" not in records[3]
    )  # no run: no trace, so no span
    assert records[4]["traceId"] == trace_id("run-1") and "spanId" not in records[4]
    assert trace_id("run-1") == trace_id("run-1") and len(bytes.fromhex(trace_id("x"))) == 16
    assert len(bytes.fromhex(span_id("x"))) == 8


def test_otel_empty_input_makes_no_empty_envelope() -> None:
    assert to_otel([]) == {"resourceLogs": []}


# --- nothing added, text kept ------------------------------------------------------------------------

SECRET = "AKIAZZZZEXPORTSECRET1"


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_adds_nothing_from_the_environment(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("BLASTDOOR_EXPORT_PROBE", SECRET)
    out = io.StringIO()
    write(chain(payload(), payload(kind="http")), fmt, out)
    assert SECRET not in out.getvalue()
    assert "AWS_SECRET_ACCESS_KEY" not in out.getvalue()


@pytest.mark.parametrize("fmt", ["ocsf", "otel"])
def test_unknown_payload_fields_are_not_exported(fmt: str) -> None:
    data = payload(env={"GITHUB_TOKEN": SECRET}, prompt=f"use {SECRET}")
    out = io.StringIO()
    write(chain(data), fmt, out)
    assert SECRET not in out.getvalue()
    assert "GITHUB_TOKEN" not in out.getvalue()
    plain = io.StringIO()
    write(chain(data), "jsonl", plain)
    assert SECRET in plain.getvalue()  # jsonl is the stored record, verbatim, so its hash verifies


COMMAND_OF = {
    "jsonl": lambda doc: doc["entry"]["action"]["input"],
    "ocsf": lambda doc: doc["process"]["cmd_line"],
    "otel": lambda doc: attributes(doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0])[
        "blastdoor.action.input"
    ]["stringValue"],
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_unicode_survives_and_each_document_is_one_line(fmt: str) -> None:
    command = "echo 'héllo 世界 🚀'\nprintf 'a\u2028b\u2029c\x85d'"
    entries = chain(
        payload(text=command), payload(text="ls ünïcödé", verdict="allow"), payload(text="true")
    )
    out = io.StringIO()
    assert write(entries, fmt, out, batch=2) == 3
    text = out.getvalue()
    assert "世界 🚀" in text and "ünïcödé" in text  # UTF-8 as is, not \\u escapes
    expected = 3 if fmt != "otel" else 2
    assert len(text.splitlines()) == expected == len(lines(text))
    assert COMMAND_OF[fmt](lines(text)[0]) == command


# --- write ---------------------------------------------------------------------------------------------


def test_write_counts_entries_and_batches_otel_requests() -> None:
    entries = chain(*(payload(tool_use=f"toolu_{n}") for n in range(5)))
    out = io.StringIO()
    assert write(iter(entries), "otel", out, batch=2) == 5
    requests = lines(out.getvalue())
    sizes = [len(request["resourceLogs"][0]["scopeLogs"][0]["logRecords"]) for request in requests]
    assert sizes == [2, 2, 1]
    for request in requests:
        check_otlp_json(request)
    out = io.StringIO()
    assert write(entries, "ocsf", out) == 5
    assert [event["metadata"]["sequence"] for event in lines(out.getvalue())] == [1, 2, 3, 4, 5]
    assert write([], "jsonl", io.StringIO()) == 0


def test_write_rejects_an_unknown_format_before_writing() -> None:
    out = io.StringIO()
    with pytest.raises(ExportError) as caught:
        write(chain(payload()), "cef", out)
    assert isinstance(caught.value, BlastdoorError)
    assert "cef" in caught.value.diagnostics() and "ocsf" in caught.value.diagnostics()
    assert out.getvalue() == ""
    with pytest.raises(ExportError):
        write(chain(payload()), "otel", out, batch=0)
