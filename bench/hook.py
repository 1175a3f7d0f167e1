"""Hook benchmark: the whole process an agent starts per tool call, against bare Python.

Method (docs/benchmarks.md): each round runs, interleaved so load hits all alike, N calls of
1. ``python -I -S -c pass`` (the baseline: the cheapest Python process there is),
2. the installed Claude Code hook command through ``/bin/sh -c`` with the resident daemon up, for
   ``terraform destroy -auto-approve`` and ``git status`` (each call judged and written to the ledger),
3. the same command with the daemon down (``BLASTDOOR_DAEMON=0``: decided in process),
4. cc-safety-net's Claude Code hook on the same payloads, when ``--cc-safety-net DIR`` is given
   (``npm install --prefix DIR cc-safety-net``).
Reported: the median wall time of each, and its ratio to the baseline's median in the same run.

    python bench/hook.py [--calls 40] [--rounds 3] [--cc-safety-net /tmp/peers/ccsn]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from blastdoor.config import Settings
from blastdoor.integrations import daemon
from blastdoor.integrations.agents import adapter_for
from blastdoor.integrations.manage import Place, command_for

COMMANDS = ("terraform destroy -auto-approve", "git status")


def payload(command: str, cwd: str) -> bytes:
    return json.dumps({"session_id": "bench", "transcript_path": "/dev/null", "cwd": cwd, "permission_mode": "default",
                       "hook_event_name": "PreToolUse", "tool_name": "Bash",
                       "tool_input": {"command": command}, "tool_use_id": "toolu_bench"}).encode()  # fmt: skip


def timed(argv: list[str], data: bytes, env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        argv,
        input=data,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        check=False,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--cc-safety-net", default="", help="folder where cc-safety-net was npm-installed"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "blastdoor"
        work = Path(scratch) / "work"
        work.mkdir()
        env = {**os.environ, "BLASTDOOR_HOME": str(home), "HOME": scratch}
        command = command_for(
            adapter_for("claude-code"), Place(project=work, home=Path(scratch), blastdoor_home=home)
        )
        cases: dict[str, tuple[list[str], bytes, dict[str, str]]] = {
            "bare python -I -S -c pass": ([sys.executable, "-I", "-S", "-c", "pass"], b"", env)
        }
        for text in COMMANDS:
            data = payload(text, str(work))
            cases[f"hook, daemon up: {text}"] = (["/bin/sh", "-c", command], data, env)
            cases[f"hook, in process: {text}"] = (
                ["/bin/sh", "-c", command],
                data,
                {**env, "BLASTDOOR_DAEMON": "0"},
            )
            if args.cc_safety_net:
                script = (
                    Path(args.cc_safety_net)
                    / "node_modules/cc-safety-net/dist/bin/cc-safety-net.js"
                )
                cases[f"cc-safety-net: {text}"] = (
                    ["node", str(script), "hook", "--claude-code"],
                    data,
                    env,
                )
        times: dict[str, list[float]] = {name: [] for name in cases}
        ratios: dict[str, list[float]] = {name: [] for name in cases}
        settings = Settings.resolve(home=str(home))
        subprocess.run(["/bin/sh", "-c", command], input=payload("true", str(work)), env=env, cwd=work, check=False,
                       capture_output=True)  # fmt: skip  # creates the home, starts the daemon
        try:
            for _ in range(args.rounds):
                round_times: dict[str, list[float]] = {name: [] for name in cases}
                for _ in range(args.calls):
                    for name, (argv, data, case_env) in cases.items():
                        if "daemon up" in name and daemon.running_pid(settings) is None:
                            subprocess.run(["/bin/sh", "-c", command], input=payload("true", str(work)), env=env,
                                           cwd=work, check=False, capture_output=True)  # fmt: skip
                            time.sleep(0.5)
                        round_times[name].append(timed(argv, data, case_env, str(work)))
                base = statistics.median(round_times["bare python -I -S -c pass"])
                for name, values in round_times.items():
                    times[name] += values
                    ratios[name].append(statistics.median(values) / base)
        finally:
            daemon.stop(settings)
        print(f"{'case':52} {'median ms':>10} {'p90 ms':>8} {'x bare':>7}")
        for name, values in times.items():
            values.sort()
            p90 = values[int(len(values) * 0.9) - 1]
            print(
                f"{name:52} {statistics.median(values) * 1000:10.1f} {p90 * 1000:8.1f} {statistics.median(ratios[name]):7.2f}"
            )


if __name__ == "__main__":
    main()
