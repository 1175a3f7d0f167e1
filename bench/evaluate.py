"""Accuracy of the default policy on the third-party corpora in ../shared/corpora.

Usage:
    python bench/evaluate.py                      # print the table
    python bench/evaluate.py --write docs/evaluation-results.md   # regenerate the results file
    python bench/evaluate.py --files NAME --show NAME:missed|fp|wrong|stopped

Every record is judged in process with the built-in policy and ``{"env": {}}`` (no cwd), as
``blastdoor check --batch`` judges it. "Stopped" means ask, hold or deny. Makefile recipes are first
turned into shell the way ``make X`` indirection does (``$$`` → ``$``, make variables → words).
Records are read at run time and never copied into the project; the results file names records by id.

Each labelled file is reported twice: raw, and without the records ``bench/evaluation_exclusions.toml``
lists (at most 3% of a file, each tied to a disagreement docs/evaluation.md documents; see
``bench/exclusions.py``). A list that breaks those rules stops the run with an error.
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
from exclusions import Exclusion, ExclusionError, Outcome, documented_tags, problems
from exclusions import load as load_exclusions

HERE = Path(__file__).resolve().parent
# ../shared/corpora beside the checkout; a git worktree one level deeper finds it further up.
DEFAULT_CORPORA = next(
    (up / "shared" / "corpora" for up in HERE.parents if (up / "shared" / "corpora").is_dir()),
    HERE.parent.parent / "shared" / "corpora",
)
DEFAULT_EXCLUSIONS = HERE / "evaluation_exclusions.toml"
DOC = HERE.parent / "docs" / "evaluation.md"
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
    outcomes: dict[str, Outcome] = {}
    keys: dict[str, str] = {}
    stopped_ids: dict[str, list[str]] = defaultdict(list)
    crashes = 0
    for record in records(corpora, name):
        label = str(record["label"])
        record_id = str(record["id"])
        has_extra = bool(record.get("meta", {}).get("has_extra_args"))
        try:
            decision = judge(
                Action.shell(prep(str(record["input"]))), policy, files=lambda _p: None
            )
        except Exception as error:
            crashes += 1
            print(f"  CRASH {record_id}: {error!r}", file=sys.stderr)
            continue
        stopped = decision.kind is not DecisionKind.ALLOW
        key = f"{label}:{'stop' if stopped else 'allow'}"
        if has_extra:
            extra[key] += 1
        else:
            counts[key] += 1
            keys[record_id] = key
        bad = (label in ("block", "ask") and not stopped) or (label == "allow" and stopped)
        outcomes[record_id] = Outcome(label=label, extra=has_extra, wrong=bad)
        if bad and not has_extra:
            wrong.append(record_id)
        if label == "unknown" and stopped:
            stopped_ids[category(decision)].append(record_id)
        if show and _wanted(show, label, stopped, bad):
            print(
                f"  [{label}->{decision.kind.value}] {str(record['input'])[:160]!r} {decision.rule_ids}"
            )
    return {
        "name": name,
        "counts": counts,
        "extra": extra,
        "wrong": wrong,
        "outcomes": outcomes,
        "keys": keys,
        "excluded": {},
        "stopped": stopped_ids,
        "crashes": crashes,
    }


def apply_exclusions(
    results: list[dict[str, Any]], listed: dict[str, dict[str, Exclusion]], tags: set[str],
    corpora: Path,
) -> list[str]:  # fmt: skip
    """Attach each file's exclusions to its result; every problem with the list, one per line."""
    found = [
        f"{file}: not a corpus file in {corpora}"
        for file in listed
        if not (corpora / f"{file}.jsonl").is_file()
    ]
    for result in results:
        excluded = listed.get(result["name"], {})
        found += problems(result["name"], excluded, result["outcomes"], tags)
        result["excluded"] = excluded
    return found


