"""Filesystem commands: what is deleted, where, and what the default policy says."""

from __future__ import annotations

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("rm -rf node_modules", "allow"),
        ("rm -rf bin coverage.out cpu.prof", "allow"),  # build, coverage and profiler output
        ("rm -f addon/*.node .eslintcache", "allow"),  # compiled addons, a linter's cache
        ("rm -rf ./dist build .next", "allow"),
        ("rm notes.txt", "allow"),
        ("rm -rf /tmp/scratch", "allow"),
        ("rm -rf src", "ask"),
        ("rm -rf .", "ask"),
        ("rm -rf *", "ask"),
        ("rm -rf ../other-project", "ask"),
        ("rm -rf ~", "deny"),
        ("rm -rf $HOME/projects", "deny"),
        ("rm -rf /etc", "deny"),
        ("rm -rf /", "deny"),
        ("rm -rf /tmp/../Users/me", "deny"),
        ('rm -rf "$BUILD_DIR/"', "deny"),
        ("dd if=/dev/zero of=/dev/sda bs=1M", "deny"),
        ("dd if=disk.img of=backup.img", "allow"),
        ("mkfs.ext4 /dev/sdb1", "deny"),
        ("fdisk -l", "allow"),
        ("shred -u secrets.txt", "ask"),
        ("find . -name '*.pyc' -delete", "allow"),
        ("find . -type f -delete", "ask"),
        ("find . -name '*.log' -print", "allow"),
        ("chmod -R 755 /usr", "ask"),
        ("chmod +x script.sh", "allow"),
        ("mv Cargo.toml /dev/null", "ask"),
        ("echo hi > out.txt", "allow"),
        ("echo 'export X=1' >> ~/.bashrc", "ask"),
        ("echo 'rule' >> CLAUDE.md", "deny"),
        ("rm -rf .claude", "deny"),
        ("sed -i 's/a/b/' src/app.py", "allow"),
        ("rsync -a --delete src/ /srv/www/", "deny"),
    ],
)
def test_default_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, decide(command).reasons


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # build and test output by name: a compiler's a.out, Go's coverage profile
        ("rm -f a.out ./build/a.out", "allow"),
        ("rm -rf coverage.out c.out", "allow"),
        ("find . -name a.out -delete", "allow"),
        # any other *.out may be a log, a job's results or a model: not rebuilt by anything
        ("rm -rf ./results.out", "ask"),
        ("find . -name '*.out' -delete", "ask"),
        ("kubectl exec pod -- rm -rf /data/model.out", "hold"),
    ],
)
def test_only_known_out_files_are_regenerable(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command


def test_workspace_paths_follow_the_working_directory() -> None:
    assert decide("rm -rf /home/me/project/src", cwd="/home/me/project").kind.value == "ask"
    assert decide("rm -rf /home/me/other", cwd="/home/me/project").kind.value == "deny"
    assert (
        decide("rm -rf /home/me/project/node_modules", cwd="/home/me/project").kind.value == "allow"
    )


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("rsync -avn --delete src/ /backup/", "allow"),  # dry run
        ("rsync -av --delete src/ /backup/", "ask"),
        ("rsync -av --del src/ /backup/", "ask"),  # --del is --delete-during
        ("rsync -a --remove-source-files out/ dist/", "allow"),  # a move: the files live on
    ],
)
def test_rsync_dry_run_only_reads(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # --remove-source-files takes each source away, as mv does
        ("rsync -a --remove-source-files ~/ host:/backup/", "deny"),
        ("rsync -a --remove-source-files /srv/data/ /tmp/x/", "deny"),
        ("mv /srv/data /tmp/x", "deny"),  # the same move
        ("rsync -a --remove-sent-files /etc/ /tmp/x/", "deny"),  # rsync's older name for it
        ("rsync -av --remove-source-files ~/.ssh/ host:/keys/", "deny"),
        ("rsync -a --remove-source-files host:/srv/data/ /tmp/x/", "hold"),  # gone from the host
        ("rsync -a host:/srv/data/ /tmp/x/", "allow"),  # copied: the host keeps them
        ("rsync -a --remove-source-files ./dist/ host:/x/", "allow"),
    ],
)
def test_rsync_moving_files_takes_them_from_the_source(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("chmod -R /usr", "ask"),  # no mode: every operand is a path chmod would be given
        ("chmod --reference=a.txt /etc/hosts", "ask"),
        ("chmod -R u+rwX,go-w ./src", "allow"),
        ("chmod 0644 notes.txt", "allow"),
    ],
)
def test_chmod_operands_that_are_not_a_mode_are_paths(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected, command


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # the temporary folder itself, or all of it, is shared by every program on the machine
        ("rm -rf /tmp", "ask"),
        ("rm -rf /tmp/", "ask"),
        ("rm -rf /tmp/* /tmp/.*", "ask"),
        ("sudo rm -rf /var/tmp/*", "ask"),
        ("rm -rf /dev/shm/*", "ask"),
        ('rm -rf "$TMPDIR"/*', "ask"),
        ("find /private/tmp -mindepth 1 -delete", "ask"),
        ("find ${TMPDIR:-/tmp} -depth -delete", "ask"),
        ("find /var/tmp -exec rm -rf {} +", "ask"),
        # one entry, or a filtered clean-up, is ordinary temporary work
        ("rm -rf /tmp/build-cache", "allow"),
        ("rm -f /tmp/*.pid", "allow"),
        ("find /tmp -name 'pytest-*' -exec rm -rf {} +", "allow"),
        ("find /var/tmp -type f -mtime +3 -delete", "allow"),
        ("mkdir -p /tmp/out && touch /tmp/out/ok", "allow"),
    ],
)
def test_deleting_the_temporary_folder_itself_asks(command: str, expected: str) -> None:
    decision = decide(command)
    assert decision.kind.value == expected, command
    if expected == "ask":
        assert decision.rule_ids == ("fs.temp-root",)


def test_temporary_folder_named_by_tmpdir_with_a_trailing_slash_is_still_temporary() -> None:
    decision = decide("rm -rf $TMPDIR/", env={"TMPDIR": "/var/folders/q1/T/"})
    assert decision.rule_ids == ("fs.temp-root",)


def test_every_file_find_runs_a_command_on_is_everything_under_its_root() -> None:
    assert decide("find . -exec rm {} +").kind.value == "ask"  # like rm ./*
    assert decide("find . -type f -name '*.orig' -exec rm {} +").kind.value == "allow"


def test_a_test_without_a_value_narrows_what_find_finds() -> None:
    assert decide("find /tmp -empty -delete").kind.value == "allow"
    assert decide("find . -empty -exec rm {} +").kind.value == "allow"
    assert decide("find /tmp -depth -print -delete").kind.value == "ask"
