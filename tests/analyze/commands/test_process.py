"""Processes, services and the machine: whole-machine effects are stopped, one process is not."""

from __future__ import annotations

import pytest

from blastdoor.analyze.stand_ins import read_variables
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


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # PIDs that come from a listing, however they reach kill, are the processes it selects
        ("ps -ef | grep -v grep | grep httpd | awk '{print $2}' | xargs kill", "ask"),
        ("pgrep memcached | xargs -r kill -TERM", "ask"),
        ("ps ax | grep '[h]aproxy' | awk '{print $1}' | xargs -I PID kill PID", "ask"),
        ("for p in $(pgrep -x sshd); do kill -HUP $p; done", "deny"),
        ("for p in `pidof dockerd`; do kill $p; done", "deny"),
        ("list=$(ps -C mongod -o pid=); for p in $list; do kill $p; done", "ask"),
        ("ps -eo pid,comm | while read -r p name; do kill -9 $p; done", "deny"),
        ("while read p rest; do kill $p; done < <(ps -eo pid,comm | awk '$2 == \"crond\"')", "ask"),
        (
            "while read -r row; do p=$(echo $row | cut -d' ' -f1); kill $p; "
            "done < <(pgrep -a chronyd)",
            "ask",
        ),
        ("reap() { for p in $(pgrep redis-server); do kill $p; done; }; reap", "ask"),
        # an unfiltered listing is every process: the whole machine stops
        ("ps -e -o pid= | xargs kill -9", "deny"),
        ("for p in $(ps -eo pid --no-headers); do kill $p; done", "deny"),
        ("ps aux | tail -n +2 | awk '{print $2}' | xargs kill", "deny"),
        # ordinary programs, and listings picked by something Blastdoor cannot read, stay allowed
        ("ps aux | grep -i celery | awk '{print $2}' | xargs kill -9", "allow"),
        ("for p in $(pgrep -f 'gunicorn app:api'); do kill $p; done", "allow"),
        # some of every process, picked at run time: whatever they serve stops
        ("ps aux --sort=-%mem | head -3 | awk '{print $2}' | xargs kill", "ask"),
        ("ps aux | awk '$3 > 90 {print $2}' | xargs kill", "ask"),
        # a stage after the listing only passes on some of its lines: still those processes
        ("kill -9 $(pgrep sshd || true)", "deny"),
        ("kill -9 $(pgrep sshd | head -1)", "deny"),
        ("pid=$(pgrep -x sshd | tail -n 1); kill $pid", "deny"),
        ("kill $(pgrep dockerd; pgrep containerd)", "deny"),
        ("kill $(pgrep -f 'node server.js' | head -1)", "allow"),
        ("lsof -ti tcp:8080 | xargs kill", "allow"),
        ("for p in $(cat worker.pids); do kill $p; done", "allow"),
        ("docker ps -q | xargs docker stop", "allow"),
    ],
)
def test_kill_follows_pids_from_a_process_listing(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["-rp", '"Prompt: "', "answer"], ["answer"]),  # the prompt is -p's value, not a variable
        (["-r", "-d", "''", "line"], ["line"]),
        (["-rn1", "key"], ["key"]),
        (["-ra", "fields"], ["fields"]),  # -a names the array the line fills
        (["-t", "5", "-u", "3", "pid", "rest"], ["pid", "rest"]),
        (["-pName:", "-e", "-i", "bob", "who"], ["who"]),
        (["--", "x"], ["x"]),
        (["-r"], ["REPLY"]),
    ],
)
def test_read_takes_its_options_values_as_bash_does(args: list[str], names: list[str]) -> None:
    assert read_variables(args) == names


def test_reads_prompt_is_not_a_variable_standing_for_the_listing() -> None:
    # `p` is the prompt; the listing's lines go to `q`, so `$p` keeps its value
    command = "p=4242; ps -eo pid,comm | while read -rp p q; do kill -9 $p; done"
    assert decide(command).kind.value == "allow"


def test_a_listing_variable_set_in_a_subshell_is_gone_after_it() -> None:
    assert decide("(for p in $(pgrep sshd); do :; done); kill $p").kind.value == "allow"
    assert decide("for p in $(pgrep sshd); do :; done; kill $p").kind.value == "deny"