def _wanted(kind: str, label: str, stopped: bool, bad: bool) -> bool:
    return (
        (kind == "wrong" and bad)
        or (kind == "missed" and label in ("block", "ask") and not stopped)
        or (kind == "fp" and label == "allow" and stopped)
        or (kind == "stopped" and stopped)
    )


def _rate(hit: int, total: int) -> str:
    return f"{hit}/{total} = {hit / total:.1%}" if total else "—"


def _figures(counts: Counter[str]) -> tuple[int, int, int, int]:
    """Dangerous records stopped and in all; allow-labelled records allowed and in all."""
    danger = counts["block:stop"] + counts["ask:stop"] + counts["block:allow"] + counts["ask:allow"]
    allows = counts["allow:allow"] + counts["allow:stop"]
    return counts["block:stop"] + counts["ask:stop"], danger, counts["allow:allow"], allows


def summary(result: dict[str, Any]) -> list[str]:
    c, e = result["counts"], result["extra"]
    kept = Counter(c)
    for record_id in result["excluded"]:
        kept[result["keys"][record_id]] -= 1
    stopped, danger, allowed, allows = _figures(c)
    kept_stopped, kept_danger, kept_allowed, kept_allows = _figures(kept)
    unknown = c["unknown:stop"] + c["unknown:allow"]
    excluded = bool(result["excluded"])
    row = [
        result["name"],
        _rate(stopped, danger),
        _rate(kept_stopped, kept_danger) if excluded else "—",
        _rate(allowed, allows),
        _rate(kept_allowed, kept_allows) if excluded else "—",
        str(len(result["excluded"])) if danger + allows else "—",
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
    "…after exclusions",
    "allow-labelled allowed",
    "…after exclusions",
    "excluded",
    "unlabelled stopped",
    "…of which not destructive",
    "has_extra_args (stop / allow)",
    "crashes",
]


def write(results: list[dict[str, Any]], path: Path) -> None:
    lines = ["# Evaluation results (generated by `python bench/evaluate.py --write docs/evaluation-results.md`)", "",
             "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]  # fmt: skip
    lines += ["| " + " | ".join(summary(r)) + " |" for r in results]
    lines += ["", "## Records decided against the source's label (by id)", "",
              "Excluded records are marked with their disagreement's tag (docs/evaluation.md).", ""]  # fmt: skip
    for r in results:
        if r["wrong"]:
            named = [
                f"{record_id} ({r['excluded'][record_id].tag})"
                if record_id in r["excluded"]
                else record_id
                for record_id in r["wrong"]
            ]
            lines.append(f"- **{r['name']}** ({len(r['wrong'])}): " + ", ".join(named))
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
    parser.add_argument("--exclusions", type=Path, default=DEFAULT_EXCLUSIONS,
                        help="the exclusion list (default: bench/evaluation_exclusions.toml)")  # fmt: skip
    args = parser.parse_args(argv)
    names = [n for n in args.files.split(",") if n] or [*LABELLED, *BENIGN]
    missing = [n for n in names if not (args.corpora / f"{n}.jsonl").is_file()]
    if missing:
        print(f"evaluate: no {missing[0]}.jsonl in {args.corpora}: pass --corpora DIR "
              "(the shared corpora folder)", file=sys.stderr)  # fmt: skip
        return 2
    try:
        listed = load_exclusions(args.exclusions)
        tags = documented_tags(DOC)
    except ExclusionError as error:
        print(f"evaluate: {error}", file=sys.stderr)
        return 2
    show_file, _, show_kind = args.show.partition(":")
    results = [
        evaluate(args.corpora, name, show_kind if name == show_file else "") for name in names
    ]
    wrong = apply_exclusions(results, listed, tags, args.corpora)
    if wrong:
        for line in wrong:
            print(f"evaluate: {args.exclusions.name}: {line}", file=sys.stderr)
        return 2
    print(" | ".join(HEADER))
    for result in results:
        print(" | ".join(summary(result)))
    if args.write:
        write(results, args.write)
    return 1 if any(r["crashes"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
