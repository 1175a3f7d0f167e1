"""Which program a #! line runs."""

from __future__ import annotations

import pytest

from blastdoor.analyze.shebang import shebang_program


@pytest.mark.parametrize(
    ("line", "program"),
    [
        ("#!/bin/bash", "bash"),
        ("#!/bin/bash -eu", "bash"),
        ("#! /usr/bin/python3 -O", "python3"),
        ("#!/usr/bin/env bash -eu", "bash"),
        ("#!/usr/bin/env -S node --no-warnings", "node"),
        ("#!/usr/bin/env -u HOME -i LANG=C perl -w", "perl"),
        ("#!/usr/bin/env", ""),
        ("#!", ""),
    ],
)
def test_the_program_is_named_without_its_flags(line: str, program: str) -> None:
    assert shebang_program(line) == program
