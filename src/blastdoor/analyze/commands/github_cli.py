"""GitHub's CLI beyond its subcommand table: ``gh api`` judged as the HTTP request it sends,
repository visibility changes (exposure cannot be taken back), pull requests and issues (proposals,
nothing merged), secret and variable deletion, and secret files uploaded as gists."""

from __future__ import annotations

import re

from blastdoor.analyze import paths
from blastdoor.analyze.commands.forge_api import api_url, read_call
from blastdoor.analyze.commands.platform_tasks import Line
from blastdoor.analyze.http import analyze_request
from blastdoor.analyze.invocation import Analysis, Invocation, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

__all__ = ["gh"]


def gh(inv: Invocation, ctx: Analysis, line: Line) -> list[Effect] | None:
    repo = line.values.get("-R") or line.values.get("--repo") or next(iter(line.ops[2:3]), "(current)")
    if line.ops[:1] == ["api"]:
        texts = [w.text for w in inv.args]
        call = read_call(inv.args[texts.index("api") + 1 :])
        if call.endpoint:
            url = api_url(call, "gh")
            return analyze_request(call.method, url, None, call.body, evidence=inv.evidence)
    if line.ops[:2] == ["repo", "sync"] and len(line.ops) == 2 and not line.values.keys() & {"-R", "--repo"}:
        # no destination repository: the local clone is brought up to date from its remote
        return [effect(inv, Verb.EXECUTE, Target("git-repo", "."), "gh repo sync: update the "
                       "local repository from its remote", scope=Scope.LOCAL)]  # fmt: skip
    if line.ops[:2] == ["repo", "edit"] and "--visibility" in line.values:
        return [
            effect(
                inv,
                Verb.MODIFY,
                Target("github-repo", repo),
                f"make the repository {line.values['--visibility']} "
                "(stars, forks and exposure cannot be taken back)",
                reversibility=Reversibility.IRREVERSIBLE,
                tags=line.tags,
            )
        ]
    proposal = {"create", "new", "comment", "edit", "review", "ready", "reopen"}
    if line.ops[:1] in (["pr"], ["issue"]) and set(re.split(r"[^a-z]+", " ".join(line.ops[1:2]))) & proposal:
        return [
            effect(
                inv,
                Verb.CREATE,
                Target("github-repo", repo),
                f"gh {line.ops[0]} {line.ops[1]}: propose or discuss a change (nothing is merged)",
                scope=Scope.DEVELOPMENT,
                tags=line.tags,
            )
        ]
    if line.ops[:2] in (["secret", "delete"], ["variable", "delete"], ["secret", "remove"]):
        return [
            effect(
                inv,
                Verb.DELETE,
                Target("github-repo", repo),
                f"delete the {line.ops[0]} {' '.join(line.ops[2:3])}",
                reversibility=Reversibility.IRREVERSIBLE,
                tags=line.tags,
            )
        ]
    if line.ops[:2] == ["gist", "create"]:
        secret = [f for f in line.ops[2:] if paths.is_secret_path(f)]
        if secret:
            return [
                effect(
                    inv,
                    Verb.EXFILTRATE,
                    Target("secret-file", secret[0]),
                    f"upload {secret[0]} to a gist",
                    scope=Scope.LOCAL,
                    tags={"secret"},
                )
            ]
    return None
