"""Firewall and network interfaces: listing reads, cutting the machine off is denied."""

from __future__ import annotations

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
        ("ifconfig", "allow"),
        ("ifconfig eth0", "allow"),
        # changes of this machine's network configuration
        ("iptables -A INPUT -p tcp --dport 22 -j ACCEPT", "ask"),
        ("ufw allow 22/tcp", "ask"),
        ("ip route add 10.0.0.0/8 via 192.168.1.1", "ask"),
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
        ("ifconfig eth0 down", "deny"),
        ("ifdown eth0", "deny"),
    ],
)
def test_network_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


def test_flushing_the_firewall_is_a_system_disruption() -> None:
    decision = decide("iptables -F")
    assert decision.rule_ids == ("guard.system-disruption",)
