"""Reading a script's ``#!`` line: which program runs it.

The kernel runs the first word with the rest of the line as one argument, so flags after the
program are the program's own (``#!/bin/bash -eu``). ``/usr/bin/env`` looks the program up on the
PATH after its own options and ``NAME=value`` settings (``#!/usr/bin/env -S bash -eu``,
``#!/usr/bin/env bash -eu`` on systems that split the line).
"""

from __future__ import annotations

_ENV_VALUED = frozenset({"-u", "--unset", "-C", "--chdir", "-P", "--path"})


def shebang_program(line: str) -> str:
    """The program's name (``bash``, ``python3``) a ``#!`` line runs, or ``""`` when it names
    none. Its flags are not part of the name."""
    words = line.removeprefix("#!").split()
    if not words:
        return ""
    program = words[0].rsplit("/", 1)[-1]
    if program != "env":
        return program
    rest = words[1:]
    while rest and (rest[0].startswith("-") or "=" in rest[0]):
        option = rest.pop(0)
        if option in _ENV_VALUED and rest:
            rest.pop(0)
    return rest[0].rsplit("/", 1)[-1] if rest else ""
