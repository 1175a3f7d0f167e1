"""The judge's file reader: text files under the working directory, whole or their start."""

from __future__ import annotations

import os
from pathlib import Path

from blastdoor.analyze.redirects import HeadReader
from blastdoor.judge import MAX_SCRIPT_BYTES, disk_reader


def test_a_text_file_is_read_relative_to_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "run.sh").write_text("rm -rf build\n")
    read = disk_reader(str(tmp_path))
    assert read("run.sh") == "rm -rf build\n"
    assert read(str(tmp_path / "run.sh")) == "rm -rf build\n"
    assert disk_reader(None)("run.sh") is None  # no working directory: a relative path is unknown


def test_what_is_not_a_readable_regular_text_file_is_none(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "pipe")  # opening it would wait for a writer
    (tmp_path / "blob").write_bytes(b"ELF\0\1\2")
    read = disk_reader(str(tmp_path))
    assert read("folder") is None
    assert read("pipe") is None
    assert read("missing.sh") is None
    assert read("blob") is None
    assert read("a\0b") is None
    assert isinstance(read, HeadReader)
    assert read.head("pipe", 10) is None
    assert read.head("a\0b", 10) is None


def test_a_large_file_is_not_read_whole_but_its_start_is(tmp_path: Path) -> None:
    (tmp_path / "big.tfstate").write_text('{"serial": 3}' + " " * MAX_SCRIPT_BYTES)
    reader = disk_reader(str(tmp_path))
    assert reader("big.tfstate") is None
    assert isinstance(reader, HeadReader)  # what the walker asks for a start (read_head)
    assert reader.head("big.tfstate", 13) == '{"serial": 3}'
