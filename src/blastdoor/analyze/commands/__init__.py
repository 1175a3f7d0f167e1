"""Command families: one module per tool family, each turning an argv into effects.

Every module here exposes ``FAMILIES``, a tuple of :class:`CommandFamily`. Built-in families are
registered exactly as a plugin's would be: by listing the module in :data:`BUILTIN_MODULES`. When
two modules claim a program name, the one listed first wins. Every listed module must import.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from blastdoor.analyze.invocation import Family

BUILTIN_MODULES = (
    "blastdoor.analyze.commands.wrappers",
    "blastdoor.analyze.commands.shells",
    "blastdoor.analyze.commands.interpreters",
    "blastdoor.analyze.commands.indirection",
    "blastdoor.analyze.commands.filesystem",
    "blastdoor.analyze.commands.disks",
    "blastdoor.analyze.commands.volumes",
    "blastdoor.analyze.commands.git",
    "blastdoor.analyze.commands.process",
    "blastdoor.analyze.commands.network",
    "blastdoor.analyze.commands.dns",
    "blastdoor.analyze.commands.persistence",
    "blastdoor.analyze.commands.secrets",
    "blastdoor.analyze.commands.transfers",
    "blastdoor.analyze.commands.ssh_keys",
    "blastdoor.analyze.commands.infra",
    "blastdoor.analyze.commands.kube",
    "blastdoor.analyze.commands.containers",
    "blastdoor.analyze.commands.cloud",
    "blastdoor.analyze.commands.db_sql_clients",
    "blastdoor.analyze.commands.db_admin",
    "blastdoor.analyze.commands.db_stores",
    "blastdoor.analyze.commands.db_typed",
    "blastdoor.analyze.commands.backups",
    "blastdoor.analyze.commands.orm",
    "blastdoor.analyze.commands.platforms",
    "blastdoor.analyze.commands.build_tools",
    "blastdoor.analyze.commands.http_clients",
    "blastdoor.analyze.commands.guards",
    "blastdoor.analyze.commands.generic",
)


@dataclass(frozen=True)
class CommandFamily:
    """The programs a family understands (lower-case basenames) and its analyzer."""

    names: frozenset[str]
    analyze: Family

    @classmethod
    def of(cls, names: Iterable[str], analyze: Family) -> CommandFamily:
        return cls(names=frozenset(names), analyze=analyze)


@lru_cache(maxsize=1)
def registry() -> dict[str, Family]:
    table: dict[str, Family] = {}
    for module_name in BUILTIN_MODULES:
        for family in families_of(module_name):
            for name in family.names:
                table.setdefault(name, family.analyze)
    return table


def families_of(module_name: str) -> tuple[CommandFamily, ...]:
    """The families a command module registers. A built-in module that cannot be imported is an
    error, never skipped: a missing family would silently turn its commands into ordinary programs."""
    module = importlib.import_module(module_name)
    families = getattr(module, "FAMILIES", None)
    if not isinstance(families, tuple) or not all(isinstance(f, CommandFamily) for f in families):
        raise TypeError(f"{module_name}.FAMILIES must be a tuple of CommandFamily")
    return families


def lookup(name: str) -> Family | None:
    return registry().get(name)
