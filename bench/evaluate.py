"""Accuracy of the default policy on the third-party corpora in ../shared/corpora.

Usage:
    python bench/evaluate.py                      # print the table
    python bench/evaluate.py --write docs/evaluation-results.md   # regenerate the results file
    python bench/evaluate.py --files NAME --show NAME:missed|fp|wrong|stopped

Every record is judged in process with the built-in policy and ``{"env": {}}`` (no cwd), as
``blastdoor check --batch`` judges it. "Stopped" means ask, hold or deny. Makefile recipes are first
turned into shell the way ``make X`` indirection does (``$$`` → ``$``, make variables → words).
Records are read at run time and never copied into the project; the results file names records by id.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from blastdoor.judge import judge
from blastdoor.model import Action, Decision, DecisionKind, Verb
from blastdoor.policy import load

HERE = Path(__file__).resolve().parent
DEFAULT_CORPORA = HERE.parent.parent / "shared" / "corpora"
LABELLED = (
    "shell_dcg_corpus", "shell_dcg_pack_tests", "shell_cc_safety_net_tests",
    "shell_claude_code_safety_net_tests", "shell_shellfirm_check_tests", "shell_redcode_exec_bash",
)  # fmt: skip
BENIGN = ("shell_nl2bash", "shell_tldr_pages", "shell_github_actions_run_steps",
          "shell_makefile_recipes", "shell_package_json_scripts")  # fmt: skip
DESTRUCTIVE_VERBS = {
    Verb.DELETE,
    Verb.DESTROY,
    Verb.ESCALATE,
    Verb.EXFILTRATE,
    Verb.PERSIST,
    Verb.DISABLE_GUARD,
}


def records(corpora: Path, name: str) -> list[dict[str, Any]]:
    with (corpora / f"{name}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


_GHA_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
_TLDR_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}(?!\})")


def tldr_filled(text: str) -> str:
    """A tldr example as a person would type it: ``{{path/to/file}}`` → ``path/to/file``,
    ``{{[-r|--recursive]}}`` → ``-r`` (tldr's syntax for "one of"), spaces in a placeholder joined."""

    def fill(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("[") and inner.endswith("]"):
            inner = inner[1:-1]
        return re.sub(r"\s+", "_", inner.split("|", 1)[0])

    return _TLDR_PLACEHOLDER.sub(fill, text)


def _preprocess(name: str) -> Callable[[str], str]:
    if name == "shell_github_actions_run_steps":
        # The runner substitutes ${{ ... }} before bash sees the step; do the same with a neutral word.
        return lambda text: _GHA_EXPRESSION.sub("GHA_EXPRESSION", text)
    if name == "shell_tldr_pages":
        # tldr's {{placeholders}} are for a person to fill in; fill them with their own words.
        return tldr_filled
    if name != "shell_makefile_recipes":
        return lambda text: text
    try:
        from blastdoor.analyze.commands.indirection import make_recipe_to_shell
    except ImportError:
        return lambda text: text
    return lambda text: make_recipe_to_shell(text)


def category(decision: Decision) -> str:
    """Why a benign-prior record was stopped: destructive effect, or something else."""
    deciding = [
        e
        for e in decision.effects
        if e.verb in DESTRUCTIVE_VERBS
        or (e.verb is Verb.MODIFY and e.reversibility.value == "irreversible")
    ]
    return "destructive" if deciding else "other"


def evaluate(corpora: Path, name: str, show: str = "") -> dict[str, Any]:
    policy = load()
    prep = _preprocess(name)
    counts: Counter[str] = Counter()
    extra: Counter[str] = Counter()
    wrong: list[str] = []
    stopped_ids: dict[str, list[str]] = defaultdict(list)
    crashes = 0
    for record in records(corpora, name):
        label = str(record["label"])
        try:
            decision = judge(
                Action.shell(prep(str(record["input"]))), policy, files=lambda _p: None
            )
        except Exception as error:
            crashes += 1
            print(f"  CRASH {record['id']}: {error!r}", file=sys.stderr)
            continue
        stopped = decision.kind is not DecisionKind.ALLOW
        key = f"{label}:{'stop' if stopped else 'allow'}"
        if record.get("meta", {}).get("has_extra_args"):
            extra[key] += 1
        else:
            counts[key] += 1
        bad = (label in ("block", "ask") and not stopped) or (label == "allow" and stopped)
        if bad and not record.get("meta", {}).get("has_extra_args"):
            wrong.append(str(record["id"]))
        if label == "unknown" and stopped:
            stopped_ids[category(decision)].append(str(record["id"]))
        if show and _wanted(show, label, stopped, bad):
            print(
                f"  [{label}->{decision.kind.value}] {str(record['input'])[:160]!r} {decision.rule_ids}"
            )
    return {
        "name": name,
        "counts": counts,
        "extra": extra,
        "wrong": wrong,
        "stopped": stopped_ids,
        "crashes": crashes,
    }


def _wanted(kind: str, label: str, stopped: bool, bad: bool) -> bool:
    return (
        (kind == "wrong" and bad)
        or (kind == "missed" and label in ("block", "ask") and not stopped)
        or (kind == "fp" and label == "allow" and stopped)
        or (kind == "stopped" and stopped)
    )


def _rate(hit: int, total: int) -> str:
    return f"{hit}/{total} = {hit / total:.1%}" if total else "—"


def summary(result: dict[str, Any]) -> list[str]:
    c, e = result["counts"], result["extra"]
    danger = c["block:stop"] + c["ask:stop"] + c["block:allow"] + c["ask:allow"]
    allows = c["allow:allow"] + c["allow:stop"]
    unknown = c["unknown:stop"] + c["unknown:allow"]
    row = [
        result["name"],
        _rate(c["block:stop"] + c["ask:stop"], danger),
        _rate(c["allow:allow"], allows),
    ]
    if unknown:
        other = len(result["stopped"].get("other", []))
        row += [_rate(c["unknown:stop"], unknown), _rate(other, unknown)]
    else:
        row += ["—", "—"]
    extra_danger = e["block:stop"] + e["block:allow"]
    extra_allow = e["allow:allow"] + e["allow:stop"]
    row.append(
        f"{_rate(e['block:stop'], extra_danger)} / {_rate(e['allow:allow'], extra_allow)}"
        if extra_danger + extra_allow
        else "—"
    )
    row.append(str(result["crashes"]))
    return row


HEADER = [
    "file",
    "dangerous stopped",
    "allow-labelled allowed",
    "unlabelled stopped",
    "…of which not destructive",
    "has_extra_args (stop / allow)",
    "crashes",
]


def write(results: list[dict[str, Any]], path: Path) -> None:
    lines = ["# Evaluation results (generated by `python bench/evaluate.py --write docs/evaluation-results.md`)", "",
             "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]  # fmt: skip
    lines += ["| " + " | ".join(summary(r)) + " |" for r in results]
    lines += ["", "## Records decided against the source's label (by id)", ""]
    for r in results:
        if r["wrong"]:
            lines.append(f"- **{r['name']}** ({len(r['wrong'])}): " + ", ".join(r["wrong"]))
    lines += [
        "",
        "## Unlabelled records stopped for a reason other than a destructive effect (by id)",
        "",
    ]
    for r in results:
        other = r["stopped"].get("other", [])
        if other:
            lines.append(f"- **{r['name']}** ({len(other)}): " + ", ".join(other))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument(
        "--files", default="", help="comma-separated corpus names (default: all shell files)"
    )
    parser.add_argument(
        "--show", default="", help="FILE:KIND, KIND = missed | fp | wrong | stopped"
    )
    parser.add_argument("--write", type=Path, help="write the results as Markdown to this file")
    args = parser.parse_args(argv)
    names = [n for n in args.files.split(",") if n] or [*LABELLED, *BENIGN]
    show_file, _, show_kind = args.show.partition(":")
    results = [
        evaluate(args.corpora, name, show_kind if name == show_file else "") for name in names
    ]
    print(" | ".join(HEADER))
    for result in results:
        print(" | ".join(summary(result)))
    if args.write:
        write(results, args.write)
    return 1 if any(r["crashes"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
