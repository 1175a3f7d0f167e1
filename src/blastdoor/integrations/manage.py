"""``install``, ``uninstall`` and the facts ``doctor`` checks, for every agent and scope."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blastdoor.errors import ConfigError
from blastdoor.integrations import install
from blastdoor.integrations.adapter import Adapter, Reply
from blastdoor.integrations.agents import AGENTS, adapter_for

DANGEROUS = "rm -rf ~"
SAFE = "git status"
PROBE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Place:
    """Where the settings files are: the project folder, the user's home, Blastdoor's home."""

    project: Path
    home: Path
    blastdoor_home: Path
    socket: str = ""  # hardened mode's daemon socket, when this machine has one


def command_for(adapter: Adapter, place: Place) -> str:
    return install.client_command(adapter.name, place.blastdoor_home, block=adapter.failure_shell(), socket=place.socket)


def install_agent(agent: str, scope: str, place: Place) -> install.Change:
    adapter = adapter_for(agent)
    path = adapter.config_path(scope, project=place.project, home=place.home)
    command = command_for(adapter, place)
    return install.apply(path, lambda config: adapter.install(config, command, scope=scope))


def uninstall_agent(agent: str, scope: str, place: Place) -> install.Change:
    adapter = adapter_for(agent)
    path = adapter.config_path(scope, project=place.project, home=place.home)
    return install.remove(path, adapter.uninstall)


@dataclass(frozen=True)
class Installed:
    agent: str
    scope: str
    path: Path
    commands: tuple[str, ...]


def installed(place: Place) -> Iterator[Installed]:
    """Every settings file that holds a Blastdoor hook, and the commands it runs."""
    for agent in AGENTS:
        adapter = adapter_for(agent)
        for scope in install.SCOPES:
            try:
                path = adapter.config_path(scope, project=place.project, home=place.home)
                config = install.read_config(path)
            except (ConfigError, install.InstallError):
                continue
            commands = tuple(dict.fromkeys(_commands(config)))
            if commands:
                yield Installed(agent, scope, path, commands)


def _commands(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("command", "bash") and isinstance(inner, str) and install.MARKER in inner:
                yield inner
            else:
                yield from _commands(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _commands(inner)


def probe(adapter: Adapter, command: str, payload: Mapping[str, Any], *, cwd: Path,
          env: Mapping[str, str] | None = None) -> Reply:  # fmt: skip
    """Run an installed hook command the way the agent does: a shell, the JSON on stdin."""
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", command], input=json.dumps(payload).encode(), capture_output=True,
            cwd=cwd, env={**os.environ, **(env or {})}, timeout=PROBE_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return Reply("", -1, f"the hook did not answer within {PROBE_TIMEOUT:.0f} s")
    return Reply(
        done.stdout.decode("utf-8", "replace"),
        done.returncode,
        done.stderr.decode("utf-8", "replace"),
    )


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str = ""


def checks(item: Installed, place: Place) -> Iterator[Check]:
    """Prove an installed hook works: it blocks a dangerous call, passes a safe one, and blocks
    when Blastdoor is missing and when it is too slow."""
    adapter = adapter_for(item.agent)
    for command in item.commands:
        cwd = place.project
        danger = probe(adapter, command, adapter.sample(DANGEROUS, str(cwd)), cwd=cwd)
        yield Check(f"blocks `{DANGEROUS}`", adapter.blocked(danger), _said(danger))
        safe = probe(adapter, command, adapter.sample(SAFE, str(cwd)), cwd=cwd)
        yield Check(
            f"lets `{SAFE}` through", not adapter.blocked(safe) and safe.exit_code == 0, _said(safe)
        )
        words = shlex.split(command.split(" || ", 1)[0])
        missing = command.replace(shlex.quote(words[0]), shlex.quote(words[0] + "-missing"), 1)
        gone = probe(adapter, missing, adapter.sample(SAFE, str(cwd)), cwd=cwd)
        yield Check("blocks when Blastdoor is missing", adapter.blocked(gone), _said(gone))
        slow = probe(adapter, command, adapter.sample(SAFE, str(cwd)), cwd=cwd,
                     env={"BLASTDOOR_HOOK_DEADLINE": "0.000001"})  # fmt: skip
        yield Check("blocks when no answer comes in time", adapter.blocked(slow), _said(slow))


def _said(reply: Reply) -> str:
    text = (reply.stdout.strip() or reply.stderr.strip()).splitlines()
    return f"exit {reply.exit_code}" + (f": {text[0][:160]}" if text else "")


# Variables that hand an agent production authority; they belong in the broker instead.
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET", "DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN",
    "HEROKU_API_KEY", "FLY_API_TOKEN", "RAILWAY_TOKEN", "RAILWAY_API_TOKEN", "VERCEL_TOKEN",
    "NETLIFY_AUTH_TOKEN", "SUPABASE_ACCESS_TOKEN", "SUPABASE_SERVICE_ROLE_KEY", "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_API_KEY", "RENDER_API_KEY", "NEON_API_KEY", "PLANETSCALE_SERVICE_TOKEN",
    "STRIPE_SECRET_KEY", "GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "NPM_TOKEN", "PYPI_TOKEN",
    "TF_TOKEN_app_terraform_io", "PULUMI_ACCESS_TOKEN", "KUBECONFIG", "VAULT_TOKEN", "DATADOG_API_KEY",
)  # fmt: skip


def credentials_in(env: Mapping[str, str]) -> list[str]:
    """Names (never values) of production credentials sitting in ``env``."""
    from urllib.parse import urlsplit

    from blastdoor.model import Scope
    from blastdoor.scope import URL_SIGNALS, scope_of_text

    found = [name for name in CREDENTIAL_VARIABLES if env.get(name)]
    if scope_of_text(env.get("AWS_PROFILE", "")) is Scope.PRODUCTION:
        found.append("AWS_PROFILE")
    for name in URL_SIGNALS:
        value = env.get(name, "")
        if "://" in value:
            host = urlsplit(value).hostname or ""
            named = scope_of_text(host) or scope_of_text(value.rsplit("/", 1)[-1])
            if named in (None, Scope.PRODUCTION):  # production, or nothing says it is not
                found.append(f"{name} (points at {host or 'an unnamed host'})")
    return found
