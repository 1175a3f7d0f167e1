"""The ``otel`` export: ledger entries as OTLP/JSON log records (see export.py for the format's
sources), a run as a trace and a tool call as a span, so a collector groups an agent's calls."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from blastdoor import __version__
from blastdoor.ledger.entry import Entry
from blastdoor.ledger.entry_view import EntryView, present

SERVICE_NAME = "blastdoor"
SCOPE_NAME = "blastdoor.ledger.export"
# opentelemetry-proto logs.proto SeverityNumber: INFO = 9, WARN = 13, ERROR = 17.
_OTEL_SEVERITY = {"allow": (9, "INFO"), "ask": (13, "WARN"), "hold": (13, "WARN"), "deny": (17, "ERROR")}  # fmt: skip


def _any(value: Any) -> dict[str, Any]:
    """An OTLP ``AnyValue`` in JSON: int64 as a decimal string, lists and maps nested."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_any(item) for item in value]}}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": _key_values(value)}}
    return {}


def _key_values(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": str(key), "value": _any(value)} for key, value in values.items()]


def trace_id(run_id: str) -> str:
    """A stable 16-byte trace id (32 hex digits) for a run, so that a run's records group together."""
    return hashlib.sha256(b"blastdoor.run\x00" + run_id.encode()).digest()[:16].hex()


def span_id(tool_use_id: str) -> str:
    """A stable 8-byte span id (16 hex digits) for one tool call."""
    return hashlib.sha256(b"blastdoor.tool_use\x00" + tool_use_id.encode()).digest()[:8].hex()


def _otel_attributes(view: EntryView) -> dict[str, Any]:
    effects = [json.dumps(effect, ensure_ascii=False, sort_keys=True) for effect in view.effects]
    return present({
        # OpenTelemetry semantic conventions (registries: session, gen_ai).
        "session.id": view.session, "gen_ai.conversation.id": view.session,
        "gen_ai.agent.name": view.agent, "gen_ai.tool.call.id": view.tool_use,
        "gen_ai.operation.name": "execute_tool" if view.kind else "",
        # Blastdoor's own.
        "blastdoor.entry.type": view.type, "blastdoor.entry.seq": view.seq,
        "blastdoor.entry.leaf_hash": view.leaf, "blastdoor.entry.chain_hash": view.chain,
        "blastdoor.run.id": view.run, "blastdoor.source": view.source, "blastdoor.cwd": view.cwd,
        "blastdoor.action.kind": view.kind, "blastdoor.action.input": view.input,
        "blastdoor.action.target": view.target, "blastdoor.decision": view.verdict,
        "blastdoor.decision.enforced": view.enforced, "blastdoor.decision.reasons": view.reasons,
        "blastdoor.decision.rules": view.rules, "blastdoor.decision.effects": effects,
        "blastdoor.policy.digest": view.policy_digest, "blastdoor.credential": view.credential,
    })  # fmt: skip


def _log_record(entry: Entry) -> dict[str, Any]:
    view = EntryView.of(entry)
    number, text = _OTEL_SEVERITY.get(view.verdict, (9, "INFO"))
    record: dict[str, Any] = {
        "timeUnixNano": str(view.nanos), "observedTimeUnixNano": str(view.nanos),
        "severityNumber": number, "severityText": text,
        "eventName": f"blastdoor.ledger.{view.type or 'entry'}",
        "body": {"stringValue": view.message}, "attributes": _key_values(_otel_attributes(view)),
    }  # fmt: skip
    if view.run:
        record["traceId"] = trace_id(view.run)
        if view.tool_use:  # a span id only beside a trace id (logs.proto, LogRecord.span_id)
            record["spanId"] = span_id(view.tool_use)
    return record


def to_otel(entries: Sequence[Entry]) -> dict[str, Any]:
    """One OTLP/JSON ``ExportLogsServiceRequest`` holding ``entries`` as log records, in order."""
    if not entries:
        return {"resourceLogs": []}  # OTLP specification, "Empty Telemetry Envelopes"
    resource = _key_values({"service.name": SERVICE_NAME, "service.version": __version__})
    scope = {"scope": {"name": SCOPE_NAME, "version": __version__}}
    logs = [scope | {"logRecords": [_log_record(entry) for entry in entries]}]
    return {"resourceLogs": [{"resource": {"attributes": resource}, "scopeLogs": logs}]}
