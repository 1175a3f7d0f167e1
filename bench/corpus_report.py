"""The command line the corpus evaluations share: read a corpus file, time the analyzer, judge
every record, print the report or write it to a file (``--write``), or only the speed."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"

Records = list[dict[str, Any]]


def records(corpora: Path, name: str) -> Records:
    with (corpora / f"{name}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def run(doc: str | None, corpus: str, *, rounds: int, speed: Callable[[Records, int], dict[str, Any]],
        accuracy: Callable[[Records], dict[str, Any]], report: Callable[[dict[str, Any], dict[str, Any]], str]) -> int:  # fmt: skip
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else "")
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--write", type=Path)
    parser.add_argument("--speed-only", action="store_true")
    args = parser.parse_args()
    found = records(args.corpora, corpus)
    timing = speed(found, args.rounds)
    if args.speed_only:
        print(json.dumps(timing))
        return 0
    result = accuracy(found)
    text = report(result, timing) + "".join(f"- crash: {crash}\n" for crash in result.get("crashes", []))
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    print(text[:4000])
    return 0


def paired(rounds: int, baseline: Callable[[], object], ours: Callable[[], object]) -> tuple[float, float]:
    """Median seconds of ``ours`` and of ``baseline``, timed in alternation for ``rounds`` rounds
    so that the machine's load falls on both alike."""
    theirs, mine = [], []
    for _ in range(rounds):
        for times, work in ((theirs, baseline), (mine, ours)):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
    return statistics.median(mine), statistics.median(theirs)
