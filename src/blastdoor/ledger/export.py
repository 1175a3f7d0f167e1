"""Ledger export for SIEMs: OCSF 1.4.0 events, OTLP/JSON log requests, or plain JSON lines.

Every form is JSON Lines (one document per line) built from the stored entry alone: nothing is read
from the environment or the host, and payload fields not listed in :class:`~blastdoor.ledger.entry_view.EntryView` are left out of
the OCSF and OTel forms. Secrets are redacted when an entry is recorded (:mod:`.redact`); only
``jsonl`` carries the payload verbatim, so that its hashes can be checked.

- ``jsonl``: ``{"seq", "leaf_hash", "chain_hash", "entry"}``; ``entry`` in RFC 8785 canonical form
  hashes to ``leaf_hash`` (RFC 9162, section 2.1.1).
- ``ocsf``: one event per entry, OCSF schema 1.4.0 (https://schema.ocsf.io/1.4.0/): Process
  Activity (1007) for shell commands, File System Activity (1001) for file writes and diffs, API
  Activity (6003) for HTTP, SQL, Terraform and MCP calls, Event Log Activity (1008) for a new
  ledger. The decision fills the ``security_control`` profile (``action_id``, ``disposition_id``);
  docs/ledger-export.md gives the reasons for each mapping.
- ``otel``: one ``ExportLogsServiceRequest`` per line in the OTLP JSON encoding (opentelemetry-proto
  docs/specification.md, "JSON Protobuf Encoding": lowerCamelCase keys, integer enums, 64-bit
  integers as decimal strings, ``traceId``/``spanId`` as hex), the layout the Collector's
  ``otlpjsonfile`` receiver reads (opentelemetry-specification protocol/file-exporter.md).
"""

from __future__ import annotations

import itertools
import json
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urlsplit

from blastdoor import __version__
from blastdoor.errors import BlastdoorError
from blastdoor.ledger.entry import Entry
from blastdoor.ledger.entry_view import EntryView, mapping, present
from blastdoor.ledger.export_otel import to_otel

FORMATS = ("ocsf", "otel", "jsonl")
OCSF_VERSION = "1.4.0"
_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


class ExportError(BlastdoorError):
    """The ledger cannot be exported in the form asked for."""


# --- JSONL ----------------------------------------------------------------------------------------


def to_jsonl(entry: Entry) -> dict[str, Any]:
    """The entry as stored: its payload with the hashes that commit to it (hex)."""
    payload = json.loads(entry.body)
    return {
        "seq": entry.seq,
        "leaf_hash": entry.leaf_hash.hex(),
        "chain_hash": entry.chain_hash.hex(),
        "entry": payload if isinstance(payload, dict) else {},
    }


# --- OCSF -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Class:
    uid: int
    name: str
    category_uid: int
    category_name: str


_PROCESS = _Class(1007, "Process Activity", 1, "System Activity")
_FILE = _Class(1001, "File System Activity", 1, "System Activity")
_EVENT_LOG = _Class(1008, "Event Log Activity", 1, "System Activity")
_API = _Class(6003, "API Activity", 6, "Application Activity")
_BASE = _Class(0, "Base Event", 0, "Uncategorized")
_CLASS_BY_KIND = {"shell": _PROCESS, "file_write": _FILE, "diff": _FILE}  # any other kind: _API

# Effect verbs → (activity_id, caption), strongest first, from each class's activity_id enum.
_API_VERBS = (
    ({"delete", "destroy"}, (4, "Delete")),
    ({"modify", "escalate", "persist", "disable-guard"}, (3, "Update")),
    ({"create"}, (1, "Create")),
    ({"read", "credential-use"}, (2, "Read")),
)
_FILE_VERBS = (({"delete", "destroy"}, (4, "Delete")), ({"create"}, (1, "Create")), ({"read"}, (2, "Read")))  # fmt: skip
_SEVERITY = {1: "Informational", 2: "Low", 3: "Medium", 4: "High"}


@dataclass(frozen=True)
class _Control:
    """The security_control profile values, event status and severity for one entry."""

    action: tuple[int, str] | None  # action_id, action
    disposition: tuple[int, str] | None  # disposition_id, disposition
    status: tuple[int, str]  # status_id, status
    severity_id: int
    detail: str = ""


