"""The broker in hardened mode: the daemon holds the profiles and runs brokered calls itself.

An agent's user asks over the socket, and the daemon runs the very command a single-user install
would run (``blastdoor sql``, ``blastdoor profile ...``), as its own user, on its own home, in a
process of its own. The credential never leaves the daemon's user; the caller gets the exit code,
the scrubbed output and the messages. The daemon builds that command from the call's fields, never
from an argument list the caller sent, and records the caller's uid (from the socket) in the
decision. These calls run on a thread of their own, so a long statement never holds up hooks.

Who may ask:

- ``sql``, ``profile-list`` and ``profile-show``: any user. That is what the broker is for: the
  agent acts through it, and the judgement, the approvals and the profile's purpose decide.
- ``profile-add``, ``profile-remove``, ``restore`` and ``backup-verify``: root and members of the
  approvers group, because they are a person's decisions. Anyone else is refused, and the refusal is
  recorded.
- ``exec``: any user, like ``sql``. The judging, the grant check and the recording happen in the
  daemon's child as for ``sql``, but the program itself never runs as the daemon's user: it has
  inputs the agent controls (a Terraform provider, a script), so the runner starts it under a
  user of its own that cannot read the home (hardened/runner.py).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from blastdoor.broker.interrupts import EXIT_INTERRUPTED, Relay
from blastdoor.errors import BlastdoorError
from blastdoor.hardened.client import BROKERED_SECONDS
from blastdoor.integrations.daemon import Peer
from blastdoor.integrations.hook_client import EXIT, STDERR, STDOUT
from blastdoor.integrations.service import Runtime

_CALLER = (("agent", "--agent"), ("session", "--session"), ("run", "--run"), ("tool_use", "--tool-use"))


@dataclass(frozen=True)
class Deferred:
    """A brokered call to run off the daemon's main thread: ``blastdoor ARGV`` on its home. It
    holds one of the daemon's call slots from :func:`prepare` until :meth:`stream` ends (or
    :meth:`release`, when it never runs)."""

    argv: list[str]
    uid: int
    stdin: str = ""
    env: dict[str, str] = field(default_factory=dict)
    interruptible: bool = False  # the caller's Ctrl-C reaches the call (exec), else it runs to its end

    def stream(self, home: str, emit: Emit, interrupts: Relay | None = None) -> None:
        """Run the call, passing on what it prints as it prints it (``emit(STDOUT | STDERR,
        chunk)``: the program's output is already scrubbed by the call), then ``emit(EXIT,
        code)``. A caller that went away stops nothing: the call runs to its end and records it.
        When interruptible, the first two of ``interrupts`` reach the call as SIGINT, which it
        passes on to its program (SIGINT, then SIGKILL) and records (broker/interrupts.py); more
        change nothing. One noted before the call starts keeps it from starting: nothing was judged
        or run, so nothing is recorded."""
        interrupts = interrupts if interrupts is not None and self.interruptible else Relay()
        if interrupts.count:
            emit(STDERR, b"blastdoor: interrupted before the call started\n")
            emit(EXIT, str(EXIT_INTERRUPTED).encode())
            self.release()
            return
        # -I: nothing in the environment or a folder can stand in for Blastdoor's own modules
        command = [sys.executable, "-I", "-m", "blastdoor", "--home", home, *self.argv]
        try:
            child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, **self.env}, cwd=home)  # fmt: skip
        except OSError as error:
            emit(STDERR, f"blastdoor: the daemon could not start the call: {error}\n".encode())
            emit(EXIT, b"1")
            self.release()
            return
        try:
            pumps = [threading.Thread(target=_pump, args=(pipe, tag, emit), daemon=True)
                     for pipe, tag in ((child.stdout, STDOUT), (child.stderr, STDERR))]  # fmt: skip
            for pump in pumps:
                pump.start()
            _feed(child, self.stdin.encode("utf-8", "replace"))
            try:
                with interrupts.passing_to(functools.partial(_interrupt, child)):
                    code = child.wait(timeout=BROKERED_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                code = child.wait()
                emit(STDERR, f"blastdoor: the call ran longer than {BROKERED_SECONDS} s and was stopped\n".encode())
            for pump in pumps:
                pump.join()
            emit(EXIT, str(128 - code if code < 0 else code).encode())
        finally:
            self.release()

    def release(self) -> None:
        _free(self.uid)


Emit = Callable[[bytes, bytes], None]
CHUNK = 64 * 1024


def _interrupt(child: subprocess.Popen[bytes], number: int) -> None:
    """Interrupt ``number`` to the call, which counts them (SIGINT to its program, then SIGKILL):
    the first as SIGINT, the second as SIGTERM (two SIGINTs close together would reach it as one),
    no more."""
    if number <= 2:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGINT if number == 1 else signal.SIGTERM)


def _pump(pipe: IO[bytes] | None, tag: bytes, emit: Emit) -> None:
    assert pipe is not None
    with pipe:
        while chunk := pipe.read1(CHUNK):  # type: ignore[attr-defined]
            emit(tag, chunk)


def _feed(child: subprocess.Popen[bytes], data: bytes) -> None:
    assert child.stdin is not None
    with contextlib.suppress(BrokenPipeError), child.stdin:
        child.stdin.write(data)


MAX_CALLS, MAX_CALLS_PER_USER = 8, 2  # brokered calls running at once, in all and per user
_BUSY: Counter[int] = Counter()
_BUSY_LOCK = threading.Lock()


def _take_slot(uid: int) -> None:
    with _BUSY_LOCK:
        if sum(_BUSY.values()) >= MAX_CALLS or _BUSY[uid] >= MAX_CALLS_PER_USER:
            raise BlastdoorError(f"the daemon is already running {_BUSY[uid]} brokered calls for this user "
                                 f"({sum(_BUSY.values())} in all)", hint="wait for one to finish and try again")  # fmt: skip
        _BUSY[uid] += 1


def _free(uid: int) -> None:
    with _BUSY_LOCK:
        _BUSY[uid] -= 1


def _text(call: Mapping[str, Any], name: str, *, limit: int = 500) -> str:
    value = call.get(name, "")
    if not isinstance(value, str) or len(value) > limit or "\0" in value:
        raise BlastdoorError(f"the call's {name} is not text of at most {limit} characters")
    return value


def _texts(call: Mapping[str, Any], name: str, *, limit: int = 500, count: int = 100) -> list[str]:
    values = call.get(name, [])
    if not isinstance(values, list) or len(values) > count:
        raise BlastdoorError(f"the call's {name} is not a list of at most {count} words")
    return [_text({name: value}, name, limit=limit) for value in values]


def _name(call: Mapping[str, Any], key: str) -> str:
    """A profile or snapshot name, which the command takes as a positional argument."""
    from blastdoor.broker.profile import NAME

    value = _text(call, key, limit=64)
    if not NAME.match(value):
        raise BlastdoorError(f"{value[:64]!r} is not a profile or snapshot name")
    return value


def _caller(call: Mapping[str, Any]) -> list[str]:
    """The flags that name the agent's call (agent, session, run, tool use) for the decision."""
    return [f"{flag}={value}" for key, flag in _CALLER if (value := _text(call, key))]


