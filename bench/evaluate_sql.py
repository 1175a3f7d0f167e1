"""SQL: PostgreSQL's own regression statements through the analyzer, with no crash, the effect
breakdown, every disagreement with the corpus's keyword labels among destructive statements, and
the speed.

Usage:
    python bench/evaluate_sql.py                                    # print the report
    python bench/evaluate_sql.py --write docs/evaluation-sql.md
    python bench/evaluate_sql.py --speed-only [--rounds 3]

Accuracy: each record of ../shared/corpora/sql_postgres_regression_statements.jsonl goes through
``findings`` (what ``analyze_sql`` builds its effects from: pglast, i.e. libpg_query, then a
keyword scan for what it cannot parse). A crash is any exception. The corpus labels each
statement with ``meta.statement_type`` (its first keywords) and ``meta.has_where`` (whether the
word WHERE appears); for the destructive types (DELETE, UPDATE, DROP ..., TRUNCATE) each record
where Blastdoor reads it otherwise is listed with the reason, found from the parse tree. Records
are read at run time and never copied into the project; the results file quotes at most the first
100 characters of a disagreeing statement, to explain it.

Speed: every statement of the corpus analyzed once per round (``analyze_sql``, effects built);
statements/s as the median of ROUNDS, against ``pglast.parse_sql`` alone on the same statements,
measured in the same run.
"""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from typing import Any

import corpus_report  # bench/: the shared command line
from blastdoor.analyze.sql import Finding, analyze_sql, findings
from blastdoor.model import Verb

WHERE_TAGS = {"no-where", "trivial-where", "filtered"}
QUOTE = 100



def _tags(found: list[Finding]) -> set[str]:
    return set().union(*(f.tags for f in found)) if found else set()


def _why_where(text: str, found: list[Finding], corpus_where: bool) -> str:
    """Why our reading of WHERE differs from the keyword label."""
    tags, low = _tags(found), text.lower()
    if "unparsed" in tags:
        return "PostgreSQL's parser rejects it (a deliberate error case); judged from keywords"
    if corpus_where and "trivial-where" in tags:
        return "the WHERE clause is always true, so every row is touched"
    if corpus_where and "no-where" in tags:
        if "current of" in low:
            return "WHERE CURRENT OF a cursor: one row, but the statement has no filter of its own"
        return "the word WHERE belongs to a subquery, CTE or function body, not to this statement"
    if not corpus_where and "filtered" in tags:
        return "the label missed a WHERE clause (split across lines or after a comment)"
    return "other"


def accuracy(records: list[dict[str, Any]]) -> dict[str, Any]:
    crashes: list[str] = []
    verbs: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    types: Counter[str] = Counter()
    disagreements: list[dict[str, str]] = []
    for record in records:
        text, meta = record["input"], record["meta"]
        try:
            found = findings(text)
        except Exception as error:  # the measure: any exception is a crash
            crashes.append(f"{record['id']}: {type(error).__name__}: {error}")
            continue
        verbs.update(f.verb.value for f in found)
        tags.update(t for f in found for t in f.tags)
        kind = str(meta.get("statement_type", ""))
        ours = _tags(found)
        if kind in ("DELETE", "UPDATE"):
            types[kind] += 1
            dml = [f for f in found if f.verb in (Verb.DELETE, Verb.MODIFY) and f.tags & WHERE_TAGS]
            filtered = bool(dml) and all("filtered" in f.tags for f in dml)
            if not dml:
                disagreements.append(_row(record, found, "no DELETE/UPDATE found: " + _why_where(text, found, bool(meta.get("has_where")))))
            elif filtered != bool(meta.get("has_where")):
                disagreements.append(_row(record, found, _why_where(text, found, bool(meta.get("has_where")))))
        elif kind.startswith("DROP") or kind == "TRUNCATE":
            types[kind] += 1
            if not any(f.verb in (Verb.DELETE, Verb.DESTROY) for f in found):
                why = "PostgreSQL's parser rejects it; judged from keywords" if "unparsed" in ours else "other"
                disagreements.append(_row(record, found, why))
    return {"statements": len(records), "crashes": crashes, "verbs": verbs, "tags": tags,
            "types": types, "disagreements": disagreements}  # fmt: skip


def _row(record: dict[str, Any], found: list[Finding], why: str) -> dict[str, str]:
    text = " ".join(record["input"].split())
    return {"id": record["id"], "statement": text[:QUOTE] + ("…" if len(text) > QUOTE else ""),
            "corpus": f"{record['meta'].get('statement_type')}, has_where={record['meta'].get('has_where')}",
            "ours": "; ".join(f"{f.verb.value} [{', '.join(sorted(f.tags))}]" for f in found) or "(nothing)", "why": why}  # fmt: skip


def speed(records: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    from pglast import parse_sql
    from pglast.parser import ParseError

    texts = [r["input"] for r in records]

    def parse_only() -> None:
        for text in texts:
            with contextlib.suppress(ParseError):
                parse_sql(text)

    def analyze() -> None:
        for text in texts:
            analyze_sql(text, target="postgresql://db.prod.internal/app")

    ours, baseline = corpus_report.paired(rounds, parse_only, analyze)
    return {"statements": len(texts), "rounds": rounds, "analyze_per_s": round(len(texts) / ours),
            "parse_only_per_s": round(len(texts) / baseline), "ratio_to_parse": round(ours / baseline, 2),
            "target": ">= 2,000/s"}  # fmt: skip


def report(result: dict[str, Any], timing: dict[str, Any]) -> str:
    reasons = Counter(d["why"] for d in result["disagreements"])
    lines = ["# PostgreSQL regression statements: results", "",
             "Generated by `python bench/evaluate_sql.py --write docs/evaluation-sql.md`; method and discussion in "
             "docs/evaluation.md.", "",
             f"- statements: {result['statements']:,}; crashes: {len(result['crashes'])}",
             f"- speed: {timing['analyze_per_s']:,} statements/s analyzed (median of {timing['rounds']}); pglast parsing "
             f"alone {timing['parse_only_per_s']:,}/s; ratio {timing['ratio_to_parse']}; target {timing['target']}",
             "- findings by verb: " + ", ".join(f"{k} {v:,}" for k, v in result["verbs"].most_common()),
             "- findings by tag: " + ", ".join(f"{k} {v:,}" for k, v in result["tags"].most_common()),
             "- destructive statement types checked: " + ", ".join(f"{k} {v:,}" for k, v in result["types"].most_common()),
             f"- disagreements with the keyword labels: {len(result['disagreements'])}",
             *(f"  - {count}: {why}" for why, count in reasons.most_common()), "",
             "| id | statement | corpus label | Blastdoor's reading | why |", "|---|---|---|---|---|"]  # fmt: skip
    for row in result["disagreements"]:
        statement = row["statement"].replace("|", "\\|")
        lines.append(f"| {row['id']} | `{statement}` | {row['corpus']} | {row['ours']} | {row['why']} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    return corpus_report.run(__doc__, "sql_postgres_regression_statements", rounds=3, speed=speed, accuracy=accuracy, report=report)


if __name__ == "__main__":
    sys.exit(main())
