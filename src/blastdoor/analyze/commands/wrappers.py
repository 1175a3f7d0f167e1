"""Programs that run another program: sudo, env, nohup, timeout, nice, xargs, parallel, busybox...

Each strips its own options and hands the wrapped command back to the walker, so ``sudo rm -rf /``
is judged as ``rm -rf /`` (plus the privilege it runs with).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.process_listing import process_listing
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect, unknown
from blastdoor.analyze.words import split_words
from blastdoor.model import Effect, Scope, Target, Verb

# For each wrapper: options that take a value, and whether its first operand is not the command
# (timeout DURATION, chrt PRIORITY, taskset MASK, flock FILE).
_VALUE_OPTIONS: dict[str, frozenset[str]] = {
    "sudo": frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-T", "-U", "--user", "--group",
                       "--host", "--prompt", "--chdir", "--role", "--type", "--other-user", "--close-from"}),
    "doas": frozenset({"-u", "-C"}),
    "env": frozenset({"-u", "--unset", "-C", "--chdir", "-P", "--split-string", "-S"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "ionice": frozenset({"-c", "-n", "-p", "-P", "-u", "--class", "--classdata"}),
    "timeout": frozenset({"-s", "--signal", "-k", "--kill-after"}),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "exec": frozenset({"-a"}),
    "chrt": frozenset(),
    "taskset": frozenset(),
    "flock": frozenset({"-w", "--timeout", "-E", "--conflict-exit-code"}),
    "runuser": frozenset({"-u", "-g", "-G", "--user", "--group"}),
    "strace": frozenset({"-o", "-e", "-p", "-s", "-u", "-E"}),
    "ltrace": frozenset({"-o", "-e", "-p", "-s", "-u"}),
    "watch": frozenset({"-n", "--interval", "-d", "--differences"}),
    "xvfb-run": frozenset({"-a", "-n", "-s", "-f", "-e", "--server-args"}),
    "sg": frozenset(),
}  # fmt: skip
_FIRST_OPERAND_IS_ARG = frozenset({"timeout", "chrt", "taskset", "flock", "sg"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_PRIVILEGED = frozenset({"sudo", "doas", "runuser", "pkexec", "su", "sg", "chroot"})
_SIMPLE = frozenset({
    "nohup", "time", "command", "builtin", "setsid", "unbuffer", "caffeinate", "catchsegv",
    "torsocks", "proxychains", "proxychains4", "firejail", "pkexec", "chroot", "then", "do", "else",
    "noglob", "nocorrect", "sem", "dbus-run-session", "systemd-run", "fakeroot", "eatmydata", "tsp",
})  # fmt: skip
# Every program here that runs another program named on its command line (shell keywords aside).
PROGRAMS = (frozenset(_VALUE_OPTIONS) | _PRIVILEGED | _SIMPLE) - {"then", "do", "else"}


def _split_options(
    name: str, args: Sequence[Word], assignments: dict[str, str] | None = None
) -> list[Word]:
    """The wrapped command: ``args`` without the wrapper's options. ``NAME=value`` words before it
    (``env A=1 cmd``, ``sudo A=1 cmd``) go into ``assignments``: they are the command's
    environment, not its name."""
    values = _VALUE_OPTIONS.get(name, frozenset())
    rest = list(args)
    found = assignments if assignments is not None else {}
    while rest:
        text = rest[0].text
        if text == "--":
            rest.pop(0)
            break
        if name == "env" and (text == "-" or ("=" in text and not text.startswith("-"))):
            rest.pop(0)  # `env -` is `env -i`; NAME=value sets a variable
            if text != "-":
                found[text.partition("=")[0]] = text.partition("=")[2]
            continue
        if name == "sudo" and _ASSIGNMENT.match(text):
            rest.pop(0)
            found[text.partition("=")[0]] = text.partition("=")[2]
            continue
        if not text.startswith("-") or text == "-":
            break
        rest.pop(0)
        if text in values and rest:
            rest.pop(0)
        elif name == "nice" and text[1:].lstrip("-").isdigit():
            continue
    if name in _FIRST_OPERAND_IS_ARG and rest:
        rest.pop(0)
    return rest


def _privilege(inv: Invocation) -> Effect:
    return effect(inv, Verb.EXECUTE, Target("privileges", "root"), f"run with {inv.name} privileges",
                  scope=Scope.LOCAL, tags={"privileged"})  # fmt: skip


def _wrapper(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    name = inv.name
    if name == "command" and any(w.text in ("-v", "-V") for w in inv.args[:1]):
        return
    if name == "env":
        split = next(
            (i for i, w in enumerate(inv.args) if w.text in ("-S", "--split-string")), None
        )
        if split is not None and split + 1 < len(inv.args):
            yield from ctx.run_script(
                inv, " ".join(w.text for w in inv.args[split + 1 :]), via="env -S"
            )
            return
    assignments = dict(inv.assignments)  # the wrapped program inherits the wrapper's variables
    inner = _split_options(name, inv.args, assignments)
    if name in _PRIVILEGED:
        yield _privilege(inv)
        if (
            name == "sudo"
            and any(w.text in ("-i", "-s", "--login", "--shell") for w in inv.args)
            and not inner
        ):
            yield effect(inv, Verb.ESCALATE, Target("privileges", "root"), "open a root shell",
                         scope=Scope.LOCAL, tags={"privileged", "root-shell"})  # fmt: skip
    if name == "chroot" and inner:
        inner = inner[1:]
    if name == "env" and not inner and any(w.text in ("-i", "-", "--ignore-environment")
                                           for w in inv.args):  # fmt: skip
        yield effect(inv, Verb.READ, Target("environment", "the variables it sets"),
                     "print an emptied environment: only the variables on its own command line",
                     scope=Scope.LOCAL)  # fmt: skip
        return
    if name == "env" and not inner:
        yield effect(inv, Verb.CREDENTIAL_USE, Target("environment", "all variables"),
                     "print every environment variable, secrets included", scope=Scope.LOCAL,
                     tags={"secret", "env-dump"})  # fmt: skip
        return
    if name == "watch" and len(inner) == 1:
        yield from ctx.run_script(inv, inner[0].text, via="watch")
        return
    if inner:
        yield from ctx.run_argv(inv, inner, via=name, stdin=inv.stdin, assignments=assignments)


def _su(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    yield _privilege(inv)
    words = list(inv.args)
    for i, word in enumerate(words):
        if word.text in ("-c", "--command") and i + 1 < len(words):
            yield from ctx.run_script(inv, words[i + 1].text, via="su -c")
            return
    yield effect(inv, Verb.ESCALATE, Target("privileges", "root"), "open a shell as another user",
                 scope=Scope.LOCAL, tags={"privileged", "root-shell"})  # fmt: skip


# xargs options that take the next word (GNU and BSD); -i, -e and -l take an attached value only.
_XARGS_VALUES = frozenset({"-a", "-d", "-E", "-L", "-n", "-P", "-s", "-R", "-S", "--arg-file",
                           "--delimiter", "--max-args", "--max-procs", "--max-chars", "--max-lines",
                           "--process-slot-var"})  # fmt: skip
MAX_RUNS = 4  # commands analyzed per input: enough to see each kind of line, bounded
_INPUT = "XARGS_INPUT"  # the variable a command string reads xargs' run-time input from


def _unknown_input(inv: Invocation) -> Word:
    """The stand-in for input only known at run time (a pipe, a file not at hand). Lines of a
    process listing (``ps aux | grep nginx | awk '{print $2}' | xargs kill``) stand for the PIDs
    of what it lists, written as the listing's output so that the command can tell."""
    made_by = inv.stdin.made_by
    if made_by and process_listing(made_by) is not None:
        return Word(f"$({made_by})", dynamic=True)
    return Word(f"{{input from {inv.stdin.source or 'a pipe'}}}", dynamic=True)


