"""What several commands share: resolving settings, making the home, loading the policy."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from blastdoor.config import Settings
from blastdoor.home import ensure_home
from blastdoor.model import DecisionKind
from blastdoor.policy.engine import Policy
from blastdoor.policy.freeze import is_frozen
from blastdoor.policy.loader import find_repo_policy, load

EXIT_CODES = {
    DecisionKind.ALLOW: 0,
    DecisionKind.ASK: 3,
    DecisionKind.HOLD: 4,
    DecisionKind.DENY: 5,
}


def settings(args: argparse.Namespace) -> Settings:
    """The settings for this invocation, resolved (and the home made) once per command."""
    resolved: Settings | None = getattr(args, "resolved_settings", None)
    if resolved is None:
        resolved = Settings.resolve(
            home=getattr(args, "home", None), policy=getattr(args, "policy", None)
        )
        ensure_home(resolved)
        args.resolved_settings = resolved
    return resolved


def policy_for(args: argparse.Namespace, *, cwd: str | None) -> Policy:
    """The user's policy (or --policy FILE), tightened by the repository's .blastdoor.toml."""
    resolved = settings(args)
    user: Path | None = (
        resolved.policy if resolved.policy.exists() or getattr(args, "policy", None) else None
    )
    return load(
        user=user, repo=find_repo_policy(cwd or os.getcwd()), frozen=is_frozen(resolved.freeze_file)
    )


def is_text(value: str) -> bool:
    """Whether ``value`` is real text: bytes that were not UTF-8 reach Python as lone surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
