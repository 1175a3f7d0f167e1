"""Accuracy of the default policy on the third-party corpora in ../shared/corpora.

Usage: python bench/evaluate.py [--corpora DIR] [--write docs/evaluation.md] [--show FILE:LABEL]

Every record is judged in process with the built-in policy and ``{"env": {}}`` (no cwd), exactly
as ``blastdoor check --batch`` would judge it. "Stopped" means ask, hold or deny.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

from blastdoor.judge import judge
from blastdoor.model import Action, DecisionKind
from blastdoor.policy import load

HERE = Path(__file__).resolve().parent
DEFAULT_CORPORA = HERE.parent.parent / "shared" / "corpora"
LABELLED = (
    "shell_dcg_corpus", "shell_dcg_pack_tests", "shell_cc_safety_net_tests",
    "shell_claude_code_safety_net_tests", "shell_shellfirm_check_tests", "shell_redcode_exec_bash",
)  # fmt: skip
BENIGN = ("shell_nl2bash", "shell_tldr_pages", "shell_github_actions_run_steps",
          "shell_makefile_recipes", "shell_package_json_scripts")  # fmt: skip


def records(corpora: Path, name: str) -> list[dict[str, object]]:
    with (corpora / f"{name}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--show", default="", help="FILE:KIND, KIND = missed | wrong | stopped")
    parser.add_argument("--files", default="", help="comma-separated corpus names (default: all shell files)")
    args = parser.parse_args(argv)
    policy = load()
    names = [n for n in args.files.split(",") if n] or [*LABELLED, *BENIGN]
    show_file, _, show_kind = args.show.partition(":")
    with tempfile.TemporaryDirectory() as empty:
        for name in names:
            counts: Counter[str] = Counter()
            for record in records(args.corpora, name):
                text = str(record["input"])
                label = str(record["label"])
                decision = judge(Action.shell(text), policy, files=lambda _p: None)
                stopped = decision.kind is not DecisionKind.ALLOW
                counts[f"{label}:{'stop' if stopped else 'allow'}"] += 1
                bad = (label in ("block", "ask") and not stopped) or (label == "allow" and stopped)
                if name == show_file and (
                    (show_kind == "wrong" and bad)
                    or (show_kind == "missed" and label in ("block", "ask") and not stopped)
                    or (show_kind == "fp" and label == "allow" and stopped)
                    or (show_kind == "stopped" and stopped)
                ):
                    print(f"  [{label}->{decision.kind.value}] {text[:160]!r} {decision.rule_ids}")
            del empty
            stop = counts["block:stop"] + counts["ask:stop"]
            dangerous = stop + counts["block:allow"] + counts["ask:allow"]
            allow_total = counts["allow:allow"] + counts["allow:stop"]
            unknown_total = counts["unknown:allow"] + counts["unknown:stop"]
            parts = [name]
            if dangerous:
                parts.append(f"stop {stop}/{dangerous} = {stop / dangerous:.1%}")
            if allow_total:
                parts.append(f"allow {counts['allow:allow']}/{allow_total} = {counts['allow:allow'] / allow_total:.1%}")
            if unknown_total:
                parts.append(f"unlabelled stopped {counts['unknown:stop']}/{unknown_total} = {counts['unknown:stop'] / unknown_total:.2%}")
            print("  ".join(parts))
            empty = ""
    return 0


if __name__ == "__main__":
    sys.exit(main())
