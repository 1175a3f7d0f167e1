"""nsupdate: record deletions on a DNS server are judged by the server's scope."""

from __future__ import annotations

from pathlib import Path

import pytest

from blastdoor.analyze.commands.dns import parse_updates
from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # no server line: the zone's primary, whose environment is unknown
        ("printf 'update delete mail.example.net MX\\nsend\\n' | nsupdate", "hold"),
        ("echo 'del legacy.example.org' | nsupdate -k Kupdate.key", "hold"),
        ("nsupdate <<< 'update add cdn.example.org 300 CNAME edge.example.net'", "ask"),
        # the server line decides
        ("nsupdate <<'X'\nserver ns2.prod.corp.example\nupdate delete www.corp.example A\nsend\nX",
         "hold"),
        ("nsupdate <<'X'\nserver ns.staging.corp.example\nupdate delete www.corp.example\nX",
         "ask"),
        ("nsupdate <<'X'\nserver ns.dev.corp.example\nupdate add t.corp.example 60 A 10.1.1.1\nX",
         "allow"),
        # -l: the server on this machine; its data is worth a look before it goes
        ("nsupdate -l <<'X'\nupdate delete host.lan.example A\nsend\nX", "ask"),
        # commands Blastdoor cannot see
        ("nsupdate -l", "ask"),
        ("nsupdate zone-changes.txt", "ask"),
        # reads
        ("nsupdate -V", "allow"),
        ("printf 'show\\nanswer\\n' | nsupdate", "allow"),
    ],
)
def test_nsupdate_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command


def test_a_development_looking_record_name_does_not_lower_a_delete() -> None:
    assert decide("echo 'update delete test.example.com' | nsupdate").kind.value == "hold"


def test_the_update_keyword_is_optional_and_comments_are_skipped() -> None:
    found = parse_updates(
        "; clean up\nserver 192.0.2.53 5353\nzone example.com\ndel a.example.com 0 IN TXT\n"
        "update add b.example.com 600 IN AAAA 2001:db8::1\nprereq nxdomain c.example.com\nsend\n"
    )
    assert found.server == "192.0.2.53"
    assert found.deletes == [("a.example.com", "TXT")]
    assert found.adds == [("b.example.com", "AAAA")]


def test_nsupdate_reads_a_script_file_from_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "drop.txt").write_text("server ns1.live.example\nupdate delete api.example\nsend\n")
    assert decide("nsupdate drop.txt", cwd=str(tmp_path)).kind.value == "hold"
    (tmp_path / "add.txt").write_text("server 127.0.0.1\nupdate add x.example 60 A 10.0.0.9\n")
    assert decide("nsupdate add.txt", cwd=str(tmp_path)).kind.value == "allow"
