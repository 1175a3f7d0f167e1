"""``blastdoor ledger ...``: verify, show, export, tail, prove, consistency, check-proof, checkpoint, appender."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from blastdoor.cli.common import settings
from blastdoor.errors import InputError
from blastdoor.ledger.entry import Entry
from blastdoor.ledger.ledger import Ledger
from blastdoor.ledger.query import Filters, Reader, parse_since

EXIT_BAD = 6  # the ledger failed verification


def register(commands: Any) -> None:
    ledger = commands.add_parser("ledger", help="the tamper-evident record of every decision")
    sub = ledger.add_subparsers(dest="ledger_command", metavar="SUBCOMMAND", required=True)
    verify = sub.add_parser(
        "verify",
        help="recompute every hash, signature and witness copy (exit 6 if anything is wrong)",
    )
    verify.add_argument("--key", help="the trusted public key (default: keys/install.ed25519.pub)")
    verify.set_defaults(handler=_verify)
    for name, helptext in (
        ("show", "the timeline, for a person after an incident"),
        ("export", "entries for a SIEM"),
    ):
        parser = sub.add_parser(name, help=helptext)
        parser.add_argument("--session", default="", help="only this agent session")
        parser.add_argument("--run", default="", help="only this run")
        parser.add_argument(
            "--decision",
            default="",
            choices=["", "allow", "ask", "hold", "deny"],
            help="only this decision",
        )
        parser.add_argument(
            "--since",
            default="",
            help="from this time (ISO 8601, UTC by default) or age (30m, 2h, 7d)",
        )
        if name == "export":
            parser.add_argument(
                "--format", default="jsonl", choices=["ocsf", "otel", "jsonl"], help="output format"
            )
        parser.set_defaults(handler=_show if name == "show" else _export)
    tail = sub.add_parser("tail", help="print new entries as they are recorded (Ctrl-C stops)")
    tail.add_argument("-n", type=int, default=10, help="start with the last N entries")
    tail.add_argument("--interval", type=float, default=0.5, help=argparse.SUPPRESS)
    tail.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    tail.set_defaults(handler=_tail)
    prove = sub.add_parser(
        "prove", help="an inclusion proof for entry N (JSON, verifiable offline)"
    )
    prove.add_argument("entry", type=int)
    prove.set_defaults(handler=_prove)
    cons = sub.add_parser("consistency", help="a consistency proof between two checkpoints (JSON)")
    cons.add_argument("old", type=int)
    cons.add_argument("new", type=int)
    cons.set_defaults(handler=_consistency)
    check = sub.add_parser(
        "check-proof", help="verify a proof file offline with only the public key"
    )
    check.add_argument("file", help="the proof (- for stdin)")
    check.add_argument("--key", required=True, help="the ledger's public key (install.ed25519.pub)")
    check.set_defaults(handler=_check_proof)
    point = sub.add_parser("checkpoint", help="sign a checkpoint now and copy it to the witnesses")
    point.set_defaults(handler=_checkpoint)
    points = sub.add_parser("checkpoints", help="list the signed checkpoints")
    points.set_defaults(handler=_checkpoints)
    appender = sub.add_parser(
        "appender",
        help="append for every writer of this home, many entries per commit (the daemon runs one too)",
    )
    appender.add_argument("--idle", type=float, default=0.0, help="exit after this many seconds without an entry (0: run until stopped)")
    appender.set_defaults(handler=_appender)


@contextmanager
def _opened(args: argparse.Namespace) -> Iterator[Ledger]:
    with Ledger.open(settings(args)) as ledger:
        yield ledger


def _verify(args: argparse.Namespace) -> int:
    from blastdoor.approvals import audit
    from blastdoor.ledger.checkpoint import PublicKey
    from blastdoor.ledger.verify import verify

    with _opened(args) as ledger:
        report = verify(ledger, key=PublicKey.load(Path(args.key)) if args.key else None)
        approvals = audit.problems(audit.recorded(row.body for row in ledger.store.scan()), settings(args).approver_keys)
    for problem in [*report.problems, *approvals]:
        print(f"TAMPERED: {problem}")
    for note in report.notes:
        print(f"note: {note}")
    summary = f"{report.entries} entries, {report.checkpoints} checkpoints, {report.witnesses} witness copies"
    if report.ok and not approvals:
        print(f"OK: {summary} verified; the approvers' keys and the uses of approvals agree with it")
        return 0
    where = f"; first bad entry: {report.first_bad}" if report.first_bad else ""
    print(f"FAILED: {summary} read{where}")
    return EXIT_BAD


def _filters(args: argparse.Namespace) -> Filters:
    since = parse_since(args.since) if args.since else ""
    return Filters(session=args.session, run=args.run, decision=args.decision, since=since)


def _warn(reader: Reader) -> int:
    if not reader.rejected:
        return 0
    shown = ", ".join(map(str, reader.rejected[:10])) + (
        " ..." if len(reader.rejected) > 10 else ""
    )
    print(f"blastdoor: WARNING: {len(reader.rejected)} entries failed verification and were left out ({shown}); "
          "run `blastdoor ledger verify`", file=sys.stderr)  # fmt: skip
    return EXIT_BAD


_BROKER: dict[str, Callable[[dict[str, Any]], str]] = {
    "broker-exec": lambda p: f"exit {p.get('exit', '?')}" if p.get("result") == "exited" else f"not started: {p.get('error', '')}",
    "broker-sql": lambda p: f"{p.get('result', '')} " + ", ".join(str(s.get("status", "")) for s in p.get("statements", []) if isinstance(s, dict)),
    "snapshot": lambda p: f"{p.get('snapshot', '')} {p.get('state', '')} " + ", ".join(
        f"{x.get('target')} ({x.get('change')})" for x in p.get("parts", []) if isinstance(x, dict)),
    "restore": lambda p: f"{p.get('snapshot', '')} {p.get('result', '')}",
    "profile-added": lambda p: f"{p.get('scope', '')}, allows {', '.join(p.get('allow', []))}",
    "profile-removed": lambda p: "removed",
}  # fmt: skip


def line(entry: Entry) -> str:
    """One timeline line: id, time, who, decision, what."""
    p = entry.payload
    who = " ".join(f"{k}={p[k]}" for k in ("agent", "session", "run") if p.get(k))
    verdict = (
        p.get("decision", {}).get("decision", "") if isinstance(p.get("decision"), dict) else ""
    )
    action = p.get("action", {}) if isinstance(p.get("action"), dict) else {}
    what = str(action.get("input", p.get("type", ""))).replace("\n", " ")
    if action.get("kind") == "mcp_call":
        what = f"{action.get('target', '')}/{action.get('tool', '')} {what}"
    elif action.get("kind") == "file_write":
        what = f"{action.get('tool', '')} {what}"
    elif str(p.get("type", "")).startswith(("approval-", "approver-")):
        extra = (
            p.get("approver")
            or p.get("why")
            or p.get("reason")
            or ", ".join(p.get("approvers", []))
        )
        what = f"{p.get('request', '')} {extra}".strip()
    elif p.get("type") == "mcp-tools" and isinstance(p.get("tools"), list):
        seen = ", ".join(
            f"{t.get('tool')} {t.get('status')}" for t in p["tools"] if isinstance(t, dict)
        )
        what = f"{p.get('server', '')}: {seen}"
    elif p.get("type") in _BROKER:
        what = f"{p.get('profile', '')}: {_BROKER[str(p['type'])](p)}"
    what = what if len(what) <= 120 else what[:117] + "..."
    rules = p.get("decision", {}).get("rules", []) if verdict else []
    tail = f"  [{', '.join(rules)}]" if rules else ""
    return (
        f"#{entry.seq:<6} {entry.time[:19].replace('T', ' ')}  {verdict.upper() or p.get('type', ''):<8} {what}{tail}"
        + (f"  ({who})" if who else "")
    )


def _show(args: argparse.Namespace) -> int:
    with _opened(args) as ledger:
        reader = Reader(store=ledger.store)
        for entry in reader.entries(_filters(args)):
            print(line(entry))
    return _warn(reader)


def _export(args: argparse.Namespace) -> int:
    from blastdoor.ledger.export import write

    with _opened(args) as ledger:
        reader = Reader(store=ledger.store)
        write(reader.entries(_filters(args)), args.format, sys.stdout)
    return _warn(reader)


def _tail(args: argparse.Namespace) -> int:
    with _opened(args) as ledger:
        reader = Reader(store=ledger.store)
        start = max(1, ledger.store.size() - max(args.n, 0) + 1)
        try:
            while True:
                for entry in reader.entries(start=start):
                    print(line(entry), flush=True)
                start = reader.last + 1 if reader.last >= start else start
                _warn(reader)
                reader.rejected.clear()
                if args.once:
                    return 0
                time.sleep(args.interval)
        except KeyboardInterrupt:
            return 0


def _prove(args: argparse.Namespace) -> int:
    from blastdoor.ledger.proofs import prove

    with _opened(args) as ledger:
        print(json.dumps(prove(ledger, args.entry), indent=2, ensure_ascii=False))
    return 0


def _consistency(args: argparse.Namespace) -> int:
    from blastdoor.ledger.proofs import consistency

    with _opened(args) as ledger:
        print(json.dumps(consistency(ledger, args.old, args.new), indent=2))
    return 0


def _check_proof(args: argparse.Namespace) -> int:
    from blastdoor.ledger.checkpoint import PublicKey
    from blastdoor.ledger.proofs import check

    if args.file == "-":
        document = sys.stdin.read()
    else:
        try:
            document = Path(args.file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(
                f"cannot read {args.file}: {error}",
                hint="pass the file `blastdoor ledger prove` wrote",
            ) from None
    print(f"OK: {check(document, PublicKey.load(Path(args.key)))}")
    return 0


def _checkpoint(args: argparse.Namespace) -> int:
    with _opened(args) as ledger:
        stored = ledger.checkpoint()
        for problem in ledger.witness_problems:
            print(f"blastdoor: warning: {problem}", file=sys.stderr)
    print(f"checkpoint {stored.id}: {stored.size} entries")
    return 0


def _checkpoints(args: argparse.Namespace) -> int:
    from blastdoor.ledger.checkpoint import unverified

    with _opened(args) as ledger:
        for stored in ledger.store.checkpoints():
            print(f"{stored.id:>6}  {stored.size:>9} entries  {unverified(stored.note).time}")
    return 0


def _appender(args: argparse.Namespace) -> int:
    import signal

    from blastdoor.ledger.appender import listening
    from blastdoor.ledger.ledger import appender_socket

    resolved = settings(args)
    with listening(resolved) as appender:
        if appender is None:
            print(f"blastdoor: an appender already serves {resolved.home}", file=sys.stderr)
            return 0
        signal.signal(signal.SIGTERM, lambda _signum, _frame: appender.stop())
        signal.signal(signal.SIGINT, lambda _signum, _frame: appender.stop())
        print(f"appending for {resolved.home} on {appender_socket(resolved.home)}", flush=True)
        appender.run(idle=max(args.idle, 0.0))
    return 0
