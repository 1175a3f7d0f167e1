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
    assert listing is not None and listing.every


@pytest.mark.parametrize(
    "text",
    [
        "$(cat app.pid)",
        "$(docker ps -q)",  # container ids, not processes
        "ps -p 4242 -o pid=",  # picked by PID
        "ps aux | head -n 5",  # the first few, whatever they are
        "ps aux | awk '$4 > 10.0 {print $2}'",  # a condition on memory use
        "ps aux | grep node /tmp/list.txt",  # grep reads a file, not the listing
        "pgrep -c nginx",  # a count
        "ps aux | grep x; echo done",
        "$(pgrep sshd && pgrep cron)",
        "$(while true; do pgrep sshd; done)",
        "$(pgrep 'sshd)",  # does not parse
    ],
)
def test_anything_else_is_not_a_readable_listing(text: str) -> None:
    assert process_listing(text) is None
