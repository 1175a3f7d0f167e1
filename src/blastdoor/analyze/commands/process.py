"""Processes, services and the machine itself: kill, killall, pkill, systemctl, service, launchctl,
shutdown, reboot, halt, poweroff, init/telinit, and web servers' own controls (``nginx -s stop``,
``apachectl stop``), which stop the server as ``systemctl stop`` would.

Signalling one process is an ordinary local action. Taking the whole machine down (``kill -9 -1``,
signalling init, ``shutdown``, ``reboot``, killing sshd or every process of a user) is a ``destroy``
of the host tagged ``system-disruption`` (denied by the built-in policy), and so is stopping a unit
the machine or remote access depends on (sshd, networking, dbus). Stopping, disabling or masking
another service is a reversible change on a machine whose environment Blastdoor cannot tell (scope
unknown, so a service on a production host is held); enabling one is persistence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import pairwise

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.commands.persistence import boot_off, persist
from blastdoor.analyze.commands.process_listing import Listing, process_listing
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

DISRUPTION = "system-disruption"
# Processes whose death takes the machine, every shell or remote access with it.
CRITICAL = frozenset({
    "init", "systemd", "launchd", "sshd", "login", "dbus-daemon", "xorg", "windowserver",
    "loginwindow", "networkmanager", "kernel_task", "bash", "zsh", "sh", "getty", "agetty",
    "containerd", "dockerd",
})  # fmt: skip
# Daemons that serve others (web, database, cache, system services): killing one stops that
# service, as ``systemctl stop`` would, on a machine whose environment Blastdoor cannot tell.
SERVICES = frozenset({
    "nginx", "apache2", "httpd", "mysqld", "mariadbd", "postgres", "postmaster", "redis-server",
    "mongod", "memcached", "haproxy", "php-fpm", "cron", "crond", "rsyslogd", "syslogd", "sssd",
    "gdm", "gdm3", "lightdm", "sddm", "cupsd", "bluetoothd", "avahi-daemon", "ntpd", "chronyd",
    "runc", "docker-proxy", "containerd-shim", "docker-containerd-shim", "firewalld", "wpa_supplicant",
})  # fmt: skip
# Units whose stop takes remote access, the network or the machine's plumbing with it.
CRITICAL_UNITS = CRITICAL | frozenset({
    "ssh", "networking", "network", "systemd-networkd", "systemd-resolved", "dbus", "network-manager",
    "wpa_supplicant", "firewalld", "ufw", "nftables", "iptables", "systemd-logind", "systemd-journald",
    "getty@tty1", "serial-getty@ttys0", "multi-user.target", "network.target", "network-online.target",
    "basic.target", "sysinit.target", "default.target",
})  # fmt: skip


def machine(inv: Invocation, detail: str) -> Effect:
    """An effect on the whole machine (power, every process): never reversible from inside."""
    return effect(
        inv,
        Verb.DESTROY,
        Target("host", "this machine"),
        detail,
        scope=Scope.LOCAL,
        reversibility=Reversibility.IRREVERSIBLE,
        tags={DISRUPTION},
    )


def _signal(inv: Invocation, target: str, signal: str) -> Effect:
    return effect(
        inv,
        Verb.EXECUTE,
        Target("process", target),
        f"send {signal} to {target}",
        scope=Scope.LOCAL,
    )


def _kill(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    signal, given = "SIGTERM", False
    pids: list[Word] = []
    while words:
        word = words.pop(0)
        text = word.text
        if text == "--" and not pids:
            given = True
            continue
        if pids or given or not text.startswith("-"):
            pids.append(word)
            continue
        if text in ("-l", "-L", "--list", "--help", "--version"):
            yield effect(
                inv, Verb.READ, Target("process", "signals"), "list signal names", scope=Scope.LOCAL
            )
            return
        given = True
        if text in ("-s", "-n", "--signal") and words:
            signal = "SIG" + words.pop(0).text.upper().removeprefix("SIG")
        else:
            signal = "SIG" + text.lstrip("-").upper().removeprefix("SIG")
    if signal in ("SIG0", "SIGZERO"):
        yield effect(
            inv,
            Verb.READ,
            Target("process", "pids"),
            "check that the processes exist (signal 0)",
            scope=Scope.LOCAL,
        )
        return
    for word in pids:
        if word.text == "-1":
            yield machine(
                inv,
                f"send {signal} to every process the user may signal (kill -1): everything stops",
            )
        elif word.text == "1":
            yield machine(
                inv, f"send {signal} to init (PID 1), which brings the whole machine down"
            )
        elif word.dynamic and (listed := process_listing(word.text)) is not None:
            yield from _listed(inv, listed, signal)
        else:
            yield _signal(inv, f"process {word.text}", signal)


def _listed(inv: Invocation, listed: Listing, signal: str) -> Iterator[Effect]:
    """Signalling the PIDs a process listing printed (``$(pgrep NAME)``, ``ps aux | grep NAME``)."""
    if listed.every and listed.chosen:
        # some of every process, chosen at run time (the first few, those over a CPU share):
        # which ones, and so what stops, only the machine can say
        yield effect(inv, Verb.MODIFY, Target("service", f"the processes `{listed.text}` picks"),
                     f"send {signal} to the processes `{listed.text}` picks at run time, which may "
                     "be any on the machine: whatever they serve stops", tags={"service"})  # fmt: skip
    elif listed.every:
        yield machine(
            inv,
            f"send {signal} to every process `{listed.text}` lists (nothing narrows it to a "
            "name): everything stops",
        )
    for name in listed.names:
        yield _by_name(inv, name, signal)


def _by_name(inv: Invocation, name: str, signal: str) -> Effect:
    """Signalling every process called ``name`` (killall, pkill, or PIDs a listing found)."""
    bare = name.strip("^$").lower()
    if bare in CRITICAL or bare in ("", ".", ".*", ".+"):
        return machine(
            inv, f"kill every process matching {name!r}, taking the machine or remote access down"
        )
    if bare in SERVICES or critical_unit(bare):
        return _running(inv, bare, f"kill the processes of {name!r} and so stop", frozenset())
    return _signal(inv, f"every process named {name!r}", signal)


def _killall(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """killall / pkill NAME: every process with that name (or, with -f, command line)."""
    words = list(inv.args)
    valued = {
        *[
        "-u", "-s", "--signal", "-o", "-y", "-g", "-G", "-P", "-t", "-U", "--ns", "-F",
        "--pidfile", "--user", "--older-than", "--younger-than", "--session", "--euid", "--uid",
        "--parent",
    ]
    }  # fmt: skip
    user = ""
    names: list[str] = []
    while words:
        text = words.pop(0).text
        if text in ("-l", "--list", "-V", "--version", "--help"):
            yield effect(
                inv, Verb.READ, Target("process", "signals"), "list signal names", scope=Scope.LOCAL
            )
            return
        if text in valued and words:
            value = words.pop(0).text
            user = value if text in ("-u", "-U", "--user", "--euid", "--uid") else user
        elif not text.startswith("-"):
            names.append(text)
    if inv.name == "killall5" or (not names and user):
        who = f"every process of {user}" if user else "every process"
        yield machine(inv, f"kill {who}, the agent's own shell and session included")
        return
    for name in names:
        yield _by_name(inv, name, f"{inv.name}'s signal")


_SYSTEMCTL_READ = frozenset({
    "status", "show", "cat", "list-units", "list-unit-files", "list-sockets", "list-timers",
    "list-jobs", "list-dependencies", "list-machines", "list-automounts", "list-paths",
    "is-active", "is-enabled", "is-failed", "is-system-running", "help", "get-default",
    "show-environment", "--version", "--help", "-h",
})  # fmt: skip
_SYSTEMCTL_STOP = {
    "stop": "stop",
    "kill": "kill the processes of",
    "mask": "mask",
    "freeze": "freeze",
    "clean": "delete the state, cache or logs of",
    "disable": "disable",
    "revert": "revert",
}
_SYSTEMCTL_POWER = frozenset(
    {"poweroff", "reboot", "halt", "kexec", "rescue", "emergency", "soft-reboot", "default"}
)
_SYSTEMCTL_SLEEP = frozenset(
    {"suspend", "hibernate", "hybrid-sleep", "suspend-then-hibernate", "sleep"}
)
_SYSTEMCTL_PERSIST = frozenset({
    "enable", "link", "preset", "preset-all", "add-wants", "add-requires", "set-default",
    "reenable", "edit",
})  # fmt: skip
_SYSTEMCTL_VALUED = frozenset({
    "-H", "--host", "-M", "--machine", "-t", "--type", "-p", "--property", "--state", "--root",
    "-s", "--signal", "--kill-whom", "--what", "-n", "--lines", "-o", "--output", "--job-mode",
    "--timestamp", "--when",
})  # fmt: skip


def _systemctl(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    host = ""
    operands: list[str] = []
    flags: set[str] = set()
    while words:
        text = words.pop(0).text
        if text in _SYSTEMCTL_VALUED and words:
            value = words.pop(0).text
            host = value if text in ("-H", "--host") else host
        elif text.startswith("-"):
            flags.add(text.split("=", 1)[0])
        else:
            operands.append(text)
    action, units = (operands[0], operands[1:]) if operands else ("list-units", [])
    yield from _service_action(inv, action, units, host=host, now="--now" in flags)


def _service_action(
    inv: Invocation, action: str, units: list[str], *, host: str = "", now: bool = False
) -> Iterator[Effect]:
    extra = frozenset({f"host={host}", "remote"}) if host else frozenset()
    if action in _SYSTEMCTL_READ or action.startswith("list-"):
        yield effect(
            inv,
            Verb.READ,
            Target("service", " ".join(units)),
            f"show the state of {' '.join(units) or 'services'}",
            scope=Scope.LOCAL,
        )
    elif action in _SYSTEMCTL_POWER and _cancelled(inv):
        yield effect(
            inv,
            Verb.EXECUTE,
            Target("host", "this machine"),
            f"cancel a scheduled {action}",
            scope=Scope.LOCAL,
        )
    elif action in _SYSTEMCTL_POWER or (
        action == "isolate"
        and any(
            u.split(".")[0] in ("rescue", "emergency", "poweroff", "reboot", "halt", "shutdown")
            for u in units
        )
    ):
        yield machine(
            inv, f"{action} the machine{' ' + host if host else ''}: every service on it stops"
        )
    elif action in _SYSTEMCTL_SLEEP:
        yield effect(
            inv,
            Verb.MODIFY,
            Target("host", host or "this machine"),
            f"{action} the machine",
            scope=Scope.LOCAL,
            tags={DISRUPTION},
        )
    elif action in _SYSTEMCTL_PERSIST:
        for unit in units or ["(default target)"]:
            yield persist(
                inv,
                Target("service", unit),
                f"make {unit} start automatically ({action})",
                tags=extra,
            )
            if now:
                yield _running(inv, unit, "start", extra)
    elif action in _SYSTEMCTL_STOP:
        for unit in units:
            if action == "disable" and not now:
                off = boot_off(inv, unit, "disable")
                yield replace(off, tags=off.tags | {DISRUPTION}) if critical_unit(unit) else off
            else:
                yield _running(inv, unit, _SYSTEMCTL_STOP[action], extra)
    else:
        for unit in units or [action]:
            yield effect(
                inv,
                Verb.EXECUTE,
                Target("service", unit),
                f"{action} {unit}",
                tags={"service", *extra},
            )


def critical_unit(unit: str) -> bool:
    """Whether stopping ``unit`` takes remote access, the network or the machine down."""
    return unit.removesuffix(".service").lower() in CRITICAL_UNITS


def _running(inv: Invocation, unit: str, how: str, extra: frozenset[str]) -> Effect:
    if how == "start":
        return effect(
            inv, Verb.EXECUTE, Target("service", unit), f"start {unit}", tags={"service", *extra}
        )
    tags = {"service", *extra} | ({DISRUPTION} if critical_unit(unit) else set())
    return effect(
        inv,
        Verb.MODIFY,
        Target("service", unit),
        f"{how} the service {unit}; whatever depends on it stops until it is started again",
        tags=tags,
    )


def _service(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = [w.text for w in inv.args if not w.text.startswith("-")]
    if not words or any(w.text in ("--status-all", "--help", "-h", "--version") for w in inv.args):
        yield effect(inv, Verb.READ, Target("service", "all"), "list services", scope=Scope.LOCAL)
        return
    unit, action = words[0], (words[1] if len(words) > 1 else "status")
    yield from _service_action(
        inv, "stop" if action in ("force-stop", "graceful-stop") else action, [unit]
    )


_LAUNCHCTL_READ = frozenset({
    "list", "print", "print-cache", "print-disabled", "blame", "procinfo", "hostinfo",
    "resolveport", "examine", "version", "help", "managerpid", "manageruid", "managername",
    "error", "getenv", "dumpstate", "dumpjpcategory",
})  # fmt: skip
_LAUNCHCTL_STOP = frozenset({"unload", "remove", "bootout", "disable", "stop", "kill"})


def _launchctl(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = [w.text for w in inv.args]
    action = words[0] if words else "list"
    names = [w for w in words[1:] if not w.startswith("-")] or ["(a launchd job)"]
    if action in _LAUNCHCTL_READ:
        yield effect(
            inv,
            Verb.READ,
            Target("service", " ".join(names)),
            "show launchd jobs",
            scope=Scope.LOCAL,
        )
    elif action == "reboot":
        yield machine(inv, "reboot the machine or its user space (launchctl reboot)")
    elif action in ("load", "bootstrap", "enable", "submit"):
        yield persist(
            inv,
            Target("service", names[-1]),
            f"register {names[-1]} with launchd so it runs at load or log-in",
        )
    elif action in _LAUNCHCTL_STOP:
        for name in names:
            yield _running(inv, name, f"launchctl {action}", frozenset())
    else:
        yield effect(
            inv, Verb.EXECUTE, Target("service", names[-1]), f"launchctl {action}", tags={"service"}
        )


def _power(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    args = {w.text for w in inv.args}
    harmless = (
        {"--help", "--version", "-k", "-c", "/a"}
        if inv.name == "shutdown"
        else {"--help", "-w", "--wtmp-only"}
    )
    if args & harmless or _cancelled(inv):
        yield effect(
            inv,
            Verb.EXECUTE,
            Target("host", "this machine"),
            f"{inv.name}: help, a warning or a cancellation",
            scope=Scope.LOCAL,
        )
        return
    yield machine(
        inv, f"{inv.name}: shut down or restart this machine; every process and service on it stops"
    )


def _cancelled(inv: Invocation) -> bool:
    words = [w.text for w in inv.args]
    return "--when=cancel" in words or any(
        a == "--when" and b == "cancel" for a, b in pairwise(words)
    )


def _init(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    level = inv.args[0].text if inv.args else ""
    if level in ("0", "6", "1", "s", "S", "single"):
        yield machine(
            inv, f"{inv.name} {level}: halt, reboot or drop the machine to single-user mode"
        )
    elif level in ("2", "3", "4", "5"):
        yield effect(
            inv,
            Verb.MODIFY,
            Target("host", "this machine"),
            f"switch the machine to runlevel {level}",
            tags={DISRUPTION},
        )
    elif inv.name == "init" and not level:
        yield ordinary_program(inv)
    else:
        yield ordinary_program(inv, f"{inv.name} {level}")


def _web_server(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """``nginx -s stop|quit`` and ``apachectl stop|graceful-stop`` (or ``-k stop``) stop the server;
    reloads, starts and config tests are ordinary actions."""
    words = [w.text for w in inv.args]
    signal = next((b for a, b in pairwise(words) if a in ("-s", "-k")), "")
    action = signal or next((w for w in words if not w.startswith("-")), "")
    server = "nginx" if inv.name == "nginx" else "apache"
    if action in ("stop", "quit", "graceful-stop"):
        yield _running(inv, server, "stop", frozenset())
    else:
        yield effect(inv, Verb.EXECUTE, Target("service", server), f"{inv.name} {action}".strip(),
                     scope=Scope.LOCAL)  # fmt: skip


FAMILIES = (
    CommandFamily.of(["nginx", "apachectl", "apache2ctl"], _web_server),
    CommandFamily.of(["kill"], _kill),
    CommandFamily.of(["killall", "pkill", "killall5"], _killall),
    CommandFamily.of(["systemctl"], _systemctl),
    CommandFamily.of(["service"], _service),
    CommandFamily.of(["launchctl"], _launchctl),
    CommandFamily.of(["shutdown", "reboot", "halt", "poweroff"], _power),
    CommandFamily.of(["init", "telinit"], _init),
)
