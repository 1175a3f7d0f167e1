"""HTTP requests → effects: the method, the URL and a GraphQL body say what a call would do.

GET/HEAD/OPTIONS read; DELETE deletes the resource the URL names; POST/PUT/PATCH change it, and a
GraphQL mutation whose field names say delete, destroy, drop, purge or wipe deletes irreversibly
(``volumeDelete``, ``deleteProject``). Well-known destructive endpoints reached by POST
(``_delete_by_query``, ``.../delete``) delete too. Scope is left unknown for :mod:`blastdoor.scope`,
which reads the host from the target URL and the ``host=`` hint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from blastdoor.analyze import http_platforms
from blastdoor.model import Effect, Reversibility, Target, Verb

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_DESTRUCTIVE_FIELD = re.compile(
    r"(^|[a-z_])(delete|destroy|drop|purge|wipe|remove|erase|truncate|reset|nuke)([A-Z_]|$)"
    r"|^(delete|destroy|drop|purge|wipe|remove|erase|truncate|nuke)",
    re.IGNORECASE,
)
_DESTRUCTIVE_PATH = re.compile(
    r"/(_delete_by_query|delete[-_]?\w*|destroy|purge|wipe|drop|truncate|_close|remove[-_]?\w*"
    r"|doDelete|delete_series)(/|$|\?)",
    re.IGNORECASE,
)


def host_of(url: str) -> str:
    text = url if "://" in url else "http://" + url.lstrip(":")
    try:
        return urlsplit(text).hostname or ""
    except ValueError:
        return ""


def resource_name(url: str) -> str:
    """The target name for ``url``: the URL without its query string or fragment. Only the host
    names an environment (``blastdoor.scope``); a path word such as ``test`` names data."""
    return url.split("?", 1)[0].split("#", 1)[0]


def graphql_fields(body: str) -> tuple[str, list[str]]:
    """The operation type and top-level field names of a GraphQL request body (JSON or raw)."""
    query = body
    try:
        data = json.loads(body)
        if isinstance(data, dict) and isinstance(data.get("query"), str):
            query = data["query"]
    except (ValueError, TypeError):
        pass
    match = re.search(r"\b(mutation|query|subscription)\b[^{]*\{", query)
    if match is None:
        return ("query", []) if query.lstrip().startswith("{") else ("", [])
    inner = query[match.end() :]
    depth, fields, word = 0, [], ""
    for ch in inner:
        if ch in "{(":
            if depth == 0 and word:
                fields.append(word)
            depth += 1
            word = ""
        elif ch in "})":
            depth -= 1
            if depth < 0:
                break
        elif depth == 0:
            if ch.isalnum() or ch == "_":
                word += ch
            else:
                if word and ch != ":":
                    fields.append(word)
                word = ""
    if word:
        fields.append(word)
    return match.group(1), list(dict.fromkeys(fields))


def analyze_request(
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    *,
    evidence: str = "",
) -> list[Effect]:
    """The effects of one HTTP request (credentials in ``headers`` are judged by the caller)."""
    method = (method or "GET").upper()
    name = resource_name(url) or "(no url)"
    host = host_of(url)
    tags = {f"host={host}"} if host else set()
    proof = evidence or f"{method} {url}"
    target = Target("http-resource", name)

    def make(verb: Verb, detail: str, rev: Reversibility, extra: set[str] | None = None) -> Effect:
        return Effect(
            verb=verb,
            target=target,
            detail=detail,
            evidence=proof,
            reversibility=rev,
            tags=frozenset(tags | (extra or set()) | {"http"}),
        )

    known_platform = http_platforms.platform(host)
    operation, fields = (
        graphql_fields(body) if body and ("graphql" in url or "mutation" in body) else ("", [])
    )
    if operation == "mutation":
        bad = [f for f in fields if _DESTRUCTIVE_FIELD.search(f)]
        calls = {f: http_platforms.mutation_call(known_platform, f) for f in bad}
        known = [_platform_effect(call, f"send the {call.platform} mutation {f}", proof, tags)
                 for f, call in calls.items() if call is not None]  # fmt: skip
        unknown = [f for f, call in calls.items() if call is None]
        if unknown:
            known.append(make(Verb.DELETE, f"send the GraphQL mutation {', '.join(unknown)} to {host or url}",
                              Reversibility.IRREVERSIBLE, {"graphql", "destructive-mutation"}))  # fmt: skip
        if known:
            return known
        return [
            make(
                Verb.MODIFY,
                f"send the GraphQL mutation {', '.join(fields) or '(unnamed)'} to {host or url}",
                Reversibility.REVERSIBLE,
                {"graphql"},
            )
        ]
    if operation in ("query", "subscription"):
        return [
            make(
                Verb.READ,
                f"run a GraphQL query against {host or url}",
                Reversibility.REVERSIBLE,
                {"graphql"},
            )
        ]
    if method in READ_METHODS:
        return [make(Verb.READ, f"{method} {url}", Reversibility.REVERSIBLE)]
    call = http_platforms.rest_call(known_platform, url)
    deleting_path = bool(_DESTRUCTIVE_PATH.search(url))  # it ends at /, ? or the end
    if call is not None and (method == "DELETE" or deleting_path):
        return [_platform_effect(call, f"{method} {resource_name(url)}", proof, tags, filtered=http_platforms.filtered(url))]
    if call is not None:
        return [_platform_effect(call, f"{method} {resource_name(url)}", proof, tags, verb=Verb.MODIFY)]
    if method == "DELETE":
        return [make(Verb.DELETE, f"delete the remote resource {url}", Reversibility.IRREVERSIBLE)]
    if deleting_path:
        return [
            make(
                Verb.DELETE,
                f"{method} to a deleting endpoint: {url}",
                Reversibility.IRREVERSIBLE,
                {"destructive-endpoint"},
            )
        ]
    return [make(Verb.MODIFY, f"{method} data to {url}", Reversibility.REVERSIBLE)]


def _platform_effect(call: http_platforms.Call, how: str, proof: str, tags: set[str], *,
                     verb: Verb | None = None, filtered: bool = False) -> Effect:  # fmt: skip
    """An effect on a known platform's resource: ``destroy`` when deleting one that holds data."""
    hints = {f"app={name}" for name in call.names} | {f"platform={call.platform}", "http"}
    what = f"the {call.platform} {call.kind} {call.name}".rstrip()
    if verb is Verb.MODIFY:
        return Effect(verb=verb, target=Target(call.target_kind, call.name), detail=f"change {what} ({how})",
                      evidence=proof, tags=frozenset(tags | hints))  # fmt: skip
    if call.kind == "table":  # rows through PostgREST: filters are query parameters
        extra = {"filtered"} if filtered else {"no-where"}
        rows = "the rows of" if filtered else "every row of"
        return Effect(verb=Verb.DELETE, target=Target(call.target_kind, call.name), evidence=proof,
                      detail=f"delete {rows} {what} ({how})", tags=frozenset(tags | hints | extra),
                      reversibility=Reversibility.RECOVERABLE_WITH_BACKUP if filtered else Reversibility.IRREVERSIBLE)  # fmt: skip
    stateful = call.stateful
    return Effect(verb=Verb.DESTROY if stateful else Verb.DELETE, target=Target(call.target_kind, call.name),
                  detail=f"delete {what}{', with the data it holds' if stateful else ''} ({how})", evidence=proof,
                  reversibility=Reversibility.IRREVERSIBLE, tags=frozenset(tags | hints | ({"stateful"} if stateful else set())))  # fmt: skip
