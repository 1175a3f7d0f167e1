"""The command-family registry: built-ins register like plugins, and none may go missing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blastdoor.analyze import commands


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    commands.registry.cache_clear()
    yield
    commands.registry.cache_clear()


def test_a_missing_builtin_module_is_an_import_error(
    monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    missing = "blastdoor.analyze.commands.not_written_yet"
    monkeypatch.setattr(commands, "BUILTIN_MODULES", (*commands.BUILTIN_MODULES, missing))
    with pytest.raises(ImportError):
        commands.registry()


def test_a_module_without_families_is_refused(
    monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    monkeypatch.setattr(commands, "BUILTIN_MODULES", ("blastdoor.analyze.paths",))
    with pytest.raises(TypeError, match="FAMILIES"):
        commands.registry()


def test_every_builtin_module_registers_families(fresh_registry: None) -> None:
    for name in commands.BUILTIN_MODULES:
        assert commands.families_of(name), name
    table = commands.registry()
    assert {"rm", "git", "iptables", "ssh", "psql", "printenv"} <= set(table)


def test_the_first_module_to_claim_a_name_wins(fresh_registry: None) -> None:
    from blastdoor.analyze.commands import network

    assert commands.lookup("ip") is next(f.analyze for f in network.FAMILIES if "ip" in f.names)
