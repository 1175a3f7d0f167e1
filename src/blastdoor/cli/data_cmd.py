"""``blastdoor data``: row history on a production database, and undo by agent run.

Exit codes: 0 done, 1 error, refused undo, or failed verification, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from blastdoor.cli.common import settings

IMAGE_CHARS = 160


def register(commands: Any) -> None:
    data = commands.add_parser("data", help="row history, attributed to agent runs, and undo",
                               description="Record every change to a database's tables with the agent run "
                               "that made it, and put a run's changes back.")  # fmt: skip
    sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    enable = _target(sub.add_parser("enable", help="install history triggers (PostgreSQL as a superuser, or SQLite)"))
    enable.add_argument("--tables", nargs="+", default=[], metavar="TABLE",
                        help="tables to track, as TABLE or SCHEMA.TABLE (default: every table outside system schemas)")  # fmt: skip
    enable.add_argument("--without-drop-guard", action="store_true",
                        help="skip the event triggers that refuse DROP of tracked tables (for a non-superuser)")  # fmt: skip
    enable.set_defaults(handler=_enable)

    disable = _target(sub.add_parser("disable", help="remove the triggers and the history they kept"))
    disable.add_argument("--yes", action="store_true", help="confirm: the recorded history is deleted with it")
    disable.set_defaults(handler=_disable)

    history = _selection(_target(sub.add_parser("history", help="what a run, a time span or a transaction changed")))
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(handler=_history)

    undo = _selection(_target(sub.add_parser("undo", help="put back every row a run (or span, or transaction) changed")))
    undo.add_argument("--dry-run", action="store_true", help="work it all out, then roll back: nothing changes")
    undo.add_argument("--on-conflict", choices=("refuse", "skip", "overwrite"), default="refuse",
                      help="rows changed later by others: refuse the undo (default), skip those rows, or overwrite them")  # fmt: skip
    undo.set_defaults(handler=_undo)

    restore = _target(sub.add_parser("restore", help="rebuild a dropped table from its history (SQLite)"))
    restore.add_argument("--table", required=True, help="the tracked table that was dropped")
    restore.set_defaults(handler=_restore)

    seal = _target(sub.add_parser("seal", help="hash-chain new history rows and anchor the head in the ledger"))
    seal.add_argument("--every", type=float, default=0, metavar="SECONDS", help="keep sealing at this interval")
    seal.set_defaults(handler=_seal)

    verify = _target(sub.add_parser("verify", help="check sealed history against its chain and the ledger"))
    verify.set_defaults(handler=_verify)


def _target(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--dsn", default="", help="the database: postgresql://USER[:PASSWORD]@HOST[:PORT]/DB, sqlite:///RELATIVE/PATH or sqlite:////ABSOLUTE/PATH")
    parser.add_argument("--profile", default="", help="or a broker profile holding its URL")
    return parser


def _selection(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--run", default="", help="an agent run id (the broker tags its writes with it)")
    parser.add_argument("--since", default="", help="a time (ISO 8601, UTC by default) or an age: 30m, 2h, 1d")
    parser.add_argument("--txid", default="", help="one transaction id, as data history shows it")
    return parser


def _resolve(args: argparse.Namespace) -> Any:
    from blastdoor.data.target import resolve

    return resolve(settings(args), dsn=args.dsn, profile=args.profile)


def _selected(args: argparse.Namespace) -> Any:
    from blastdoor.data.selection import Selection

    return Selection.parse(run=args.run, since=args.since, txid=args.txid)


def _enable(args: argparse.Namespace) -> int:
    from blastdoor.broker.engines import SQLITE
    from blastdoor.data import service

    target = _resolve(args)
    result = service.enable(settings(args), target, tables=args.tables, guard=not args.without_drop_guard)
    print(f"row history is on for {target.label} (history id {result.database_id})")
    for added in result.added:
        if added["key"]:
            print(f"  tracking {added['table']} (key {', '.join(added['key'])}; {added['baseline_rows']} rows copied as its baseline)")
        else:
            print(f"  tracking {added['table']} ({added['baseline_rows']} rows copied; NO primary key: recorded, "
                  "but undo cannot tell its rows apart)")  # fmt: skip
    if result.already:
        print(f"  already tracked: {', '.join(result.already)}")
    if target.engine == SQLITE:
        print("  DROP guard: SQLite cannot refuse a DROP TABLE; blastdoor data restore --table T rebuilds one from history")
    else:
        print("  DROP guard: " + ("on (dropping a tracked table needs the broker's snapshot)" if result.guarded
                                  else "OFF (a DROP TABLE goes unrecorded)"))  # fmt: skip
    return 0


def _disable(args: argparse.Namespace) -> int:
    from blastdoor.data import service
    from blastdoor.errors import InputError

    if not args.yes:
        raise InputError("disabling deletes the recorded history with the triggers", hint="add --yes to confirm")
    target = _resolve(args)
    tables = service.disable(settings(args), target)
    print(f"row history is off for {target.label}; it tracked {', '.join(tables) or 'no tables'}; "
          "its history is deleted (the ledger keeps the seal heads)")  # fmt: skip
    return 0


def _history(args: argparse.Namespace) -> int:
    from blastdoor.data import service

    found = service.history(_resolve(args), _selected(args))
    if args.json:
        print(json.dumps({"selection": found.selection.record(), "total": found.total,
                          "tables": [vars(t) for t in found.tables]}, default=str, indent=2))  # fmt: skip
        return 0
    print(f"{found.selection.describe()}: {found.total} row changes in {len(found.tables)} tables")
    for table in found.tables:
        counts = ", ".join(f"{what} {count}" for what, count in table.counts.items())
        print(f"  {table.table}: {counts}  (runs: {', '.join(table.runs)}; {table.first} .. {table.last})")
        for sample in table.samples:
            print(f"    change {sample['change']} {sample['op']} (txid {sample['txid']}, run {sample['run']}): "
                  f"{_image(sample['before'])} -> {_image(sample['after'])}")  # fmt: skip
    return 0


def _image(value: Any) -> str:
    if value is None:
        return "-"
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= IMAGE_CHARS else text[: IMAGE_CHARS - 1] + "…"


def _undo(args: argparse.Namespace) -> int:
    from blastdoor.data import service

    target = _resolve(args)
    report = service.undo_run(settings(args), target, _selected(args), on_conflict=args.on_conflict, dry_run=args.dry_run)
    what = report.selection.describe()
    if args.on_conflict == "refuse" and (report.problems or report.conflict_count):
        print(f"blastdoor: undo of {what} refused; nothing was changed:", file=sys.stderr)
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        for conflict in report.conflicts:
            print(f"  {conflict['table']} {json.dumps(conflict['key'])}: {conflict['why']}", file=sys.stderr)
        if report.conflict_count > len(report.conflicts):
            print(f"  ... {report.conflict_count - len(report.conflicts)} more rows in conflict", file=sys.stderr)
        print("  resolve with --on-conflict skip (leave those rows and tables, undo the rest) or --on-conflict "
              "overwrite (put the old rows back anyway)", file=sys.stderr)  # fmt: skip
        return 1
    verb = "would revert" if report.dry_run else "reverted"
    print(f"{report.undo_id}: {verb} {report.changes} changes of {what} in {len(report.tables)} tables")
    for table in report.tables:
        skipped = f", skipped {table.skipped} rows in conflict" if table.skipped else ""
        print(f"  {table.table}: {table.inserted} rows put back, {table.updated} restored, {table.deleted} removed{skipped}")
    for problem in report.problems:
        print(f"  left as is: {problem}")
    if report.dry_run:
        print("dry run: rolled back, nothing was changed")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from blastdoor.data import service

    target = _resolve(args)
    rows = service.restore(settings(args), target, args.table)
    print(f"rebuilt {args.table} on {target.label} with the {rows} rows its history last recorded; history is on for it again")
    return 0


def _seal(args: argparse.Namespace) -> int:
    from blastdoor.data import service

    target = _resolve(args)
    while True:
        sealed = service.seal_now(settings(args), target)
        if sealed.added:
            print(f"sealed {sealed.added} history rows (seals up to {sealed.seq}); head sha256:{sealed.head} is in the ledger")
        elif not args.every:
            print(f"nothing new to seal ({sealed.seq} rows sealed so far)")
        if not args.every:
            return 0
        sys.stdout.flush()
        time.sleep(max(args.every, 0.5))


def _verify(args: argparse.Namespace) -> int:
    from blastdoor.data import service

    target = _resolve(args)
    result = service.verify(settings(args), target)
    if result.ok:
        print(f"history on {target.label} verifies: {result.sealed} rows sealed, the chain reaches all "
              f"{result.anchors_checked} heads in the ledger; {result.pending} newer rows not sealed yet")  # fmt: skip
        return 0
    print(f"blastdoor: history on {target.label} FAILS verification ({result.problem_count} problems):", file=sys.stderr)
    for problem in result.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1
