"""Shell set-up code a program prints for the shell to load: ``eval "$(pyenv init -)"``,
``source <(kubectl completion bash)``, ``eval $(ssh-agent -s)``, ``eval "$(brew shellenv)"``.

What ``eval`` or ``source`` runs here is only known at run time, but it is the program's own
integration code (completions, ``PATH`` and environment settings, a hook, an alias), written to
be loaded this way. Loading it trusts that program exactly as running it does, so it is judged as
running the program, not as unknown text. Anything else that builds code at run time
(``eval "$(curl ...)"``, ``eval "$(cat cmds.txt)"``, a pipeline) stays ``execute-unknown``.
"""

from __future__ import annotations

import re

from blastdoor.analyze.invocation import Invocation, Word, effect
from blastdoor.model import Effect, Scope, Target, Verb

# The first operand (or an option) that asks a program for its shell integration.
_SETUP_WORDS = frozenset({
    "init", "hook", "completion", "completions", "shellenv", "shell-init", "env", "docker-env",
    "podman-env", "activate", "--alias", "alias",
})  # fmt: skip
# Programs whose whole output is shell set-up (variables for the agent they start).
_SETUP_PROGRAMS = frozenset({"ssh-agent", "gpg-agent", "dircolors", "keychain"})
_SUBSTITUTION = re.compile(r"^(?:\$\(|<\(|`)\s*([^`()|;&<>$]*?)\s*(?:\)|`)$")
# Programs whose output is someone else's text, and interpreters, whose operand is a script.
_NOT_SETUP = frozenset({
    "curl", "wget", "cat", "echo", "printf", "base64", "xxd", "head", "tail", "sed", "awk", "tr",
    "bash", "sh", "zsh", "dash", "ksh", "fish", "python", "python3", "node", "perl", "ruby", "php",
    "deno", "bun", "eval", "xargs", "env", "sudo",
})  # fmt: skip


def setup_program(word: Word) -> str | None:
    """The program whose shell set-up ``word`` loads (``$(pyenv init -)`` → ``pyenv``), or None."""
    match = _SUBSTITUTION.match(word.text.strip())
    if match is None:
        return None
    parts = match.group(1).split()
    if not parts or "=" in parts[0]:
        return None
    program = parts[0].rsplit("/", 1)[-1]
    if program in _NOT_SETUP:
        return None
    if program in _SETUP_PROGRAMS:
        return program
    operands = [p for p in parts[1:] if not p.startswith("-")]
    asked = set(operands[:2]) | {p for p in parts[1:] if p.startswith("--")}
    return program if asked & _SETUP_WORDS else None


def load_setup(inv: Invocation, program: str) -> Effect:
    """Loading ``program``'s shell set-up into this shell."""
    return effect(
        inv,
        Verb.EXECUTE,
        Target("program", program),
        f"load the shell set-up {program} prints (its completions, variables or hooks)",
        scope=Scope.LOCAL,
    )
