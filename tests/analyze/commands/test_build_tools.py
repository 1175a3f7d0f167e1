"""Maven and Gradle: building is local work, uploading a release is publishing."""

from __future__ import annotations

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("mvn clean install", "allow"),
        ("mvn -q test", "allow"),
        ("./gradlew build", "allow"),
        ("./gradlew publishToMavenLocal", "allow"),  # ~/.m2 on this machine
        ("gradle publish --dry-run", "allow"),
        ("mvn clean deploy", "hold"),
        ("mvn -P release deploy", "hold"),
        ("./mvnw release:perform", "hold"),
        ("gradle publish", "hold"),
        ("./gradlew :lib:publishAllPublicationsToSonatypeRepository", "hold"),
    ],
)
def test_build_tool_decisions(command: str, expected: str) -> None:
    decision = decide(command)
    assert decision.kind.value == expected
    if expected == "hold":
        assert decision.rule_ids == ("code.publish",)