def _sql(call: Mapping[str, Any], peer: Peer) -> Deferred:
    return Deferred(["sql", f"--profile={_text(call, 'profile', limit=64)}", *_caller(call), f"--uid={peer.uid}", "--", "-"],
                    peer.uid, stdin=_text(call, "sql", limit=900_000))  # the SQL on stdin: no argv limit, not in ps


def _profile_list(call: Mapping[str, Any], peer: Peer) -> Deferred:
    return Deferred(["profile", "list", *(["--json"] if call.get("json") else [])], peer.uid)


def _profile_show(call: Mapping[str, Any], peer: Peer) -> Deferred:
    return Deferred(["profile", "show", _name(call, "name")], peer.uid)


def _profile_add(call: Mapping[str, Any], peer: Peer) -> Deferred:
    import pwd

    argv = ["profile", "add", _name(call, "name"), f"--scope={_text(call, 'scope', limit=20)}",
            f"--purpose={_text(call, 'purpose')}"]  # fmt: skip
    for key, flag in (("allow", "--allow"), ("secret", "--secret"), ("backup_proof", "--backup-proof")):
        argv += [f"{flag}={value}" for value in _texts(call, key)]
    for key, flag in (("dumps", "--dumps"), ("aws_role", "--aws-role"), ("aws_minutes", "--aws-minutes")):
        if value := _text(call, key):
            argv.append(f"{flag}={value}")
    argv += ["--replace"] if call.get("replace") else []
    values = call.get("values")
    names = _texts(call, "secret")
    if not isinstance(values, dict) or sorted(values) != sorted(names):
        raise BlastdoorError("the call's values do not match its --secret names")
    try:
        person = pwd.getpwuid(peer.uid).pw_name
    except KeyError:
        person = f"uid {peer.uid}"
    # the values go in whole (multi-line ones included) as JSON on stdin, never as environment
    # variables, whose names the loader and the interpreter would act on (LD_PRELOAD)
    given = {n: _text(values, n, limit=65_536) for n in names}
    return Deferred([*argv, "--values-json"], peer.uid, stdin=json.dumps(given), env={"USER": person})


