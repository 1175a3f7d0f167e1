"""The engine protocol (broker/engines/): one engine per URL scheme, and every engine's programs
run with the password kept out of argv."""

from __future__ import annotations

from pathlib import Path

import pytest

from blastdoor.broker import engines
from blastdoor.broker.errors import BrokerError
from tests.broker.conftest import SECRET


@pytest.mark.parametrize("url, name", [
    ("postgresql://u:p@db/app", "postgresql"), ("postgres://db/app", "postgresql"), ("POSTGRESQL://db/app", "postgresql"),
    ("mysql://u@db/app", "mysql"), ("mariadb://u@db/app", "mysql"), ("sqlite:////srv/app.db", "sqlite"),
    ("redis://db/0", ""), ("mongodb://db/app", ""), ("/srv/app.db", ""),
])  # fmt: skip
def test_the_engine_is_chosen_once_from_the_scheme(url: str, name: str) -> None:
    found = engines.of(url)
    assert (found.name if found else "") == name


def _argv_printer(folder: Path) -> str:
    """A program that prints its arguments, the PGPASSWORD it got, and for an option file it is
    given, the file's mode and whether it holds the password."""
    script = folder / "show-args"
    script.write_text("#!/bin/sh\nprintf 'arg %s\\n' \"$@\"\nprintf 'env %s\\n' \"$PGPASSWORD\"\n"
                      "for a in \"$@\"; do case $a in --defaults-file=*) f=${a#--defaults-file=}; "
                      "printf 'mode %s\\n' $(stat -c %a \"$f\"); grep -c 'password=\"" + SECRET + "\"' \"$f\";; esac; done\n")  # fmt: skip
    script.chmod(0o700)
    return str(script)


def test_postgresql_programs_get_the_password_in_their_environment_only(tmp_path: Path) -> None:
    engine = engines.of(f"postgresql://app:{SECRET}@db.internal:5433/shop")
    assert engine is not None
    ran = engine.tool([_argv_printer(tmp_path)], ["--format=custom"], doing="show").checked()
    printed = ran.stdout.decode()
    arguments = [line for line in printed.splitlines() if line.startswith("arg ")]
    assert arguments[0] == "arg --format=custom" and "dbname=shop" in arguments[1] and "port=5433" in arguments[1]
    assert SECRET not in "".join(arguments) and f"env {SECRET}" in printed


def test_mysql_programs_read_the_password_from_a_private_option_file(tmp_path: Path) -> None:
    engine = engines.of(f"mysql://app:{SECRET}@db.internal:3307/shop")
    assert engine is not None
    printed = engine.tool([_argv_printer(tmp_path)], ["--no-data"], doing="show").checked().stdout.decode()
    arguments = [line for line in printed.splitlines() if line.startswith("arg ")]
    assert arguments[0].startswith("arg --defaults-file=") and arguments[1:] == ["arg --no-data"]
    assert SECRET not in "".join(arguments) and "mode 600\n1\n" in printed
    assert not Path(arguments[0].removeprefix("arg --defaults-file=")).exists()  # removed after the run


def test_a_missing_program_or_a_failing_one_is_one_line(tmp_path: Path) -> None:
    engine = engines.of(f"mysql://app:{SECRET}@127.0.0.1:1/shop")
    assert engine is not None
    with pytest.raises(BrokerError, match="neither no-such-dump nor no-such-dump-2 is installed, so Blastdoor cannot save x; nothing ran"):
        engine.tool(["no-such-dump", "no-such-dump-2"], [], doing="save x")
    failing = tmp_path / "fails"
    failing.write_text("#!/bin/sh\necho 'first complaint' >&2\necho second >&2\nexit 3\n")
    failing.chmod(0o700)
    with pytest.raises(BrokerError) as raised:
        engine.tool([str(failing)], [], doing="save x").checked()
    assert raised.value.message == "fails could not save x: first complaint" and SECRET not in str(raised.value)


def test_only_the_head_of_what_a_program_writes_is_kept(tmp_path: Path) -> None:
    from blastdoor.broker import client_tools

    loud = tmp_path / "loud"
    loud.write_text("#!/bin/sh\nhead -c 50000000 /dev/zero\nhead -c 50000000 /dev/zero >&2\nexit 2\n")
    loud.chmod(0o700)
    ran = client_tools.run(str(loud), [], doing="print")  # as a dump printing rows without end would
    assert ran.code == 2 and len(ran.stdout) == len(ran.stderr) == client_tools.KEPT_BYTES
    slow = client_tools.run("sleep", ["5"], doing="wait", timeout=0.2)
    assert slow.code is None and slow.said() == "did not finish (timed out after 0.2 seconds)"


def test_why_a_program_failed_is_its_first_error_line(tmp_path: Path) -> None:
    from blastdoor.broker import client_tools

    def ran(script: str) -> client_tools.Ran:
        program = tmp_path / "restorer"
        program.write_text("#!/bin/sh\n" + script)
        program.chmod(0o700)
        return client_tools.run(str(program), [], doing="restore")

    assert ran("echo 'NOTICE: made' >&2\necho 'ERROR 1064 at line 3: bad' >&2\nexit 1\n").failure() == "ERROR 1064 at line 3: bad"
    assert ran("echo 'pg_restore: error: could not execute query' >&2\nexit 1\n").failure() == (
        "pg_restore: error: could not execute query")  # fmt: skip
    assert ran("echo 'no such file' >&2\nexit 2\n").failure() == "restorer: no such file"
    assert ran("exit 3\n").failure() == "restorer: exit code 3"
    assert ran("echo 'WARNING: fine' >&2\n").failure() == ""


def test_a_fed_program_reads_what_was_fed_and_a_refusal_is_raised_after_it(tmp_path: Path) -> None:
    from collections.abc import Generator

    from blastdoor.broker import client_tools

    def pieces(path: Path, *, refuse_after: int = -1) -> Generator[bytes, None, None]:
        with path.open("rb") as handle:
            for number, line in enumerate(handle):
                if number == refuse_after:
                    raise BrokerError("line 2 is refused", hint="none")
                yield line.upper()

    script = tmp_path / "script.sql"
    script.write_bytes(b"one\ntwo\nthree\n")
    with client_tools.fed(pieces(script)) as stdin:
        assert client_tools.run("cat", [], doing="read", stdin=stdin).stdout == b"ONE\nTWO\nTHREE\n"
    with pytest.raises(BrokerError, match="line 2 is refused"), client_tools.fed(pieces(script, refuse_after=1)) as stdin:
        assert client_tools.run("cat", [], doing="read", stdin=stdin).stdout == b"ONE\n"  # the input ends at the refusal
    # a file that cannot be opened is an input that ends at once, never one the program waits on
    with client_tools.fed(pieces(tmp_path / "gone.sql")) as stdin:
        assert client_tools.run("cat", [], doing="read", stdin=stdin, timeout=30).code == 0
