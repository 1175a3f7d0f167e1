"""Programs that run another program: sudo, env, nohup, timeout, nice, xargs, parallel, busybox...

Each strips its own options and hands the wrapped command back to the walker, so ``sudo rm -rf /``
is judged as ``rm -rf /`` (plus the privilege it runs with).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
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
_PRIVILEGED = frozenset({"sudo", "doas", "runuser", "pkexec", "su", "sg", "chroot"})
_SIMPLE = frozenset({
    "nohup", "time", "command", "builtin", "setsid", "unbuffer", "caffeinate", "catchsegv",
    "torsocks", "proxychains", "proxychains4", "firejail", "pkexec", "chroot", "then", "do", "else",
    "noglob", "nocorrect", "sem", "dbus-run-session", "systemd-run", "fakeroot", "eatmydata", "tsp",
})  # fmt: skip
# Every program here that runs another program named on its command line (shell keywords aside).
PROGRAMS = (frozenset(_VALUE_OPTIONS) | _PRIVILEGED | _SIMPLE) - {"then", "do", "else"}


def _split_options(name: str, args: Sequence[Word]) -> list[Word]:
    values = _VALUE_OPTIONS.get(name, frozenset())
    rest = list(args)
    while rest:
        text = rest[0].text
        if text == "--":
            rest.pop(0)
            break
        if name == "env" and "=" in text and not text.startswith("-"):
            rest.pop(0)
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
    inner = _split_options(name, inv.args)
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
    if name == "env" and not inner:
        yield effect(inv, Verb.CREDENTIAL_USE, Target("environment", "all variables"),
                     "print every environment variable, secrets included", scope=Scope.LOCAL,
                     tags={"secret", "env-dump"})  # fmt: skip
        return
    if name == "watch" and len(inner) == 1:
        yield from ctx.run_script(inv, inner[0].text, via="watch")
        return
    if inner:
        yield from ctx.run_argv(inv, inner, via=name, stdin=inv.stdin)


def _su(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    yield _privilege(inv)
    words = list(inv.args)
    for i, word in enumerate(words):
        if word.text in ("-c", "--command") and i + 1 < len(words):
            yield from ctx.run_script(inv, words[i + 1].text, via="su -c")
            return
    yield effect(inv, Verb.ESCALATE, Target("privileges", "root"), "open a shell as another user",
                 scope=Scope.LOCAL, tags={"privileged", "root-shell"})  # fmt: skip


_XARGS_VALUES = frozenset({"-I", "-i", "-n", "-P", "-L", "-l", "-d", "-E", "-e", "-s", "-a", "-R", "-S",
                           "--max-args", "--max-procs", "--delimiter", "--arg-file", "--replace"})  # fmt: skip


def _xargs(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    rest = list(inv.args)
    token = ""
    while rest and rest[0].text.startswith("-"):
        text = rest.pop(0).text
        if text in ("-I", "--replace") and rest:
            token = rest.pop(0).text
        elif text.startswith("-I") and len(text) > 2:
            token = text[2:]
        elif text in _XARGS_VALUES and rest:
            rest.pop(0)
    if not rest:
        return
    items = inv.stdin.text.split()[:4] if inv.stdin.text else []
    feeds = [Word(item) for item in items] or [
        Word(f"{{input from {inv.stdin.source or 'a pipe'}}}", dynamic=True)
    ]
    for fed in feeds:
        words = [fed if w.text == token else w for w in rest] if token else [*rest, fed]
        yield from ctx.run_argv(inv, words, via="xargs")


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
    if not head:  # the arguments are themselves the commands
        for value in values[:4]:
            yield from ctx.run_script(inv, value.text, via="parallel")
        return
    fillers = values[:4] or [Word(f"{{input from {inv.stdin.source or 'a pipe'}}}", dynamic=True)]
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
