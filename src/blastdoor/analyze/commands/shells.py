"""Shells and what they run: ``bash -c``, ``sh script.sh``, text piped into a shell, ``eval``,
``source``, and ``ssh host 'command'`` (whose effects land on the host and take its scope).

Script files are read from the working directory and analyzed; a script that is not there is
``execute-unknown``. Text piped in from the network (``curl ... | sh``) is ``execute-unknown`` too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.commands.project_tasks import missing
from blastdoor.analyze.commands.shell_setup import load_setup, setup_program
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect, unknown
from blastdoor.model import Effect, Scope, Target, Verb

SHELLS = frozenset(
    {"bash", "sh", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "yash", "rbash"}
)
_SHELL_VALUE_OPTIONS = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})
_NETWORK_SOURCES = ("curl", "wget", "fetch", "http", "nc", "ncat", "socat", "aria2c", "ftp")


def _shell(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    command_string = False  # -c: the first operand is the script (`bash -c -- 'cmd'`, `-xc`)
    from_stdin = False  # -s: the script is read from standard input, operands are its arguments
    syntax_only = False
    operands: list[Word] = []
    i = 0
    while i < len(words):
        text = words[i].text
        if operands or not text.startswith(("-", "+")) or text in ("-", "--"):
            if text == "--" and not operands:
                i += 1
                continue
            operands.append(words[i])
        elif text in _SHELL_VALUE_OPTIONS:
            i += 1
        elif not text.startswith("--") and "c" in text[1:]:
            command_string = True
        elif not text.startswith("--") and "n" in text[1:]:
            syntax_only = True
        elif not text.startswith("--") and "s" in text[1:]:
            from_stdin = True
        i += 1
    if syntax_only:
        return
    if command_string:
        if operands and operands[0].dynamic:
            yield unknown(inv, "the shell runs a command string only known at run time")
            return
        script = operands[0].text if operands else ""
        yield from ctx.run_script(inv, script, via=f"{inv.name} -c")
        return
    if operands and operands[0].text != "-" and not from_stdin:
        yield from run_file(inv, ctx, operands[0].text, via=inv.name)
        return
    yield from _stdin_script(inv, ctx)


def _stdin_script(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    if inv.stdin.text is not None:
        yield from ctx.run_script(inv, inv.stdin.text, via=f"{inv.name} reading stdin")
    elif inv.stdin.source:
        source = inv.stdin.source
        remote = any(net in source.split() for net in _NETWORK_SOURCES)
        yield unknown(inv, f"{inv.name} runs a script read from {source}",
                      tags={"remote-code"} if remote else set())  # fmt: skip
    else:
        yield ordinary_program(inv, f"start an interactive {inv.name}")


def run_file(
    inv: Invocation, ctx: Analysis, path: str, *, via: str, same_shell: bool = False
) -> Iterator[Effect]:
    """Analyze the shell script at ``path`` (relative to the working directory)."""
    text = ctx.read_file(path)
    if text is None:
        yield missing(inv, ctx, path, path, f"the script {path} is not in the working directory, "
                      "so what it runs is unknown", file=True)  # fmt: skip
        return
    yield from ctx.run_script(inv, text, via=f"{via} {path}", same_shell=same_shell)


def _eval(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    if len(inv.args) == 1 and (program := setup_program(inv.args[0])):
        yield load_setup(inv, program)  # eval "$(pyenv init -)"
        return
    if any(word.dynamic for word in inv.args):
        yield unknown(inv, "eval runs text only known at run time")
        return
    yield from ctx.run_script(inv, " ".join(word.text for word in inv.args), via="eval", same_shell=True)


_ENVIRONMENT_FILES = re.compile(
    r"(^|/)(activate|\.?(bashrc|bash_profile|profile|zshrc|zprofile|zshenv)|nvm\.sh|env\.sh|"
    r"setup\.(ba|z)?sh|\.cargo/env|environment)$"
)


def _source(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    if not inv.args:
        return
    path = inv.args[0].text
    if program := setup_program(inv.args[0]):
        yield load_setup(inv, program)  # source <(kubectl completion bash)
        return
    if ctx.read_file(path) is None and _ENVIRONMENT_FILES.search(path):
        # A virtualenv's activate or a shell start-up file that is not here to read: it sets the
        # environment of this shell, the usual reason to source a file.
        yield effect(inv, Verb.EXECUTE, Target("script", path), f"load the environment from {path}",
                     scope=Scope.LOCAL)  # fmt: skip
        return
    yield from run_file(inv, ctx, path, via=inv.name, same_shell=True)  # it runs in this shell


_SSH_VALUE_OPTIONS = frozenset("bcDEeFIiJLlmOopQRSWw")


def _ssh(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    i = 0
    while i < len(words) and words[i].text.startswith("-"):
        text = words[i].text
        i += 2 if len(text) == 2 and text[1] in _SSH_VALUE_OPTIONS else 1
    if i >= len(words):
        return
    host = words[i].text.rpartition("@")[2]
    command = words[i + 1 :]
    if not command:
        yield effect(inv, Verb.EXECUTE, Target("host", host), f"open a remote shell on {host}",
                     tags={"remote", f"host={host}"})  # fmt: skip
        return
    if inv.stdin.known or inv.stdin.source:
        yield effect(inv, Verb.EXECUTE, Target("host", host), f"send standard input to {host}",
                     tags={"remote", f"host={host}"})  # fmt: skip
    script = " ".join(w.text for w in command)
    for found in ctx.run_script(inv, script, via=f"ssh {host}"):
        yield on_host(found, host)


# Path tags that only mean something relative to this machine's working directory.
_WORKSPACE_TAGS = frozenset({"workspace-path", "workspace-root", "outside-workspace"})


def on_host(found: Effect, host: str) -> Effect:
    """An effect of a command run on ``host`` over ssh.

    What would land on this machine (files, processes, services, a git checkout, local containers)
    lands on the host instead and takes the host's scope (tag ``on-host``); what targets a named
    system keeps its own name, but ``localhost`` there means the host (tag ``via-ssh``).
    :mod:`blastdoor.scope` reads both tags.
    """
    tags = found.tags | {"remote", "via-ssh", f"host={host}"}
    if found.scope in (Scope.PRODUCTION, Scope.STAGING) or found.target.kind == "host":
        return replace(found, tags=tags)
    if found.scope is not Scope.UNKNOWN or found.target.kind in _ON_HOST_KINDS:
        tags = (tags - _WORKSPACE_TAGS) | {"on-host"}
    return replace(found, scope=Scope.UNKNOWN, tags=tags)


_ON_HOST_KINDS = frozenset({"path", "program", "process", "service", "device", "secret-file"})


FAMILIES = (
    CommandFamily.of(SHELLS, _shell),
    CommandFamily.of(["eval"], _eval),
    CommandFamily.of(["source", "."], _source),
    CommandFamily.of(["ssh", "autossh", "mosh"], _ssh),
)