# Decisions → OCSF 1.4.0 action_id / disposition_id enum values (docs/ledger-export.md says why).
_ENFORCED = {
    "allow": _Control((1, "Allowed"), (1, "Allowed"), (1, "Success"), 1),
    "ask": _Control((4, "Modified"), (22, "Captcha"), (99, "Pending"), 2, "awaiting confirmation"),
    "hold": _Control((4, "Modified"), (14, "Delayed"), (99, "Pending"), 3, "awaiting approval"),
    "deny": _Control((2, "Denied"), (2, "Blocked"), (2, "Failure"), 4, "blocked by policy"),
}
_APPROVED = _Control((1, "Allowed"), (8, "Approved"), (1, "Success"), 1)
_UNKNOWN = _Control(None, None, (0, "Unknown"), 1)


def _control(view: EntryView) -> _Control:
    if view.type in ("approval", "grant-use"):
        return _APPROVED
    control = _ENFORCED.get(view.verdict, _UNKNOWN)
    if view.enforced is False and view.verdict in ("ask", "hold", "deny"):
        # Observe mode: recorded, not enforced, so the action went ahead.
        detail = f"observe mode: would have been {view.verdict}"
        return _Control((3, "Observed"), (15, "Detected"), (1, "Success"), control.severity_id, detail)  # fmt: skip
    return control


def _ocsf_class(view: EntryView) -> _Class:
    if view.kind:
        return _CLASS_BY_KIND.get(view.kind, _API)
    return _EVENT_LOG if view.type == "ledger-created" else _BASE


def _activity(cls: _Class, view: EntryView) -> tuple[int, str]:
    fixed = {_PROCESS: (1, "Launch"), _EVENT_LOG: (6, "Start"), _BASE: (99, "Other")}
    if cls in fixed:
        return fixed[cls]
    verbs = {str(effect.get("verb")) for effect in view.effects}
    for names, activity in _FILE_VERBS if cls is _FILE else _API_VERBS:
        if verbs & names:
            return activity
    if cls is _FILE:
        return 3, "Update"
    return (99, "Other") if verbs else (0, "Unknown")


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "") if "://" in url else ""
    except ValueError:
        return ""


def _api(view: EntryView) -> dict[str, Any]:
    """``api`` for an API Activity: operation, service and the request as the agent sent it."""
    first = view.input.split(None, 1)[0] if view.input.strip() else ""
    operation, family = {
        "http": (first.upper() if first.upper() in _HTTP_METHODS else "request", "http"),
        "sql": (first.upper() if first.isalpha() else "query", "sql"),
        "terraform_plan": ("apply", "terraform"),
        "mcp_call": ("tools/call", "mcp"),
    }.get(view.kind, (view.kind, view.kind))
    service = _host(view.target) if "://" in view.target else view.target
    request = {"uid": view.ref, "data": {"input": view.input}}
    return {"operation": operation, "service": {"name": service or family}, "request": request}


def _class_fields(cls: _Class, view: EntryView) -> dict[str, Any]:
    device = {"type_id": 0, "type": "Unknown"}  # the ledger does not record the host
    if cls is _PROCESS:
        process = present({"cmd_line": view.input, "uid": view.ref, "working_directory": view.cwd})
        return {"process": process, "device": device}
    if cls is _FILE:
        name = posixpath.basename(view.target.rstrip("/")) or view.target or "unknown"
        file_type = (0, "Unknown") if view.kind == "diff" else (1, "Regular File")
        file = {"name": name, "path": view.target, "type_id": file_type[0], "type": file_type[1]}
        diff = view.input if view.kind == "diff" else ""
        return present({"file": present(file), "file_diff": diff, "device": device})
    if cls is _API:
        resources = [
            {"name": str(mapping(effect, "target").get("name", "")), "type": str(mapping(effect, "target").get("kind", ""))}
            for effect in view.effects
        ]  # fmt: skip
        host = _host(view.target)
        return present({
            "api": _api(view), "src_endpoint": {"svc_name": view.agent or "unknown"},
            "dst_endpoint": {"hostname": host} if host else {}, "resources": resources,
        })  # fmt: skip
    if cls is _EVENT_LOG:
        return {"log_name": "blastdoor-ledger", "log_provider": "Blastdoor", "device": device}
    return {}


