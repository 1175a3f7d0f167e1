"""Making something run again later: crontab, at/batch, update-rc.d, chkconfig, rc-update, and the
:func:`persist` helper the service managers (systemctl enable, launchctl load) use.

What a cron or at job would run is analyzed too when its text is known (a heredoc, ``echo ... |``,
a file in the working directory), so ``echo '* * * * * rm -rf ~' | crontab -`` is judged as
``rm -rf ~`` as well as a new cron job. Writes to rc files and hook files through redirects are
handled by the filesystem family.
"""

from __future__ import annotations

from collections.abc import Iterator

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.invocation import Analysis, Invocation, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb


def persist(
    inv: Invocation, target: Target, detail: str, *, tags: frozenset[str] = frozenset()
) -> Effect:
    """An effect that makes ``target`` run again later (at boot, on a schedule, at log-in)."""
    return effect(inv, Verb.PERSIST, target, detail, tags={"persistence", *tags})


def boot_off(inv: Invocation, service: str, how: str) -> Effect:
    """Stopping a service from starting at boot: reversible, on a machine of unknown environment."""
    return effect(
        inv,
        Verb.MODIFY,
        Target("service", service),
        f"{how} {service} so it no longer starts at boot",
        tags={"service"},
    )


def _cron_commands(text: str) -> Iterator[str]:
    """The commands of a crontab: each line after its schedule (5 fields, or one ``@daily``)."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(None, 1 if line.startswith("@") else 5)
        head = fields[0]
        if "=" in head and not line.startswith("@") and not head[:1].isdigit() and head[:1] != "*":
            continue  # MAILTO=..., PATH=...
        if len(fields) == (2 if line.startswith("@") else 6):
            yield fields[-1]


def _job_text(inv: Invocation, ctx: Analysis, source: str | None) -> str | None:
    if source is None or source == "-":
        return inv.stdin.text
    return ctx.read_file(source)


def _crontab(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    user = "the current user"
    flags: list[str] = []
    operands: list[str] = []
    while words:
        text = words.pop(0).text
        if text == "-u" and words:
            user = words.pop(0).text
        elif text.startswith("-") and text != "-":
            flags += [f"-{letter}" for letter in text[1:]]
        else:
            operands.append(text)
    target = Target("crontab", user)
    if "-l" in flags or "-T" in flags:
        yield effect(inv, Verb.READ, target, f"list the cron jobs of {user}", scope=Scope.LOCAL)
    elif "-r" in flags:
        yield effect(
            inv,
            Verb.DELETE,
            target,
            f"delete every cron job of {user}; crontab -r keeps no copy",
            reversibility=Reversibility.IRREVERSIBLE,
            tags={"crontab"},
        )
    elif "-e" in flags:
        yield persist(
            inv, target, f"edit the cron jobs of {user}; what they will run is typed in an editor"
        )
    else:
        source = operands[0] if operands else None
        named = "standard input" if source in (None, "-") else source
        yield persist(
            inv,
            target,
            f"replace every cron job of {user} with those in {named}; they run on a "
            "schedule from now on",
        )
        job = _job_text(inv, ctx, source)
        for command in _cron_commands(job or ""):
            yield from ctx.run_script(inv, command, via="cron job")


_AT_VALUED = frozenset({"-f", "-q", "-t"})


def _at(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    source: str | None = None
    flags: set[str] = set()
    when: list[str] = []
    while words:
        text = words.pop(0).text
        if text in _AT_VALUED and words:
            value = words.pop(0).text
            source = value if text == "-f" else source
        elif text.startswith("-"):
            flags.update(f"-{letter}" for letter in text[1:])
        else:
            when.append(text)
    target = Target("scheduled-job", " ".join(when) or inv.name)
    if flags & {"-l", "-c", "-V"}:
        yield effect(inv, Verb.READ, target, "list or show scheduled jobs", scope=Scope.LOCAL)
        return
    if flags & {"-r", "-d"}:
        yield effect(inv, Verb.EXECUTE, target, "remove scheduled jobs", scope=Scope.LOCAL)
        return
    yield persist(
        inv, target, f"schedule commands to run later ({' '.join(when) or 'when the load allows'})"
    )
    job = _job_text(inv, ctx, source)
    if job is not None:
        yield from ctx.run_script(inv, job, via=f"{inv.name} job")


def _atq(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    verb = Verb.READ if inv.name == "atq" else Verb.EXECUTE
    yield effect(
        inv,
        verb,
        Target("scheduled-job", inv.name),
        f"{inv.name}: list or remove scheduled jobs",
        scope=Scope.LOCAL,
    )


_BOOT_ON = frozenset({"defaults", "enable", "start", "on", "add", "--add", "defaults-disabled"})
_BOOT_OFF = frozenset({"remove", "disable", "stop", "off", "del", "delete", "--del"})


def _boot_scripts(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """update-rc.d NAME defaults, chkconfig NAME on / --add NAME, rc-update add NAME."""
    words = [w.text for w in inv.args]
    if not words or set(words) & {"-n", "--list", "show", "-l", "--help", "-h"}:
        yield effect(
            inv,
            Verb.READ,
            Target("service", " ".join(words)),
            "list boot services",
            scope=Scope.LOCAL,
        )
        return
    action = next((w for w in words if w in _BOOT_ON | _BOOT_OFF), "")
    names = [
        w
        for w in words
        if not w.startswith("-") and w not in _BOOT_ON | _BOOT_OFF and not w.isdigit()
    ]
    service = names[0] if names else "(a service)"
    if action in _BOOT_ON:
        yield persist(inv, Target("service", service), f"make {service} start at every boot")
    elif action in _BOOT_OFF:
        yield boot_off(inv, service, f"{inv.name} {action}")
    else:
        yield effect(
            inv,
            Verb.READ,
            Target("service", service),
            f"show the boot settings of {service}",
            scope=Scope.LOCAL,
        )


FAMILIES = (
    CommandFamily.of(["crontab"], _crontab),
    CommandFamily.of(["at", "batch"], _at),
    CommandFamily.of(["atq", "atrm"], _atq),
    CommandFamily.of(["update-rc.d", "chkconfig", "rc-update"], _boot_scripts),
)
