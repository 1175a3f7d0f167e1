"""The broker's two calls, ``exec`` and ``sql``, from judgement to the outcome entry.

Each call writes, in order: the decision (source ``broker:exec`` or ``broker:sql``, with the
profile as the credential used), then for SQL that destroys data a ``snapshot`` entry, then the
outcome (``broker-exec`` / ``broker-sql``). A decision entry with no outcome after it means the
broker stopped before it knew how the call ended; an ``exec`` a Ctrl-C stopped has the outcome
``interrupted`` (with ``started: false`` when the program never started). Every string is scrubbed of the profile's
secrets before the ledger's own redaction sees it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from blastdoor.broker import engines
from blastdoor.broker.backup_verify import Proof
from blastdoor.broker.engines import Engine
from blastdoor.broker.errors import BrokerError
from blastdoor.broker.exec_run import Outcome, run_program
from blastdoor.broker.interrupts import Relay
from blastdoor.broker.judging import SNAPSHOT_RULE, Judged, judge_brokered
from blastdoor.broker.profile import Profile
from blastdoor.broker.snapshot import RESTORED, TAKEN, TAKING, Snapshots
from blastdoor.broker.snapshot_plan import Part
from blastdoor.broker.sql_run import SqlOutcome
from blastdoor.broker.vault import Vault
from blastdoor.config import Settings
from blastdoor.data.target import load_key
from blastdoor.integrations.service import Runtime
from blastdoor.ledger.entry import ENTRY_VERSION, now, person_entry
from blastdoor.model import Action, ActionKind, Context, Scope


@dataclass(frozen=True, kw_only=True)
class Caller:
    """Who asked, for the ledger (the agent may say; the broker does not rely on it)."""

    agent: str = ""
    session: str = ""
    run: str = ""
    tool_use: str = ""
    uid: int | None = None  # the OS user, when the hardened daemon asks on its behalf (socket credentials)

    def run_id(self) -> str:
        return self.run or os.environ.get("BLASTDOOR_RUN_ID", "") or f"run-{uuid.uuid4().hex[:16]}"


@dataclass(frozen=True)
class ExecResult:
    judged: Judged
    outcome: Outcome | None


@dataclass(frozen=True)
class SqlResult:
    judged: Judged
    outcome: SqlOutcome | None
    snapshot: str = ""


class Broker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime = Runtime(settings)
        self.vault = Vault.of(settings)
        self.snapshots = Snapshots(settings.snapshots)

    def close(self) -> None:
        self.runtime.close()

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def profile(self, name: str) -> Profile:
        return self.vault.get(name)

    def action(self, profile: Profile, kind: ActionKind, text: str, *, caller: Caller, cwd: str,
               dialect: str = "") -> Action:  # fmt: skip
        context = Context.create(cwd=cwd, agent=caller.agent, session_id=caller.session, run_id=caller.run_id(),
                                 tool_use_id=caller.tool_use, tool=f"blastdoor {kind.value}",
                                 target=profile.label, dialect=dialect, uid=caller.uid)  # fmt: skip
        return Action(kind=kind, input=profile.scrubber.text(text), context=context)

    def exec(self, profile: Profile, argv: Sequence[str], *, caller: Caller, cwd: str, stdout: BinaryIO,
             stderr: BinaryIO, runner: str = "", interrupts: Relay | None = None) -> ExecResult:  # fmt: skip
        """Judge, record and (when allowed) run ``argv``; ``runner`` names the hardened runners'
        sockets, one of which runs it under a user of its own (hardened/runner.py). ``interrupts`` (Ctrl-C)
        noted before the program starts keep it from starting; later ones are passed on to it.
        Either way the outcome entry says ``interrupted``."""
        import shlex

        from blastdoor.broker import plan_pin

        refused = plan_pin.refusal(argv) if profile.scope is not Scope.DEVELOPMENT else ""
        stateful = self.runtime.policy(cwd).stateful_resources
        pinned = None if refused else plan_pin.pin(argv, cwd=cwd, home=self.settings.home, stateful=stateful)
        if pinned is not None:
            argv = pinned.argv  # the copy judged is the copy that runs
        action = self.action(profile, ActionKind.SHELL, shlex.join(argv), caller=caller, cwd=cwd)
        judged = judge_brokered(action, profile, self.runtime, argv=argv, refuse=(plan_pin.RULE, refused),
                                adds=pinned.effects if pinned else ())  # fmt: skip
        interrupts = interrupts or Relay()
        interrupts.hold()  # from the decision on, an interrupt never raises: the outcome is always written
        entry = self.decision(action, judged, profile, source="broker:exec")
        if not judged.allowed:
            return ExecResult(judged, None)
        if interrupts.count:
            self.record(profile, action, {"type": "broker-exec", "result": "interrupted", "started": False},
                        request=judged.request)  # fmt: skip
            return ExecResult(judged, Outcome.not_started())
        aws: dict[str, str] = {}
        try:
            if profile.aws_role:
                environment, hidden, aws = self._role_session(profile, action, request=judged.request, entry=entry)
            else:
                environment, hidden = profile.environment(), profile.secret_values()
            outcome = run_program(argv, secrets=environment, hidden=hidden, cwd=cwd, stdout=stdout, stderr=stderr,
                                  runner=runner, files={pinned.at: pinned.path} if pinned else {}, interrupts=interrupts)  # fmt: skip
        except Exception as error:  # a runner that stopped answering once it had the program: how it ended is lost
            result = "lost" if getattr(error, "started", False) else "not-started"
            self.record(profile, action, {"type": "broker-exec", "result": result, "error": str(error)},
                        request=judged.request)  # fmt: skip
            raise
        if not outcome.started:  # an interrupt came while it waited for a runner, or just before it started
            self.record(profile, action, {"type": "broker-exec", "result": "interrupted", "started": False, "aws": aws,
                                          "runner": bool(runner)}, request=judged.request)  # fmt: skip
            return ExecResult(judged, outcome)
        self.record(profile, action, {
            "type": "broker-exec", "result": "interrupted" if outcome.interrupted else "exited", "exit": outcome.exit_code,
            "plan": pinned.digest if pinned else "",
            "aws": aws, "runner": bool(runner),
            "stdout_sha256": outcome.stdout_sha256, "stderr_sha256": outcome.stderr_sha256,
            "output_bytes": outcome.output_bytes, "ms": round(outcome.seconds * 1000),
        }, request=judged.request)  # fmt: skip
        return ExecResult(judged, outcome)

    def _role_session(self, profile: Profile, action: Action, *, request: str,
                      entry: int) -> tuple[dict[str, str], list[tuple[str, str]], dict[str, str]]:  # fmt: skip
        """The program's environment and hidden values with per-call AWS keys in place of the
        stored ones, and what the ledger keeps of that role session."""
        from blastdoor.broker import aws_sts

        context = action.context
        session = aws_sts.assume(profile, run=context.run_id, tags={
            "run": context.run_id, "session": context.session_id, "agent": context.agent,
            "request": request, "entry": str(entry)})  # fmt: skip
        return (aws_sts.program_environment(profile, session), profile.secret_values() + session.hidden,
                session.record)  # fmt: skip

    def engine(self, profile: Profile) -> Engine:
        """The engine of the database ``profile`` reaches (broker/engines/)."""
        found = engines.of(profile.dsn())
        if found is None:
            raise BrokerError(f"profile {profile.name} is not a PostgreSQL, MySQL / MariaDB or SQLite database",
                              hint=f"for other databases: blastdoor exec --profile {profile.name} -- CLIENT ...")  # fmt: skip
        return found

    def sql(self, profile: Profile, text: str, *, caller: Caller, cwd: str, out: BinaryIO) -> SqlResult:
        engine = self.engine(profile)
        saving = profile.scope is not Scope.DEVELOPMENT
        planned = engine.plan(text)
        refuse = ("Blastdoor saves what a statement destroys before it runs with this credential, and cannot here: "
                  + "; ".join(planned.problems)) if saving and planned.problems else ""  # fmt: skip
        action = self.action(profile, ActionKind.SQL, text, caller=caller, cwd=cwd, dialect=engine.name)
        judged = judge_brokered(action, profile, self.runtime, refuse=(SNAPSHOT_RULE, refuse), estimate=engine.estimate)
        entry = self.decision(action, judged, profile, source="broker:sql")
        if not judged.allowed:
            return SqlResult(judged, None)
        parts = engine.to_save(planned, judged.decision.effects)
        snapshot = self._snapshot(profile, action, engine, parts, request=judged.request) if saving and parts else ""
        context = action.context
        tags = {"blastdoor.run_id": context.run_id, "blastdoor.session_id": context.session_id,
                "blastdoor.request": judged.request, "blastdoor.entry": str(entry), "blastdoor.snapshot_id": snapshot}  # fmt: skip
        outcome = engine.run(text, tags=tags, scrubber=profile.scrubber, out=out,
                             guard_key=lambda database: load_key(self.settings, database))  # fmt: skip
        if snapshot:
            self.snapshots.write(self.snapshots.read(snapshot) | {"outcome": outcome.result})
        self.record(profile, action, {"type": "broker-sql", "result": outcome.result, "known": outcome.known,
                                      "statements": outcome.statements, "error": outcome.error,
                                      "snapshot": snapshot, "output_sha256": outcome.output_sha256},
                    request=judged.request)  # fmt: skip
        return SqlResult(judged, outcome, snapshot)

    def _snapshot(self, profile: Profile, action: Action, engine: Engine, parts: tuple[Part, ...], *, request: str) -> str:
        """Save what the statement will destroy; the snapshot id. Raises (and records) when it cannot."""
        import hashlib

        snapshot = f"s-{uuid.uuid4().hex[:12]}"
        manifest: dict[str, Any] = {"id": snapshot, "profile": profile.name, "kind": engine.name, "state": TAKING, "created": now(),
                                    "run": action.context.run_id, "request": request, "parts": [],
                                    "statement_sha256": "sha256:" + hashlib.sha256(action.input.encode()).hexdigest()}  # fmt: skip
        try:
            manifest["identity"] = engine.identity()
            self.snapshots.write(manifest)
            engine.take(self.snapshots, manifest, parts)
            manifest["state"] = TAKEN
            digest = self.snapshots.write(manifest)
        except Exception as error:
            message = _scrubbed(profile, error)
            self.record(profile, action, {"type": "snapshot", "snapshot": snapshot, "state": "failed",
                                          "error": message}, request=request)  # fmt: skip
            raise BrokerError(f"could not save what the statement destroys, so it did not run: {message}",
                              hint=profile.scrubber.text(getattr(error, "hint", "") or "fix the cause and retry") + "; the approval is used up, so ask again") from None  # fmt: skip
        saved = [{"target": p["target"], "change": p["change"], **({"rows": p["rows"]} if "rows" in p else {})}
                 for p in manifest["parts"]]  # fmt: skip
        self.record(profile, action, {"type": "snapshot", "snapshot": snapshot, "state": TAKEN, "parts": saved,
                                      "manifest_sha256": digest, "note": "saved before the statement runs; "
                                      "a broker-sql entry follows once it has run"}, request=request)  # fmt: skip
        return snapshot

    def restore(self, snapshot: str, *, force: bool = False, shown: Callable[[str], object] = lambda line: None) -> list[str]:
        """Put snapshot ``snapshot`` back; a line per part, each handed to ``shown`` as soon as that
        part is back (so a failure part-way leaves what was put back said)."""
        manifest = self.snapshots.read(snapshot)
        if manifest.get("state") == RESTORED:
            raise BrokerError(f"snapshot {snapshot} was restored already ({manifest.get('restored', '')})",
                              hint="restoring twice would put old rows back over newer ones")  # fmt: skip
        outcome = manifest.get("outcome", "")
        if manifest.get("state") != TAKEN:
            raise BrokerError(f"snapshot {snapshot} was not finished ({manifest.get('state', '?')}), so its statement never ran",
                              hint="nothing to restore")  # fmt: skip
        if outcome in ("error", "connection-lost"):
            raise BrokerError(f"the statement of snapshot {snapshot} did not commit ({outcome}); nothing of it stayed",
                              hint="nothing to restore")  # fmt: skip
        if not outcome and not force:
            raise BrokerError(f"the broker stopped before the statement of snapshot {snapshot} reported back",
                              hint=f"check whether it ran; if it did, blastdoor restore {snapshot} --force")  # fmt: skip
        profile = self.vault.get(str(manifest.get("profile", "")))
        engine = self.engine(profile)
        taken_on = manifest.get("kind") or engines.POSTGRESQL  # manifests without a kind are PostgreSQL's
        if taken_on != engine.name:
            raise BrokerError(f"snapshot {snapshot} was taken on a {taken_on} database, and profile {profile.name} now "
                              f"reaches a {engine.name} one", hint=f"restore it by hand from {self.snapshots.folder}")  # fmt: skip
        try:
            _same_database(manifest, engine, profile, listed=self.snapshots.manifest_path(snapshot))
            engine.check(self.snapshots, manifest)  # every part, before any is put back
        except Exception as error:
            message = _scrubbed(profile, error)
            self.runtime.record(profile.scrubber.value(person_entry("restore", snapshot=snapshot, result="refused", error=message)))
            raise BrokerError(f"restore of {snapshot} refused: {message}",
                              hint=getattr(error, "hint", "") or "nothing was restored; fix the cause and retry") from None  # fmt: skip
        lines: list[str] = []
        try:
            for line in engine.restore(self.snapshots, manifest):
                lines.append(profile.scrubber.text(line))
                shown(lines[-1])
        except Exception as error:
            message = _scrubbed(profile, error)
            self.runtime.record(profile.scrubber.value(person_entry("restore", snapshot=snapshot, result="failed", error=message,
                                                                    report=lines)))  # fmt: skip
            parts = len(manifest["parts"])
            back = (f"{len(lines)} of its {parts} parts were put back first, as listed above and in the ledger's restore entry"
                    if lines else "no part was put back")  # fmt: skip
            raise BrokerError(f"restore of {snapshot} failed at part {len(lines) + 1} of {parts}: {message}",
                              hint=f"{back}; fix the cause and retry (a part already back is found so and left alone, "
                              "or given the same old values again)") from None  # fmt: skip
        manifest |= {"state": RESTORED, "restored": now()}
        self.snapshots.write(manifest)
        self.runtime.record(profile.scrubber.value(person_entry("restore", snapshot=snapshot, result="done", report=lines)))
        return lines

    def verify_backup(self, profile: Profile, *, dump: str = "", scratch: Profile | None = None,
                      tolerance: float = 0.1, aws: Profile | None = None) -> tuple[Proof, int]:  # fmt: skip
        """Prove ``profile``'s newest backup is real (a dump restored and counted, from a folder or
        S3; or an RDS snapshot that outlives the instance); the proof and its ledger entry number
        (a verified proof also becomes the profile's current one). ``aws`` holds the AWS
        credentials for S3 and RDS (default ``profile`` itself)."""
        from blastdoor.broker import backup_proofs

        where = dump or profile.dumps
        if not where:
            raise BrokerError(f"profile {profile.name} does not say where its backups are",
                              hint=f"give --dump PATH|s3://BUCKET/PREFIX|rds:INSTANCE, or store it: "
                              f"blastdoor profile add {profile.name} ... --dumps WHERE --replace")  # fmt: skip
        holder = aws or profile

        def clean(value: Any) -> Any:
            return holder.scrubber.value(profile.scrubber.value(value))

        try:
            proof = self._prove(profile, where, holder, scratch=scratch, tolerance=tolerance, clean=clean)
        except BrokerError as error:
            message = clean(error.message)
            self.runtime.record(person_entry(backup_proofs.PROOF, profile=profile.name, result="error", error=message))
            raise BrokerError(message, hint=error.hint) from None
        entry = self.runtime.record(clean(person_entry(backup_proofs.PROOF, profile=profile.name, **proof.fields())))
        if proof.verified:
            backup_proofs.remember(self.settings, profile.name, entry.seq)
        return proof, entry.seq

    def _prove(self, profile: Profile, where: str, holder: Profile, *, scratch: Profile | None, tolerance: float,
               clean: Any) -> Proof:  # fmt: skip
        import dataclasses
        import tempfile

        from blastdoor.broker import backup_sources, dumps

        run = f"backup-verify-{uuid.uuid4().hex[:12]}"
        hours = self.settings.backup_max_age_hours
        kind = backup_sources.kind(where)
        if kind == "rds":
            return backup_sources.rds_proof(holder, where, run=run, max_age_hours=hours)
        engine = self.engine(profile)
        with tempfile.TemporaryDirectory(dir=self.settings.home, prefix="fetched-backup-") as folder:
            fetched = backup_sources.fetch_s3(holder, where, Path(folder), run=run, read=engine.read_dump) if kind == "s3" else None
            found = fetched.dump if fetched else dumps.newest(Path(where).expanduser(), read=engine.read_dump)
            proof = engine.verify_backup(found, scratch=self.engine(scratch) if scratch else None, tolerance=tolerance,
                                         max_age_hours=hours, clean=clean)  # fmt: skip
        if fetched is None:
            return proof
        return dataclasses.replace(proof, problems=(*fetched.problems, *proof.problems), facts=fetched.facts)

    def decision(self, action: Action, judged: Judged, profile: Profile, *, source: str) -> int:
        """Record the decision; its ledger entry number."""
        from blastdoor.ledger.record import decision_payload

        payload = decision_payload(action, judged.decision, policy_digest=judged.policy_digest, source=source,
                                   credential=profile.label, request=judged.request)  # fmt: skip
        return self.runtime.record(profile.scrubber.value(payload)).seq

    def record(self, profile: Profile, action: Action, fields: Mapping[str, Any], *, request: str = "") -> None:
        context = action.context
        payload = {"v": ENTRY_VERSION, "time": now(), "source": "broker", "profile": profile.name,
                   "scope": profile.scope.value, "agent": context.agent, "session": context.session_id,
                   "run": context.run_id, "tool_use": context.tool_use_id, "request": request, **fields}  # fmt: skip
        self.runtime.record(profile.scrubber.value({k: v for k, v in payload.items() if v not in ("", None, {})}))


def _same_database(manifest: Mapping[str, Any], engine: Engine, profile: Profile, *, listed: Path) -> None:
    """Refuse, having changed nothing, unless ``profile`` still reaches the database the snapshot
    was taken in (a profile stored again may point elsewhere: the snapshot must not overwrite that).
    ``listed`` is the manifest, which lists the saved parts for a person to put back by hand."""
    snapshot, taken_in = manifest["id"], manifest.get("identity")
    if not isinstance(taken_in, dict) or not taken_in:
        raise BrokerError(f"snapshot {snapshot} does not say which database it was taken in (it was taken before "
                          "snapshots recorded that), so Blastdoor cannot tell that the profile still reaches it",
                          hint=f"put its parts back by hand: they are listed in {listed}")  # fmt: skip
    now = engine.identity()
    if now != taken_in:
        raise BrokerError(f"snapshot {snapshot} was taken in {_described(taken_in)}, and profile {profile.name} now "
                          f"reaches {_described(now)}",
                          hint=f"point the profile back at that database, or put the parts listed in {listed} back by hand")  # fmt: skip


def _scrubbed(profile: Profile, error: Exception) -> str:
    """An error's message (a Blastdoor error's own, else the library's text) with the profile's
    secrets taken out."""
    return profile.scrubber.text(getattr(error, "message", str(error)))


def _described(identity: Mapping[str, Any]) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(identity.items()))
