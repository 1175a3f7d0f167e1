"""The judgement core: an Action in, a Decision out (analyze → scope → policy)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from blastdoor.analyze.invocation import Invocation, unknown
from blastdoor.analyze.shell import FileReader, ShellWalker
from blastdoor.credentials import Credential
from blastdoor.credentials import check as check_purposes
from blastdoor.model import Action, ActionKind, Decision, Effect
from blastdoor.policy.engine import Policy
from blastdoor.scope import resolve

MAX_SCRIPT_BYTES = 1_000_000


def disk_reader(cwd: str | None) -> FileReader:
    """Reads text files relative to ``cwd`` (package.json, Makefile, scripts); None when absent."""
    return _DiskReader(cwd)


class _DiskReader:
    """Text files relative to a working directory: whole ones up to ``MAX_SCRIPT_BYTES``, and the
    start of any (:class:`~blastdoor.analyze.redirects.HeadReader`). Binary files are None."""

    def __init__(self, cwd: str | None) -> None:
        self._cwd = cwd

    def __call__(self, path: str) -> str | None:
        return self._read(path, None)

    def head(self, path: str, size: int) -> str | None:
        return self._read(path, size)

    def _read(self, path: str, size: int | None) -> str | None:
        if self._cwd is None and not os.path.isabs(path):
            return None
        full = Path(self._cwd or "/", os.path.expanduser(path))
        try:
            info = full.stat()  # once, before opening: a FIFO would block the open
            if not stat.S_ISREG(info.st_mode):
                return None
            if size is None:
                if info.st_size > MAX_SCRIPT_BYTES:
                    return None
                data = full.read_bytes()
            else:
                with full.open("rb") as handle:
                    data = handle.read(size)
        except (OSError, ValueError):  # ValueError: a NUL in the path
            return None
        if b"\0" in data[:4096]:
            return None
        return data.decode("utf-8", "replace")


def analyze(
    action: Action, *, files: FileReader | None = None, stateful: tuple[str, ...] = ()
) -> tuple[list[Effect], Mapping[str, str]]:
    """The effects of ``action`` and the variables known once it was read (for scope).
    ``stateful`` names Terraform resources that hold data beyond the built-in list."""
    context = action.context
    reader = files or disk_reader(context.cwd)
    if action.kind is ActionKind.SHELL:
        walker = ShellWalker(cwd=context.cwd, env=context.env, files=reader)
        walker.walk_script(action.input)
        return walker.effects, walker.variables
    if action.kind is ActionKind.SQL:
        from blastdoor.analyze.sql import analyze_sql

        return analyze_sql(
            action.input, target=context.target, dialect=context.dialect
        ), context.env
    if action.kind is ActionKind.TERRAFORM_PLAN:
        return _plan(action, stateful), context.env
    if action.kind is ActionKind.HTTP:
        return _http(action), context.env
    if action.kind is ActionKind.FILE_WRITE:
        from blastdoor.analyze.files import Place, analyze_file_write

        edit = any(word in context.tool.lower() for word in ("edit", "replace", "patch"))
        place = Place(cwd=context.cwd, env=context.env)
        return analyze_file_write(
            action.input, tool=context.tool, place=place, edit=edit
        ), context.env
    if action.kind is ActionKind.MCP_CALL:
        return _mcp(action, reader), context.env
    placeholder = Invocation(words=(), text=action.input[:200])
    return [
        unknown(placeholder, f"Blastdoor does not analyze {action.kind.value} actions yet")
    ], context.env


def _plan(action: Action, stateful: tuple[str, ...]) -> list[Effect]:
    """A Terraform plan: its JSON, or a path to a plan JSON or saved plan file."""
    from blastdoor.analyze.plan_files import plan_text
    from blastdoor.analyze.terraform_plan import PlanError, analyze_plan

    try:
        text = plan_text(action.input, cwd=action.context.cwd)
    except PlanError as error:
        return [unknown(Invocation(words=(), text=action.input[:200]), f"apply a plan Blastdoor could not read: {error}",
                        tags={"terraform", "plan"})]  # fmt: skip
    shown = action.input.strip() if not action.input.lstrip().startswith("{") else ""
    return analyze_plan(text, target=action.context.target, evidence=f"terraform plan {shown[:200]}".strip(), stateful=stateful)


def _http(action: Action) -> list[Effect]:
    """An HTTP call given as ``{"method", "url", "headers", "body"}``."""
    import json

    from blastdoor.analyze.http import analyze_request

    try:
        call = json.loads(action.input)
    except (json.JSONDecodeError, RecursionError):
        call = None
    if not isinstance(call, dict) or not isinstance(call.get("url"), str):
        return [unknown(Invocation(words=(), text=action.input[:200]), 'an HTTP call must be {"method", "url", "headers", "body"}')]
    headers = call.get("headers")
    headers = headers if isinstance(headers, dict) else {}
    body = call.get("body")
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    return analyze_request(str(call.get("method") or "GET"), call["url"], {str(k): str(v) for k, v in headers.items()}, text)


def _mcp(action: Action, reader: FileReader) -> list[Effect]:
    from blastdoor.analyze.mcp import analyze_mcp_call
    from blastdoor.analyze.sql import analyze_sql

    context = action.context

    def shell(text: str) -> list[Effect]:
        return analyze(Action(kind=ActionKind.SHELL, input=text, context=context), files=reader)[0]

    def sql(text: str, target: str) -> list[Effect]:
        return analyze_sql(text, target=target, dialect=context.dialect)

    return analyze_mcp_call(
        action.input, tool=context.tool, server=context.target, shell=shell, sql=sql
    )


def judge(action: Action, policy: Policy, *, files: FileReader | None = None,
          credentials: tuple[Credential, ...] = (),
          enrich: Callable[[list[Effect]], list[Effect]] | None = None,
          place: Callable[[Effect], Effect] | None = None) -> Decision:  # fmt: skip
    """The policy's decision, narrowed by the purposes of the ``credentials`` the action uses.
    ``enrich`` may add what the action's text cannot say (rows a statement would touch);
    ``place`` may move a scoped effect to where it really lands (the broker: where its credential
    reaches)."""
    effects, variables = analyze(action, files=files, stateful=policy.stateful_resources)
    if enrich is not None:
        effects = enrich(effects)
    scoped = [resolve(found, env=variables, config=policy.scope) for found in effects]
    if place is not None:
        scoped = [place(found) for found in scoped]
    return check_purposes(action, policy.decide(scoped), credentials)
