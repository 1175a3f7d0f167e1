"""Every public incident in the catalog is stopped by the built-in policy."""

from __future__ import annotations

import pytest

from blastdoor.incidents.catalog import builtin_scenarios
from blastdoor.incidents.replay import replay
from blastdoor.policy import load

SCENARIOS = builtin_scenarios()


def test_the_catalog_is_not_empty_and_every_scenario_cites_a_source() -> None:
    assert len(SCENARIOS) >= 10
    assert all(s.sources and s.sources[0].startswith("https://") for s in SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_incident_is_stopped(scenario: object) -> None:
    outcome = replay(scenario, load())  # type: ignore[arg-type]
    assert outcome.stopped, [(cmd, d.kind.value, d.reasons) for cmd, d in outcome.decisions]
