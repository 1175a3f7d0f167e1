"""Judgement speed over the shell corpus mix, in process, on one core.

Usage: python bench/speed.py [--corpora DIR] [--rounds 3] [--limit N]

For each round, every shell input of ../shared/corpora is judged with the built-in policy and each
decision is timed; a baseline (``shlex.split`` of the same inputs, the naive tokeniser many guards
use) is timed in the same run so the figures can be compared on a noisy machine. Reported: median
throughput over rounds, median and p99 latency, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import statistics
import time
from pathlib import Path

from blastdoor.judge import judge
from blastdoor.model import Action
from blastdoor.policy import load

CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"


def inputs(corpora: Path, limit: int) -> list[str]:
    texts: list[str] = []
    for path in sorted(corpora.glob("shell_*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            texts += [str(json.loads(line)["input"]) for line in handle if line.strip()]
    return texts[:limit] if limit else texts


def time_each(texts: list[str], fn: object) -> list[int]:
    call = fn  # type: ignore[assignment]
    out = []
    for text in texts:
        start = time.perf_counter_ns()
        call(text)  # type: ignore[operator]
        out.append(time.perf_counter_ns() - start)
    return out


def _split(text: str) -> None:
    with contextlib.suppress(ValueError):
        shlex.split(text)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    policy = load()
    texts = inputs(args.corpora, args.limit)
    if not texts:
        print(f"no shell_*.jsonl inputs under {args.corpora}: pass --corpora DIR (the shared corpora folder)")
        return 2
    no_files = lambda _p: None  # noqa: E731 - the corpus has no working directory
    rates, medians, p99s, base_rates = [], [], [], []
    for _ in range(args.rounds):
        base = time_each(texts, _split)
        took = time_each(texts, lambda t: judge(Action.shell(t), policy, files=no_files))
        rates.append(len(texts) / (sum(took) / 1e9))
        base_rates.append(len(texts) / (sum(base) / 1e9))
        ordered = sorted(took)
        medians.append(ordered[len(ordered) // 2] / 1e3)
        p99s.append(ordered[int(len(ordered) * 0.99)] / 1e3)
    rate, base_rate = statistics.median(rates), statistics.median(base_rates)
    print(f"inputs: {len(texts)}  rounds: {args.rounds}  (one core)")
    print(
        f"judge: {rate:,.0f} decisions/s  median {statistics.median(medians):.0f} µs  p99 {statistics.median(p99s):.0f} µs"
    )
    print(
        f"baseline shlex.split: {base_rate:,.0f} splits/s  ratio judge/baseline throughput = {rate / base_rate:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
