"""Jenkins' client, run as ``java -jar jenkins-cli.jar``: deletes hold, changes ask, reads pass."""

from __future__ import annotations

import pytest

from tests.conftest import decide

SERVER = "-s https://jenkins.example.com/"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (f"java -jar jenkins-cli.jar {SERVER} delete-job nightly", "hold"),
        (
            f"java -jar /opt/ci/jenkins-cli.jar {SERVER} -auth me:token delete-builds nightly 1-9",
            "hold",
        ),
        (f"java -Xmx256m -jar jenkins-cli.jar {SERVER} delete-node agent-3", "hold"),
        (f"jenkins-cli {SERVER} delete-credentials system::system::_ deploy-key", "hold"),
        (f"java -jar jenkins-cli.jar {SERVER} build nightly", "ask"),
        (f"java -jar jenkins-cli.jar {SERVER} list-jobs", "allow"),
        (f"java -jar jenkins-cli.jar {SERVER} get-job nightly", "allow"),
        ("java -jar jenkins-cli.jar -s https://ci.prod.example.com/ safe-restart", "hold"),
        ("java -jar jenkins-cli.jar -s https://jenkins.staging.example.com/ delete-job x", "ask"),
        ("java -jar app.jar delete-job", "allow"),  # another program
        ("java -version", "allow"),
    ],
)
def test_jenkins_cli(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected
