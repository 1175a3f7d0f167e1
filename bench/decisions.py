"""Every shell corpus decision, written one per line, to show that a change decides nothing differently.

Usage:
    python bench/decisions.py before.jsonl      # on the code before a change
    python bench/decisions.py after.jsonl       # after it
    cmp before.jsonl after.jsonl                # a speed-up must leave no difference

Each record of ../shared/corpora/shell_*.jsonl is judged as ``bench/evaluate.py`` judges it (same
preprocessing, built-in policy, no working directory). A line holds the corpus and record id, the
decision's kind, rule ids and reasons, and every field of every effect, so any change in what the
judge says shows up, not only a changed verdict. A record that raises is written as ``CRASH``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from blastdoor.judge import judge
from blastdoor.model import Action, Decision
from blastdoor.policy import load
from evaluate import DEFAULT_CORPORA, _preprocess


def described(decision: Decision) -> list[Any]:
    effects = [
        [e.verb.value, e.target.kind, e.target.name, e.scope.value, e.reversibility.value,
         e.detail, e.evidence, e.blast.as_dict(), sorted(e.tags), list(e.signals)]
        for e in decision.effects
    ]  # fmt: skip
    return [decision.kind.value, list(decision.rule_ids), list(decision.reasons), decision.enforced, effects]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path, help="where to write the decisions (JSON lines)")
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    args = parser.parse_args(argv)
    files = sorted(args.corpora.glob("shell_*.jsonl"))
    if not files:
        print(f"no shell_*.jsonl files under {args.corpora}: pass --corpora DIR (the shared corpora folder)")
        return 2
    policy = load()
    count = 0
    with args.out.open("w", encoding="utf-8") as out:
        for path in files:
            prep = _preprocess(path.stem)
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    if not line.strip():
                        continue
                    record = json.loads(line)
                    try:
                        decision = judge(Action.shell(prep(str(record["input"]))), policy, files=lambda _p: None)
                        row = [path.stem, record["id"], *described(decision)]
                    except Exception as error:  # a crash is a difference too
                        row = [path.stem, record["id"], "CRASH", repr(error)]
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    count += 1
    print(f"{count} decisions written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
