"""Firewall and network interfaces: listing reads, cutting the machine off is denied."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("iptables -L -n -v", "allow"),
        ("sudo iptables -vnL", "allow"),
        ("iptables-save", "allow"),
        ("nft list ruleset", "allow"),
        ("ufw status verbose", "allow"),
        ("firewall-cmd --list-all", "allow"),
        ("ip addr show", "allow"),
        ("ip -br a", "allow"),
        ("ip route", "allow"),
        # ip takes any prefix of an object or a command: these list, monitor or ask for help
        ("ip r g 10.1.2.3", "allow"),
        ("ip ro get 10.1.2.3 from 10.0.0.1", "allow"),
        ("ip n g 10.1.2.3 dev wlan0", "allow"),
        ("ip mo all", "allow"),
        ("ip m h", "allow"),
        ("ip a s dev wg0", "allow"),
        ("ip l sh wg0", "allow"),
        ("ip route save", "allow"),
        ("ip frobnicate add 1", "allow"),  # ip refuses an object it does not know
        ("ifconfig", "allow"),
        ("ifconfig eth0", "allow"),
        # changes of this machine's network configuration
        ("iptables -A INPUT -p tcp --dport 22 -j ACCEPT", "ask"),
        ("ufw allow 22/tcp", "ask"),
        ("ip route add 10.0.0.0/8 via 192.168.1.1", "ask"),
        ("sudo ip r a 10.0.0.0/8 dev wg0", "ask"),
        ("ip st set dev wg0 l3_stats on", "ask"),
        ("ip l s wg0 mtu 1400", "ask"),
        ("firewall-cmd --permanent --add-service https", "ask"),
        # cutting the machine off (or opening it up) at once
        ("iptables -F", "deny"),
        ("sudo iptables -t nat --flush", "deny"),
        ("iptables -P INPUT DROP", "deny"),
        ("ip6tables -X", "deny"),
        ("nft flush ruleset", "deny"),
        ("ufw disable", "deny"),
        ("ufw --force reset", "deny"),
        ("firewall-cmd --panic-on", "deny"),
        ("ip link set eth0 down", "deny"),
        ("ip -4 addr flush dev eth0", "deny"),
        ("ip route del default", "deny"),
        ("ip r d default", "deny"),
        ("ip a f dev wg0", "deny"),
        ("ip ru f", "deny"),  # every rule but the local one: the main table is no longer used
        ("sudo ip l s wg0 down", "deny"),  # for a link, `s` is `set` (ip a s is show)
        ("ifconfig eth0 down", "deny"),
        ("ifdown eth0", "deny"),
    ],
)
def test_network_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


def test_flushing_the_firewall_is_a_system_disruption() -> None:
    decision = decide("iptables -F")
    assert decision.rule_ids == ("guard.system-disruption",)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # the legacy route tool: losing the default route (or every route) cuts the machine off
        ("route delete default 10.0.0.1", "deny"),
        ("sudo route del default gw 192.168.0.254 eth0", "deny"),
        ("route -A inet del -net 0.0.0.0 netmask 0.0.0.0", "deny"),
        ("route -n flush", "deny"),
        ("route -f", "deny"),  # Windows: clears every gateway route
        # a route added, changed or a single one removed is ordinary network configuration
        ("route add default gw 172.16.0.1", "ask"),
        ("route add -net 10.20.0.0/16 dev wg0", "ask"),
        ("route change 10.0.0.0/8 10.0.0.2", "ask"),
        ("route del -host 10.9.9.9", "ask"),
        # listing it reads
        ("route", "allow"),
        ("route -n", "allow"),
        ("route -n get 1.1.1.1", "allow"),
        ("route print", "allow"),
    ],
)
def test_route_changes(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # -batch FILE runs each line of FILE as an ip command; unseen, it is not a read
        ("ip -b FILE", "ask"),
        ("ip -batch FILE", "ask"),
        ("ip --batch FILE", "ask"),
        ("ip -force -batch -", "ask"),  # standard input, and nothing is piped in
        ("ip -ba FILE link show", "ask"),  # with a batch file ip runs only that
        ("ip -br a", "allow"),  # -br is -brief, not -batch
        # a word is the first option it abbreviates, in ip's order: -f is -family, -h -human
        ("ip -f inet addr flush dev eth0", "deny"),
        ("ip -h link set eth0 down", "deny"),
        ("ip -fo link set eth0 down", "deny"),
        ("ip -net ns1 link set eth0 down", "deny"),
        ("ip -V link set eth0 down", "allow"),  # prints its version and exits
    ],
)
def test_ip_options_and_batch_files(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command


def test_an_ip_batch_file_is_read_line_by_line(tmp_path: Path) -> None:
    (tmp_path / "show.ip").write_text("link show\n# link set eth0 down\naddr show lo\n")
    (tmp_path / "down.ip").write_text("link show\nlink \\\n set eth0 down\n")
    (tmp_path / "quoted.ip").write_text("link set 'eth0' down\n")
    (tmp_path / "nested.ip").write_text("-b down.ip\n")  # ip reads no options in a batch line
    cwd = str(tmp_path)
    assert decide("ip -b show.ip", cwd=cwd).kind.value == "allow"
    assert decide("ip -force -batch down.ip", cwd=cwd).kind.value == "deny"
    assert decide("ip -b - < down.ip", cwd=cwd).kind.value == "deny"
    assert decide("printf 'route del default\\n' | ip -b -", cwd=cwd).kind.value == "deny"
    assert decide("ip -b quoted.ip", cwd=cwd).kind.value == "deny"
    assert decide("ip -b nested.ip", cwd=cwd).kind.value == "allow"  # Object "-b" is unknown


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # ip netns exec NAME CMD and ip vrf exec NAME CMD run CMD: it is judged as itself
        ("ip netns exec blue rm -rf /", "deny"),
        ("ip netns e blue rm -rf /", "deny"),  # e abbreviates exec
        ("ip -all netns exec rm -rf /", "deny"),  # -all: no name, CMD runs in every namespace
        ("ip -n red netns exec blue rm -rf /", "deny"),
        ("ip vrf exec mgmt rm -rf /", "deny"),
        ("printf 'netns exec blue rm -rf /\\n' | ip -b -", "deny"),
        ("ip netns exec blue ls", "allow"),
        ("ip netns exec blue ip addr show", "allow"),
        ("ip netns add blue", "ask"),
    ],
)
def test_ip_exec_judges_the_command_it_runs(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command
