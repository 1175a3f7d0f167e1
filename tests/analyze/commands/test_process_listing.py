"""Reading process listings: which processes the PIDs of a ps / pgrep pipeline stand for."""

from __future__ import annotations

import pytest

from blastdoor.analyze.commands.process_listing import process_listing


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("$(pgrep -x nginx)", ("nginx",)),
        ("$(pidof php-fpm)", ("php-fpm",)),
        ("`pgrep -f 'uvicorn main:app'`", ("uvicorn",)),
        ("<(ps -C postgres,redis-server -o pid=)", ("postgres", "redis-server")),
        ("ps aux | grep -v grep | grep '[m]ysqld' | awk '{print $2}'", ("mysqld",)),
        ("ps -ef | egrep 'httpd|nginx' | awk '{print $2}'", ("httpd", "nginx")),
        ("ps -eo pid,comm | awk '/cupsd/ {print $1}'", ("cupsd",)),
        ("ps -eo pid,comm | awk '$2 ~ \"sssd\" {print $1}'", ("sssd",)),
        ("ps -eo pid,comm | awk '!/grep/ && /ntpd/ {print $1}'", ("ntpd",)),
        ("ps aux | grep -e haproxy -i | sed 1d | cut -c10-15", ("haproxy",)),
        # parsed as bash: assignments and redirects are not words of the command
        ("$(LC_ALL=C pgrep -x sshd 2>/dev/null)", ("sshd",)),
        ("$(ps aux 2>&1 | grep \"[c]rond\" | awk '{print $2}')", ("crond",)),
        ("echo $(pgrep 'a|b)c')", ("a", "b)c")),  # a parenthesis in quotes does not end $(...)
        # what a script prints is what each of its commands prints
        ("$(pgrep sshd || true)", ("sshd",)),
        ("$(pgrep sshd && pgrep cron)", ("sshd", "cron")),
        ("ps aux | grep x; echo done", ("x",)),
        ("$(while true; do pgrep sshd; done)", ("sshd",)),
        ("$({ pidof dockerd; } 2>/dev/null)", ("dockerd",)),
        # a stage Blastdoor cannot read passes on some of the lines: still those processes
        ("$(pgrep sshd | head -1)", ("sshd",)),
        ("ps -C mysqld -o pid= | awk '$1 > 100'", ("mysqld",)),
        ("ps aux | grep nginx | head -n 1 | awk '{print $2}'", ("nginx",)),
    ],
)
def test_a_listing_filtered_by_name_names_those_processes(
    text: str, names: tuple[str, ...]
) -> None:
    listing = process_listing(text)
    assert listing is not None and listing.names == names


@pytest.mark.parametrize(
    "text",
    [
        "$(ps -e -o pid=)",
        "ps aux | grep -v root | awk 'NR > 1 {print $2}'",
        "pgrep -u builder",
        "ps -eo pid,cmd | tail -n +2 | sort -n",
    ],
)
def test_a_listing_nothing_narrows_to_a_name_is_every_process(text: str) -> None:
    listing = process_listing(text)
    assert listing is not None and listing.every and not listing.chosen


@pytest.mark.parametrize(
    "text",
    [
        "ps aux | head -n 5",  # the first few, whatever they are
        "ps aux | awk '$4 > 10.0 {print $2}'",  # a condition on memory use
        "ps aux | grep node /tmp/list.txt",  # grep reads a file (Blastdoor cannot say what)
        "$(ps -e -o pid= | head -1 || true)",
    ],
)
def test_a_listing_of_every_process_a_stage_picks_from(text: str) -> None:
    listing = process_listing(text)
    assert listing is not None and listing.every and listing.chosen


@pytest.mark.parametrize(
    "text",
    [
        "$(cat app.pid)",
        "$(docker ps -q)",  # container ids, not processes
        "ps -p 4242 -o pid=",  # picked by PID
        "pgrep -c nginx",  # a count
        "$(ssh web1 pgrep nginx | head -1)",  # another machine's processes
        "$(pgrep 'sshd)",  # does not parse
    ],
)
def test_anything_else_is_not_a_readable_listing(text: str) -> None:
    assert process_listing(text) is None
