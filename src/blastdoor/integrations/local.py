"""Deciding one hook call in process, when the resident daemon is not running."""

from __future__ import annotations

from collections.abc import Mapping

from blastdoor.config import Settings
from blastdoor.errors import BlastdoorError
from blastdoor.home import ensure_home
from blastdoor.integrations.adapter import Reply
from blastdoor.integrations.service import Runtime, handle


def decide_once(*, home: str, agent: str, raw: bytes, cwd: str, env: Mapping[str, str]) -> Reply:
    """The reply for one call, as the daemon would give it."""
    try:
        settings = Settings.resolve(env=env, home=home)
        ensure_home(settings)
    except BlastdoorError as error:
        return Reply("", 1, f"blastdoor: {error.diagnostics()}\n")
    runtime = Runtime(settings)
    try:
        return handle(agent, raw, env=env, cwd=cwd, runtime=runtime)
    finally:
        runtime.close()
