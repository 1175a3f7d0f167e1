"""Terraform plans: every deleting or replacing change in the corpus's plan fixtures found and
classified, and the speed of a 2,000-resource plan.

Usage:
    python bench/evaluate_plans.py                                   # print the report
    python bench/evaluate_plans.py --write docs/evaluation-terraform.md
    python bench/evaluate_plans.py --speed-only [--rounds 21]

Accuracy: each plan in ../shared/corpora/terraform_plans.jsonl goes through ``analyze_plan`` (the
analyzer ``check --kind terraform_plan`` and batch kind ``terraform_plan`` use). A crash is any
exception. Each change whose actions delete (``delete``, or a replacement) is listed with the
corpus's own note (``meta.delete_or_replace``, whose ``stateful_type_heuristic`` is the corpus
builder's guess) beside what Blastdoor found: the effect's verb and whether it classed the type as
stateful. Records are read at run time and never copied into the project.

Speed: a plan of 2,000 resource changes, made by repeating the corpus's own changes under new
addresses; the time of ``analyze_plan`` on its JSON text (parsing included), median of ROUNDS,
against ``json.loads`` of the same text as the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from blastdoor.analyze.terraform_plan import analyze_plan, changes, stateful

HERE = Path(__file__).resolve().parent
DEFAULT_CORPORA = HERE.parent.parent / "shared" / "corpora"
SIZE = 2000


def _records(corpora: Path) -> list[dict[str, Any]]:
    with (corpora / "terraform_plans.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def accuracy(records: list[dict[str, Any]]) -> dict[str, Any]:
    crashes, verbs, rows = [], Counter(), []
    agree = disagree = 0
    for record in records:
        text = json.dumps(record["input"])
        try:
            effects = analyze_plan(text)
            found = changes(record["input"])
        except Exception as error:  # the measure: any exception is a crash
            crashes.append(f"{record['id']}: {type(error).__name__}: {error}")
            continue
        verbs.update(e.verb.value for e in effects)
        ours = {c.address: c for c in found if c.action in ("delete", "replace")}
        theirs = {d["address"]: d for d in record["meta"].get("delete_or_replace", [])}
        if set(ours) == set(theirs):
            agree += 1
        else:
            disagree += 1
        for address in sorted(set(ours) | set(theirs)):
            change, note = ours.get(address), theirs.get(address, {})
            named = [e for e in effects if address in e.detail or e.target.name == address]
            rows.append({"plan": record["id"].removeprefix("tfplan-"), "address": address,
                         "type": change.type if change else note.get("type", "?"),
                         "action": change.action if change else "(not found)", "corpus_action": note.get("action", "(not listed)"),
                         "reason": (change.reason if change else note.get("action_reason")) or "-",
                         "stateful": stateful(change.type) if change else None,
                         "corpus_stateful": note.get("stateful_type_heuristic"),
                         "verb": named[0].verb.value if named else "(none)"})  # fmt: skip
    return {"plans": len(records), "crashes": crashes, "verbs": dict(verbs), "agree": agree,
            "disagree": disagree, "rows": rows}  # fmt: skip


def big_plan(records: list[dict[str, Any]]) -> str:
    pool = [c for r in records for c in (r["input"].get("resource_changes") or []) if isinstance(c, dict)]
    made = []
    for n in range(SIZE):
        change = dict(pool[n % len(pool)])
        change["address"] = f"module.m{n // 100}.{change.get('type', 'x')}.r{n}"
        made.append(change)
    return json.dumps({"format_version": "1.2", "resource_changes": made})


def speed(records: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    text = big_plan(records)
    ours, baseline = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        json.loads(text)
        baseline.append(time.perf_counter() - started)
        started = time.perf_counter()
        effects = analyze_plan(text, target="production")
        ours.append(time.perf_counter() - started)
    return {"resources": SIZE, "bytes": len(text), "rounds": rounds, "effects": len(effects),
            "analyze_median_ms": round(statistics.median(ours) * 1000, 1),
            "json_loads_median_ms": round(statistics.median(baseline) * 1000, 1),
            "ratio_to_json_loads": round(statistics.median(ours) / statistics.median(baseline), 2), "target": "<= 1 s"}  # fmt: skip


def report(result: dict[str, Any], timing: dict[str, Any]) -> str:
    lines = ["# Terraform plan fixtures: results", "",
             "Generated by `python bench/evaluate_plans.py --write docs/evaluation-terraform.md`; method and "
             "discussion in docs/evaluation.md.", "",
             f"- plans: {result['plans']}; crashes: {len(result['crashes'])}",
             f"- plans whose deleting/replacing changes match the corpus's list exactly: {result['agree']} "
             f"(differ: {result['disagree']})",
             f"- effects by verb: {', '.join(f'{k} {v}' for k, v in sorted(result['verbs'].items()))}",
             f"- speed: a {timing['resources']:,}-resource plan ({timing['bytes']:,} bytes) in {timing['analyze_median_ms']} ms "
             f"(median of {timing['rounds']}); json.loads alone {timing['json_loads_median_ms']} ms; ratio "
             f"{timing['ratio_to_json_loads']}; target {timing['target']}", "",
             "| plan | change | type | action (ours / corpus) | reason | stateful (ours / corpus) | effect |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for row in result["rows"]:
        lines.append(f"| {row['plan']} | `{row['address']}` | {row['type']} | {row['action']} / {row['corpus_action']} | "
                     f"{row['reason']} | {row['stateful']} / {row['corpus_stateful']} | {row['verb']} |")  # fmt: skip
    for crash in result["crashes"]:
        lines.append(f"- crash: {crash}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--write", type=Path)
    parser.add_argument("--speed-only", action="store_true")
    args = parser.parse_args()
    records = _records(args.corpora)
    timing = speed(records, args.rounds)
    if args.speed_only:
        print(json.dumps(timing))
        return 0
    text = report(accuracy(records), timing)
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