def _profile_remove(call: Mapping[str, Any], peer: Peer) -> Deferred:
    return Deferred(["profile", "remove", _name(call, "name")], peer.uid)


def _restore(call: Mapping[str, Any], peer: Peer) -> Deferred:
    return Deferred(["restore", _name(call, "snapshot"), *(["--force"] if call.get("force") else [])], peer.uid)


def _backup_verify(call: Mapping[str, Any], peer: Peer) -> Deferred:
    argv = ["backup", "verify", f"--profile={_text(call, 'profile', limit=64)}"]
    for key, flag in (("dump", "--dump"), ("scratch_profile", "--scratch-profile"), ("tolerance", "--tolerance"),
                      ("aws_profile", "--aws-profile")):  # fmt: skip
        if value := _text(call, key, limit=4096):
            argv.append(f"{flag}={value}")
    return Deferred(argv, peer.uid)


def _exec(call: Mapping[str, Any], peer: Peer, runner: str) -> Deferred:
    if not runner:
        raise BlastdoorError(
            "this daemon has no runner to start programs with",
            hint="run blastdoor install --system again",
        )
    argv = _texts(call, "argv", limit=65_536, count=1000)
    cwd = _text(call, "cwd", limit=4096)
    if not argv or not cwd.startswith("/"):
        raise BlastdoorError("the call names no program or no absolute folder")
    return Deferred(["exec", f"--profile={_text(call, 'profile', limit=64)}", *_caller(call), f"--uid={peer.uid}",
                     f"--cwd={cwd}", f"--runner={runner}", "--", *argv], peer.uid, interruptible=True)  # fmt: skip


_OPEN = {"sql": _sql, "profile-list": _profile_list, "profile-show": _profile_show}
_PERSONS = {"profile-add": (_profile_add, "add profiles"), "profile-remove": (_profile_remove, "remove profiles"),
            "restore": (_restore, "restore snapshots"), "backup-verify": (_backup_verify, "verify backups")}  # fmt: skip
OPS = {*_OPEN, *_PERSONS, "exec"}


def prepare(
    op: str, call: Mapping[str, Any], peer: Peer, runtime: Runtime, *, runner: str = ""
) -> Deferred:
    """Check who asks and build the call (on the daemon's main thread); raises when refused."""
    if op in _PERSONS:
        build, what = _PERSONS[op]
        from blastdoor.hardened.ops import require_person

        require_person(peer, runtime, what, "a person in that group does it")
    elif op == "exec":
        build = functools.partial(_exec, runner=runner)
    else:
        build = _OPEN[op]
    _take_slot(peer.uid)
    try:
        return build(call, peer)
    except BaseException:
        _free(peer.uid)
        raise
