"""Effects on cloud, cluster and SaaS resources: what :mod:`blastdoor.scope` must know about them.

A cloud, Kubernetes, platform or SaaS CLI names the *object* it acts on (a bucket, a namespace, a
config, an app); the environment is the account, profile, project or context it runs against.
:func:`resources` wraps such a family so every effect it leaves for scope resolution carries the
:data:`~blastdoor.scope.RESOURCE` tag, and the resolver then lets the object's name raise the scope
(``prod-logs``) but not lower a deletion's (``test``). Machines, URLs, database servers, packages and
the programs a CLI runs are located by their own names and are left untagged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.invocation import Analysis, Family, Invocation
from blastdoor.model import Effect, Scope
from blastdoor.scope import RESOURCE

_LOCATED = frozenset(
    {
        "host",
        "url",
        "http-resource",
        "database",
        "database-server",
        "program",
        "package",
        "package-registry",
    }
)


def resources(analyze: Family) -> Family:
    """``analyze`` with the :data:`RESOURCE` tag on every effect whose scope is left open."""

    def tagged(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
        for found in analyze(inv, ctx):
            if found.scope is Scope.UNKNOWN and found.target.kind not in _LOCATED:
                found = replace(found, tags=found.tags | {RESOURCE})
            yield found

    return tagged


def resource_families(*families: CommandFamily) -> tuple[CommandFamily, ...]:
    """``families`` with their analyzers wrapped by :func:`resources`."""
    return tuple(CommandFamily(names=f.names, analyze=resources(f.analyze)) for f in families)
