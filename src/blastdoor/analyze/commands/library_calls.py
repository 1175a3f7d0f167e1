"""Effects of library calls that reach data rather than files: SQL handed to ``.execute()``, HTTP
``DELETE`` requests, ORM bulk deletes (``Model.objects.all().delete()``, ``drop_all``), Redis
``flushall`` and boto3 ``delete_*`` calls. Shared by the code readers of the interpreter family.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from blastdoor.analyze.invocation import Invocation, effect
from blastdoor.model import Effect, Reversibility, Target, Verb


def names(text: str) -> frozenset[str]:
    """A set of names written as whitespace-separated text (keeps long tables readable)."""
    return frozenset(text.split())


def sql_effects(inv: Invocation, text: str, *, target: str, origin: str) -> list[Effect]:
    """SQL handed to ``.execute()``: analyzed by the SQL analyzer when it is installed."""
    try:
        from blastdoor.analyze.sql import analyze_sql
    except ImportError:  # the SQL analyzer is optional here: fall back to the obvious statements
        pass
    else:
        return list(analyze_sql(text, target=target, evidence=inv.evidence))
    match = re.match(
        r"\s*(drop|truncate|delete\s+from)\s+(?:table\s+|database\s+|schema\s+)?"
        r"(?:if\s+exists\s+)?([\w.\"`]+)",
        text,
        re.I,
    )
    if not match:
        return []
    verb = Verb.DELETE if match.group(1).lower().startswith("delete") else Verb.DESTROY
    return [
        effect(
            inv,
            verb,
            Target("database", target or match.group(2)),
            f"{origin} runs SQL: {text.strip()[:120]}",
            reversibility=Reversibility.IRREVERSIBLE,
        )
    ]


def http_delete(inv: Invocation, url: str, *, origin: str) -> Effect:
    return effect(
        inv,
        Verb.DELETE,
        Target("url", url),
        f"{origin} sends an HTTP DELETE to {url}",
        reversibility=Reversibility.IRREVERSIBLE,
        tags={"http"},
    )


_DATA_CALLS = (
    (
        re.compile(r"(\w+)\.objects\.(?:.*\.)?delete$"),
        Verb.DELETE,
        "delete rows of {} through the ORM",
    ),
    (re.compile(r"query\(\).*\.delete$"), Verb.DELETE, "delete rows through the ORM{}"),
    (re.compile(r"\.drop_all$"), Verb.DESTROY, "drop every table{}"),
    (re.compile(r"\.(flushall|flushdb)$"), Verb.DESTROY, "erase every key in the store ({})"),
    (
        re.compile(r"\.(drop_database|drop_collection|delete_many)$"),
        Verb.DESTROY,
        "drop or empty a database or collection ({})",
    ),
)


def data_effects(
    inv: Invocation, func: str, target: str, *, origin: str, boto: bool
) -> Iterator[Effect]:
    """ORM bulk deletes, ``drop_all``, Redis ``flushall``, boto3 ``delete_*``: data gone after."""
    for pattern, verb, detail in _DATA_CALLS:
        match = pattern.search(func)
        if match:
            name = next((g for g in match.groups() if g), "") or target
            yield effect(
                inv,
                verb,
                Target("database", target or name or "the database"),
                f"{origin}: {detail.format(name)}",
                reversibility=Reversibility.IRREVERSIBLE,
            )
            return
    method = func.rsplit(".", 1)[-1]
    if boto and method.startswith(("delete_", "terminate_", "purge_", "deregister_")):
        yield effect(
            inv,
            Verb.DELETE,
            Target("cloud-resource", method),
            f"{origin} calls the AWS API {method}",
            reversibility=Reversibility.IRREVERSIBLE,
            tags={"aws"},
        )
