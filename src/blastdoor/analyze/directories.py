"""Where the shell is while a line runs: ``cd``, ``pushd`` and ``popd`` move it.

``cd .. && rm -rf build`` deletes the parent's ``build``, not the workspace's. The walker keeps the
directory the shell has moved to (``here``) apart from the working directory the action was given
(the workspace), and relative paths are resolved from ``here``. A subshell or ``$(...)`` that moves
leaves the line where it was. A move to a place only known at run time (``cd "$DIR"``, ``cd -``)
makes every relative path after it a run-time path.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

from blastdoor.analyze.invocation import Invocation
from blastdoor.analyze.paths import UNKNOWN_DIR, WORKSPACE_PLACEHOLDER

MOVES = frozenset({"cd", "pushd", "popd", "chdir"})


@dataclass
class Directories:
    """The shell's current directory (None: still the working directory) and pushd's stack."""

    here: str | None = None
    stack: list[str | None] = field(default_factory=list)

    def move(self, inv: Invocation, *, cwd: str | None, env: Mapping[str, str]) -> None:
        """Apply ``cd DIR`` / ``pushd DIR`` / ``popd``."""
        if inv.name == "popd":
            self.here = self.stack.pop() if self.stack else UNKNOWN_DIR
            return
        operands = [w for w in inv.args if not w.text.startswith("-") or w.text == "-"]
        if inv.name == "pushd":
            self.stack.append(self.here)
        if not operands:
            self.here = env.get("HOME") or "~"
            return
        target = operands[0]
        base = self.here or cwd or WORKSPACE_PLACEHOLDER
        if target.dynamic or target.text == "-" or base == UNKNOWN_DIR:
            self.here = UNKNOWN_DIR
            return
        text = target.text
        if text == "~" or text.startswith("~/"):
            text = (env.get("HOME") or "~") + text[1:]
        self.here = posixpath.normpath(text if text.startswith(("/", "~")) else f"{base}/{text}")

    def file(self, path: str) -> str | None:
        """``path`` as the file reader should see it, or None when the directory is unknown."""
        if self.here is None or path.startswith("/"):
            return path
        if self.here == UNKNOWN_DIR or not self.here.startswith("/"):
            return None
        return posixpath.join(self.here, path)

    def copy(self) -> Directories:
        return Directories(self.here, list(self.stack))