def _unmapped(view: EntryView) -> dict[str, Any]:
    """Blastdoor's own fields, for which OCSF has no attribute."""
    return present({
        "entry_type": view.type, "seq": view.seq, "leaf_hash": view.leaf, "chain_hash": view.chain,
        "decision": view.verdict, "enforced": view.enforced, "reasons": view.reasons,
        "rules": view.rules, "effects": view.effects, "policy_digest": view.policy_digest,
        "rules_files": view.rules_files, "run_id": view.run, "tool_use_id": view.tool_use,
        "source": view.source, "credential": view.credential, "action_kind": view.kind,
        "action_target": view.target, "input": view.input if view.kind == "file_write" else "",
    })  # fmt: skip


def to_ocsf(entry: Entry) -> dict[str, Any]:
    """One OCSF 1.4.0 event for ``entry``; ``type_uid`` is ``class_uid * 100 + activity_id``."""
    view = EntryView.of(entry)
    cls = _ocsf_class(view)
    activity_id, activity = _activity(cls, view)
    control = _control(view)
    product = {"name": "Blastdoor", "vendor_name": "Blastdoor", "version": __version__}
    metadata = present({
        "version": OCSF_VERSION, "product": product, "uid": view.leaf, "sequence": view.seq,
        "correlation_uid": view.run, "log_name": "blastdoor-ledger", "log_provider": "Blastdoor",
        "original_time": entry.time,
    })  # fmt: skip
    session = {"uid": view.session} if view.session else {}
    actor = present({"app_name": view.agent or "unknown", "session": session})
    event: dict[str, Any] = {
        "class_uid": cls.uid, "class_name": cls.name, "category_uid": cls.category_uid,
        "category_name": cls.category_name, "activity_id": activity_id, "activity_name": activity,
        "type_uid": cls.uid * 100 + activity_id, "type_name": f"{cls.name}: {activity}",
        "time": view.nanos // 1_000_000, "severity_id": control.severity_id,
        "severity": _SEVERITY[control.severity_id], "status_id": control.status[0],
        "status": control.status[1], "message": view.message, "metadata": metadata, "actor": actor,
    }  # fmt: skip
    if control.action and control.disposition:
        event |= {"action_id": control.action[0], "action": control.action[1],
                  "disposition_id": control.disposition[0], "disposition": control.disposition[1]}  # fmt: skip
    if control.detail:
        event["status_detail"] = control.detail
    return event | _class_fields(cls, view) | {"unmapped": _unmapped(view)}


# --- writing --------------------------------------------------------------------------------------


# Characters some line readers (Python's str.splitlines among them) take as line breaks; JSON escapes
# the ASCII ones itself, these three are escaped here so that a document stays on one line.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _line(document: Mapping[str, Any]) -> str:
    """One JSON Lines line: UTF-8 text kept as is, nothing inside that reads as a line break."""
    return (
        json.dumps(document, ensure_ascii=False, separators=(",", ":")).translate(_LINE_BREAKS)
        + "\n"
    )


def write(entries: Iterable[Entry], fmt: str, out: TextIO, *, batch: int = 100) -> int:
    """Write ``entries`` to ``out`` as JSON Lines in ``fmt``; returns how many entries were written.

    ``ocsf`` and ``jsonl`` write one line per entry; ``otel`` writes one request per ``batch``
    entries, since the Collector's ``otlpjsonfile`` receiver reads one request per line.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}", hint=f"use {', '.join(FORMATS)}")
    if batch < 1:
        raise ExportError(f"an OTel batch must hold at least 1 entry, not {batch}", hint="use 100")
    written = 0
    if fmt == "otel":
        pending = iter(entries)
        while chunk := list(itertools.islice(pending, batch)):
            out.write(_line(to_otel(chunk)))
            written += len(chunk)
        return written
    convert = to_ocsf if fmt == "ocsf" else to_jsonl
    for entry in entries:
        out.write(_line(convert(entry)))
        written += 1
    return written
