"""Terraform through the broker: saved plans only, and only the very plan that was judged.

With a credential that reaches beyond development, ``terraform apply`` without a plan file and
``terraform destroy`` are refused: what they change is worked out at run time, after any approval,
from whatever the state and configuration say then (DataTalks.Club's agent ran ``terraform destroy``
against a state file it had just swapped in). The way through is the reviewed one: ``terraform plan
-out=tfplan`` (``plan -destroy -out=tfplan`` to tear down), then ``blastdoor exec --profile P --
terraform apply tfplan``.

Applying a saved plan *pins* it: the broker copies the file into its home under its own digest
(``HOME/plans/<sha256>.tfplan``), reads what the copy would do (``terraform show -json``, each
resource judged as :mod:`blastdoor.analyze.terraform_plan` judges it), and runs ``apply`` on the
copy. The approval request names the copy, so its digest is the plan's; a plan re-made or swapped
after the approval is another file, another digest, another approval, and a swap between judging
and running changes nothing, because the copy is what runs. In hardened mode the runner's user
cannot read the home: the copy is handed to the runner as an open descriptor, and the runner gives
the program a private copy of it (hardened/runner.py), so no copy is ever readable by other users.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from blastdoor.analyze.commands.infra import tf_operands
from blastdoor.analyze.invocation import Invocation, unknown
from blastdoor.broker.errors import BrokerError
from blastdoor.files import sha256_of, write_atomic
from blastdoor.model import Effect

PROGRAMS = frozenset({"terraform", "tofu"})
RULE = "broker.plan-required"
MAX_PLAN_BYTES = 256 * 1024 * 1024
_ZIP = b"PK\x03\x04"


@dataclass(frozen=True)
class Call:
    """A Terraform command line, read as Terraform reads it."""

    command: str
    chdir: str
    rest: tuple[str, ...]  # the words after the command
    at: int  # where ``rest`` starts in argv

    @property
    def operands(self) -> list[int]:
        """Positions (in argv) of the words that are not flags or a flag's value."""
        return [self.at + i for i in tf_operands(self.rest)]

    @property
    def flags(self) -> set[str]:
        return {word.lstrip("-").split("=", 1)[0] for word in self.rest if word.startswith("-")}


@dataclass(frozen=True)
class Pinned:
    argv: tuple[str, ...]  # what runs: the plan operand replaced by the pinned copy
    at: int  # the plan operand's position in argv
    original: str  # the plan file as the caller named it
    path: Path  # the pinned copy
    digest: str
    effects: tuple[Effect, ...]  # what applying it would do


def terraform_call(argv: Sequence[str]) -> Call | None:
    """``argv`` read as a terraform or tofu command (None when it is neither)."""
    if not argv or os.path.basename(argv[0]) not in PROGRAMS:
        return None
    chdir, i = "", 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i].startswith("-chdir="):
            chdir = argv[i].split("=", 1)[1]
        i += 1
    if i >= len(argv):
        return None
    return Call(command=argv[i], chdir=chdir, rest=tuple(argv[i + 1:]), at=i + 1)


def refusal(argv: Sequence[str]) -> str:
    """Why ``argv`` may not run with a credential that reaches beyond development ('' when it may)."""
    call = terraform_call(argv)
    if call is None or call.command not in ("apply", "destroy"):
        return ""
    program = os.path.basename(argv[0])
    how = (f"make a saved plan ({program} plan -out=tfplan, or {program} plan -destroy -out=tfplan to tear down) and "
           f"apply that file: blastdoor exec --profile ... -- {program} apply tfplan")  # fmt: skip
    if call.command == "destroy" or "destroy" in call.flags:
        return f"{program} {call.command} works out what to destroy when it runs, after any approval; {how}"
    if not call.operands:
        return f"{program} apply without a plan file changes what nobody reviewed; {how}"
    return ""


def pin(argv: Sequence[str], *, cwd: str, home: Path, stateful: Sequence[str] = ()) -> Pinned | None:
    """Copy the saved plan ``argv`` applies into ``home`` and read what it does (None when ``argv``
    applies no saved plan); ``stateful`` as for :func:`~blastdoor.analyze.terraform_plan.analyze_plan`."""
    call = terraform_call(argv)
    if call is None or call.command != "apply" or not call.operands:
        return None
    position = call.operands[0]
    original = argv[position]
    workdir = os.path.join(cwd, call.chdir) if call.chdir else cwd
    data = _read(Path(workdir, original))
    digest = hashlib.sha256(data).hexdigest()
    folder = home / "plans"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{digest}.tfplan"
    if not path.exists() or sha256_of([path])[0] != "sha256:" + digest:  # a stored copy changed since: replace it
        write_atomic(path, data, mode=0o600, sync=True)
    runs = (*argv[:position], str(path), *argv[position + 1:])
    return Pinned(argv=runs, at=position, original=original, path=path, digest="sha256:" + digest,
                  effects=tuple(_effects(path, workdir, original, stateful)))  # fmt: skip


def _read(path: Path) -> bytes:
    shown = str(path)[-200:]
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PLAN_BYTES + 1)
    except IsADirectoryError:
        raise BrokerError(f"the plan {shown} is a folder", hint="name the file terraform plan -out wrote") from None
    except OSError as error:
        raise BrokerError(f"cannot read the plan {shown}: {error.strerror or error}",
                          hint="make it with terraform plan -out=FILE in this folder") from None  # fmt: skip
    if len(data) > MAX_PLAN_BYTES:
        raise BrokerError(f"the plan {shown} is larger than {MAX_PLAN_BYTES:,} bytes", hint="this is not a saved plan")
    if not data.startswith(_ZIP):
        raise BrokerError(f"{shown} is not a saved plan file (terraform plan -out writes one)",
                          hint="apply the file terraform plan -out=FILE wrote")  # fmt: skip
    return data


def _effects(path: Path, workdir: str, original: str, stateful: Sequence[str]) -> list[Effect]:
    from blastdoor.analyze.plan_files import convert
    from blastdoor.analyze.terraform_plan import PlanError, analyze_plan

    evidence = f"terraform plan {original[:200]}"
    try:
        return analyze_plan(convert(path, cwd=workdir), evidence=evidence, stateful=stateful)
    except PlanError as error:
        placeholder = Invocation(words=(), text=evidence)
        return [unknown(placeholder, f"apply a plan Blastdoor could not read: {error}", tags={"terraform", "plan"})]

