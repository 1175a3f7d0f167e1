"""What bash itself says about a line's syntax, where tree-sitter-bash's word is not enough.

tree-sitter-bash rejects some valid bash (``bash_repair``), so its parse error does not prove that
bash would run nothing. Where a decision rests on that (a line read as database text, not as
commands), bash is asked: ``bash -n`` parses without running anything. Bash reads a whole line
before it runs any of it, so a line it rejects runs nothing at all.

It is asked with ``extglob`` on, as interactive set-ups often have it (``SELECT @(x) FROM t`` is a
syntax error without it and a glob with it), and with no start-up files or environment
(``BASH_ENV``). When bash cannot be found or does not answer, the line counts as accepted: the
cautious reading, since then it is judged as commands.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

_SECONDS = 2.0


@lru_cache(maxsize=1)
def _bash() -> str | None:
    return shutil.which("bash")


@lru_cache(maxsize=256)
def bash_rejects(line: str) -> bool:
    """Whether bash refuses ``line`` as a syntax error (and so runs none of it)."""
    bash = _bash()
    if bash is None:
        return False
    argv = [bash, "--norc", "--noprofile", "-O", "extglob", "-n", "-c", line]
    try:
        done = subprocess.run(
            argv,
            env={"LC_ALL": "C"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_SECONDS,
            check=False,
        )
    except (OSError, ValueError, subprocess.TimeoutExpired):  # ValueError: a NUL in the line
        return False
    return done.returncode != 0
