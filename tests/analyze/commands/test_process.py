"""Processes, services and the machine: whole-machine effects are stopped, one process is not."""

from __future__ import annotations

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("kill 4242", "allow"),
        ("kill -9 4242", "allow"),
        ("kill -0 4242", "allow"),
        ("kill -l", "allow"),
        ("pkill -f 'vite --port 5173'", "allow"),
        ("killall node", "allow"),
        ("kill -9 -1", "deny"),
        ("kill -KILL -- -1", "deny"),
        ("kill -s TERM 1", "deny"),
        ("killall sshd", "deny"),
        ("pkill -9 -u deploy", "deny"),
        ("systemctl status postgresql", "allow"),
        ("systemctl list-units --type=service", "allow"),
        ("systemctl restart api", "allow"),
        ("systemctl stop postgresql", "ask"),
        ("systemctl disable --now redis", "ask"),
        ("systemctl mask bluetooth", "ask"),
        ("service mysql stop", "ask"),
        ("service mysql status", "allow"),
        ("systemctl -H db.prod.example.com stop postgresql", "hold"),
        ("systemctl poweroff", "deny"),
        ("sudo reboot", "deny"),
        ("shutdown -r now", "deny"),
        ("shutdown -c", "allow"),
        ("halt", "deny"),
        ("init 6", "deny"),
        ("launchctl list", "allow"),
        ("launchctl bootout gui/501/com.example.agent", "ask"),
    ],
)
def test_process_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


def test_whole_machine_effect_is_tagged() -> None:
    decision = decide("kill -9 -1")
    assert any("system-disruption" in e.tags for e in decision.effects)


@pytest.mark.parametrize(
    "command",
    [
        "shutdown -h now",
        "reboot",
        "poweroff",
        "kill -9 1",
        "killall5",
        "systemctl stop sshd",
        "systemctl disable ssh",
        "systemctl stop NetworkManager",
        "systemctl suspend",
        "mkfs.ext4 /dev/sdb1",
        "dd if=/dev/zero of=/dev/sda bs=1M",
    ],
)
def test_system_disruption_is_denied_by_its_own_rule(command: str) -> None:
    decision = decide(command)
    assert decision.kind.value == "deny"
    assert "guard.system-disruption" in decision.rule_ids
    disrupting = [e for e in decision.effects if "system-disruption" in e.tags]
    assert disrupting and all(
        "system-path" not in e.tags for e in disrupting if e.target.kind == "host"
    )


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("nginx -s stop", "ask"),
        ("nginx -s quit", "ask"),
        ("apachectl -k graceful-stop", "ask"),
        ("nginx -s reload", "allow"),
        ("nginx -t", "allow"),
        ("apachectl configtest", "allow"),
    ],
)
def test_a_web_servers_own_stop_is_a_service_stop(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("kill $(pidof sshd)", "deny"),  # the PIDs a listing found are the processes of that name
        ("kill -9 $(pgrep -x dockerd)", "deny"),
        ("kill $(ps aux | grep mysqld | awk '{print $2}')", "ask"),  # stops a service
        ("killall nginx", "ask"),
        ("pkill -9 postgres", "ask"),
        ("kill $(cat server.pid)", "allow"),
        ("pkill -f 'node server.js'", "allow"),
        ("killall -9 node", "allow"),
    ],
)
def test_killing_by_name_follows_what_the_name_is(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command
