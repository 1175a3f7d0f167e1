"""dump: the archive it writes and /etc/dumpdates are its effects; reading the source is not."""

from __future__ import annotations

import pytest

from blastdoor.judge import judge
from blastdoor.model import Action, Decision
from blastdoor.policy import load


def judged(command: str) -> Decision:
    return judge(Action.shell(command, cwd="/work/app"), load(), files=lambda _p: None)


@pytest.mark.parametrize(
    ("command", "written"),
    [
        ("dump -0f /srv/home.dump /dev/vdb1", ["/srv/home.dump"]),
        ("dump -1uf /var/backups/root.dump /", ["/var/backups/root.dump", "/etc/dumpdates"]),
        ("dump -0u -f /mnt/tape/home.dump /home", ["/mnt/tape/home.dump", "/etc/dumpdates"]),
        ("dump -0 -b 64 -f/srv/x.dump /home", ["/srv/x.dump"]),
    ],
)
def test_writes_outside_the_workspace_ask(command: str, written: list[str]) -> None:
    decision = judged(command)
    assert decision.kind.value == "ask"
    assert [e.target.name for e in decision.effects] == written


@pytest.mark.parametrize(
    "command", ["dump -0f home.dump /home", "dump -0f - /home | gzip > home.dump.gz", "dump -W"]
)
def test_archives_in_the_workspace_or_on_stdout_pass(command: str) -> None:
    assert judged(command).kind.value == "allow"