def _xargs_command(args: Sequence[Word]) -> tuple[list[Word], str, bool]:
    """The command xargs runs, the word its input replaces, and whether one command runs per
    input line (``-I {}``, ``-i``, ``--replace``) rather than all input appended to one command."""
    rest = list(args)
    token, per_line = "", False
    while rest and rest[0].text.startswith("-") and rest[0].text != "-":
        text = rest.pop(0).text
        if text == "--":
            break
        if text in ("-I", "-J") and rest:
            token, per_line = rest.pop(0).text, text == "-I"
        elif text.startswith(("-I", "-J")):
            token, per_line = text[2:], text.startswith("-I")
        elif text.startswith("-i") or text.startswith("--replace"):
            value = text.partition("=")[2] if text.startswith("--") else text[2:]
            token, per_line = value or "{}", True
        elif text in _XARGS_VALUES and rest:
            rest.pop(0)
    return rest, token, per_line


def _xargs(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    command, token, per_line = _xargs_command(inv.args)
    command = command or [Word("echo")]
    text = inv.stdin.text
    source = _unknown_input(inv)
    if per_line:
        lines = [line.strip() for line in text.splitlines() if line.strip()] if text else []
        for fed in [Word(line) for line in lines[:MAX_RUNS]] or [source]:
            words = [_filled(w, token, fed) for w in command]
            # `sh -c 'rm {}'` reads $XARGS_INPUT: the same run-time input as `rm {}` gets
            stand_ins = {_INPUT: fed.text} if fed.dynamic else None
            yield from ctx.run_argv(inv, words, via="xargs", stand_ins=stand_ins)
        return
    items = [Word(item) for item in split_words(text)] if text else [source]
    if token:  # BSD -J: every item in place of the token, in one command
        at = next((i for i, w in enumerate(command) if w.text == token), len(command))
        words = [*command[:at], *items, *command[at + 1 :]]
    else:
        words = [*command, *items]
    yield from ctx.run_argv(inv, words, via="xargs")


def _filled(word: Word, token: str, fed: Word) -> Word:
    """``word`` with xargs' input in place of ``token``. An input only known at run time inside a
    command string (``sh -c 'rm {}'``) becomes ``$XARGS_INPUT``, which the nested script reads as
    a run-time value; inside a path (``/dest/{}.bak``) the known part of the path is kept."""
    if token not in word.text:
        return word
    if word.text == token or not fed.dynamic:
        return fed if word.text == token else Word(word.text.replace(token, fed.text), word.dynamic)
    if any(blank in word.text for blank in " \t\n;|&"):
        return Word(word.text.replace(token, "$" + _INPUT), word.dynamic)
    return Word(word.text.replace(token, "{input}"), dynamic=True)


_PARALLEL_VALUES = frozenset({"-j", "--jobs", "-S", "--sshlogin", "--joblog", "--results", "-I",
                              "--delay", "--timeout", "--retries", "-n", "-N", "--colsep", "-d"})  # fmt: skip


def _parallel(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    sep = next((i for i, w in enumerate(words) if w.text.startswith(":::")), len(words))
    head, values = words[:sep], [w for w in words[sep + 1 :] if not w.text.startswith(":::")]
    while head and head[0].text.startswith("-"):
        text = head.pop(0).text
        if text in _PARALLEL_VALUES and head:
            head.pop(0)
    if not head:  # the arguments are themselves the commands, or the lines of its input
        if sep == len(words):
            yield from _commands_on_stdin(inv, ctx)
            return
        for value in values[:MAX_RUNS]:
            yield from ctx.run_script(inv, value.text, via="parallel")
        return
    fillers = values[:MAX_RUNS] or [_unknown_input(inv)]
    for value in fillers:
        if len(head) == 1 and " " in head[0].text:
            script = (
                head[0].text.replace("{}", value.text)
                if "{}" in head[0].text
                else f"{head[0].text} {value.text}"
            )
            yield from ctx.run_script(inv, script, via="parallel")
        else:
            has_slot = any("{}" in w.text for w in head)
            filled = [  # only the words that receive the input become run-time values
                Word(
                    w.text.replace("{}", value.text),
                    w.dynamic or (value.dynamic and "{}" in w.text),
                )
                for w in head
            ]
            yield from ctx.run_argv(inv, filled if has_slot else [*filled, value], via="parallel")


def _commands_on_stdin(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """``... | parallel``: each line it reads is a command."""
    if inv.stdin.text is None:
        yield unknown(
            inv, f"parallel runs the lines of {inv.stdin.source or 'its input'} as commands"
        )
        return
    for line in [line for line in inv.stdin.text.splitlines() if line.strip()][:MAX_RUNS]:
        yield from ctx.run_script(inv, line, via="parallel")


def _busybox(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    if inv.args:
        yield from ctx.run_argv(inv, inv.args, via="busybox", stdin=inv.stdin)


FAMILIES = (
    CommandFamily.of(set(_VALUE_OPTIONS) | _SIMPLE, _wrapper),
    CommandFamily.of(["su"], _su),
    CommandFamily.of(["xargs", "gxargs"], _xargs),
    CommandFamily.of(["parallel"], _parallel),
    CommandFamily.of(["busybox", "toybox"], _busybox),
)
