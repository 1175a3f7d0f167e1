"""The machine's firewall and network interfaces: iptables, nft, ufw, firewall-cmd, ip, route,
ifconfig, ifdown.

Listing rules or addresses reads. Flushing every firewall rule, setting a chain's default policy,
dropping all traffic (``--panic-on``), turning the firewall off, taking an interface down,
flushing its addresses, routes or routing rules or deleting the default route cuts the machine off
(or opens it up) at once: a change tagged ``system-disruption``. Any other rule, address or route
change is a ``system-config`` change of this host. ``ip -batch FILE`` runs each line of FILE as an
ip command: each is judged, or the whole is unknown when FILE cannot be read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect, unknown
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

DISRUPTION = "system-disruption"
CONFIG = "system-config"


def _read(inv: Invocation, what: str) -> Effect:
    return effect(inv, Verb.READ, Target("host-network", what), f"show {what}", scope=Scope.LOCAL)


def _change(inv: Invocation, what: str, detail: str, *, disrupts: bool) -> Effect:
    """A change of this machine's network: reversible by hand, unless it cuts the machine off."""
    return effect(
        inv,
        Verb.MODIFY,
        Target("host-network", what),
        detail,
        scope=Scope.LOCAL,
        reversibility=Reversibility.IRREVERSIBLE if disrupts else Reversibility.REVERSIBLE,
        tags={DISRUPTION if disrupts else CONFIG, "network"},
    )


# iptables(8), COMMANDS: the upper-case options; every other option is a rule match or a flag.
_IPT_COMMANDS = frozenset("ACDIRLSFZNXPE")
_IPT_READS = frozenset("LSC")
_IPT_DISRUPTS = {
    "F": "flush every rule",
    "X": "delete the user chains",
    "P": "set a default policy",
}
_IPT_LONG = {
    "--flush": "F", "--delete-chain": "X", "--policy": "P", "--list": "L", "--list-rules": "S",
    "--check": "C", "--append": "A", "--insert": "I", "--delete": "D", "--replace": "R",
    "--new-chain": "N", "--rename-chain": "E", "--zero": "Z",
}  # fmt: skip


def _iptables(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    args = [w.text for w in inv.args]
    if inv.name.endswith("-save") or any(a in ("-h", "--help", "-V", "--version") for a in args):
        yield _read(inv, "the firewall rules")
        return
    if inv.name.endswith("-restore"):
        testing = any(a in ("-t", "--test") for a in args)
        yield (
            _read(inv, "a firewall rule file")
            if testing
            else _change(
                inv,
                "firewall",
                "replace every firewall rule with the ones in a file",
                disrupts=False,
            )
        )
        return
    commands = [_IPT_LONG.get(a, "") for a in args if a.startswith("--")]
    commands += [
        c
        for a in args
        if a.startswith("-") and not a.startswith("--")
        for c in a[1:]
        if c.isupper()
    ]
    found = [c for c in commands if c in _IPT_COMMANDS]
    disrupting = [c for c in found if c in _IPT_DISRUPTS]
    if disrupting:
        what = ", ".join(_IPT_DISRUPTS[c] for c in disrupting)
        yield _change(
            inv, "firewall", f"{inv.name}: {what}; traffic is cut off or let through", disrupts=True
        )
    elif found and all(c in _IPT_READS for c in found):
        yield _read(inv, "the firewall rules")
    elif found:
        yield _change(
            inv, "firewall", f"change this machine's firewall rules ({inv.name})", disrupts=False
        )
    else:
        yield _read(inv, "the firewall rules")


_NFT_READS = frozenset({"list", "monitor", "describe", "help", "-c", "--check"})


def _nft(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = [w.text for w in inv.args if not w.text.startswith("-")]
    flags = {w.text for w in inv.args if w.text.startswith("-")}
    if flags & {"-c", "--check", "-h", "--help", "-v", "--version"} or (
        words[:1] and words[0] in _NFT_READS
    ):
        yield _read(inv, "the nftables rules")
    elif words[:1] in (["flush"], ["delete"]) and words[1:2] in (["ruleset"], ["table"]):
        yield _change(
            inv, "firewall", f"nft {' '.join(words[:2])}: every rule in it is gone", disrupts=True
        )
    elif words or flags & {"-f", "--file"}:
        yield _change(inv, "firewall", "change this machine's nftables rules", disrupts=False)
    else:
        yield _read(inv, "the nftables rules")


_UFW_READS = frozenset({"status", "show", "app", "version", "help", "--help", "--version"})


def _ufw(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = [w.text for w in inv.args if w.text not in ("--dry-run", "--force", "-f")]
    action = words[0] if words else "status"
    if "--dry-run" in (w.text for w in inv.args) or action in _UFW_READS:
        yield _read(inv, "the firewall")
    elif action in ("disable", "reset"):
        yield _change(
            inv, "firewall", f"ufw {action}: the firewall stops filtering traffic", disrupts=True
        )
    else:
        yield _change(
            inv, "firewall", f"change this machine's firewall (ufw {action})", disrupts=False
        )


def _firewall_cmd(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    options = [w.text.split("=", 1)[0] for w in inv.args if w.text.startswith("--")]
    if "--panic-on" in options:
        yield _change(
            inv, "firewall", "firewall-cmd --panic-on: all traffic is dropped", disrupts=True
        )
    elif options and all(
        o.startswith(("--list", "--get", "--query", "--info")) or o in _FWCMD_READS for o in options
    ):
        yield _read(inv, "the firewall")
    elif options:
        yield _change(
            inv, "firewall", "change this machine's firewall (firewall-cmd)", disrupts=False
        )
    else:
        yield _read(inv, "the firewall")


_FWCMD_READS = frozenset(
    {"--state", "--check-config", "--help", "--version", "--zone", "--permanent"}
)
# ip's options in the order ip/ip.c tries them; the first one a word abbreviates is taken. The
# address family letters (-4, -6, -0 ...) are matched whole.
_IP_OPTIONS = (
    "-loops", "-family", "-human", "-human-readable", "-iec", "-stats", "-statistics", "-details",
    "-resolve", "-oneline", "-timestamp", "-tshort", "-Version", "-force", "-batch", "-brief",
    "-json", "-pretty", "-rcvbuf", "-color", "-help", "-netns", "-Numeric", "-all", "-echo",
)  # fmt: skip
_IP_EXACT = frozenset({"-4", "-6", "-0", "-I", "-D", "-M", "-B"})
_IP_VALUED = frozenset({"-loops", "-family", "-batch", "-rcvbuf", "-netns"})
# ip(8) takes any prefix of an object or a command and picks the first match in its own order
# (``ip r g`` is ``ip route get``, ``ip m`` is ``ip maddress``, ``ip mo`` is ``ip monitor``).
_IP_OBJECTS = (
    "address", "addrlabel", "maddress", "route", "rule", "neighbour", "neighbor", "ntable", "ntbl",
    "link", "l2tp", "fou", "ila", "macsec", "tunnel", "tuntap", "tap", "token", "tcpmetrics",
    "tcp_metrics", "monitor", "xfrm", "mroute", "mrule", "netns", "netconf", "vrf", "sr",
    "nexthop", "mptcp", "ioam", "stats", "help",
)  # fmt: skip
_IP_READ_OBJECTS = frozenset({"monitor", "help"})
# Each object's commands in the order ip tries them (iproute2's do_ipaddr, do_iproute, do_iplink
# ...): ``ip a s`` is ``show`` but ``ip l s`` is ``set``. An object not listed here is read with
# "set" first, so that an ambiguous prefix counts as the change.
_IP_LISTING = ("show", "list", "lst", "get", "showdump", "save", "help")
_IP_ORDERS = {
    "addr": ("add", "change", "chg", "replace", "delete", "flush", *_IP_LISTING, "restore"),
    "route": ("add", "change", "chg", "replace", "prepend", "append", "test", "delete", "flush",
              *_IP_LISTING, "restore"),
    "neighbour": ("add", "change", "chg", "replace", "delete", *_IP_LISTING, "flush"),
    "rule": ("add", "delete", "flush", *_IP_LISTING, "restore"),
    "maddress": ("add", "delete", *_IP_LISTING),
    "tuntap": ("add", "delete", *_IP_LISTING),
    "tap": ("add", "delete", *_IP_LISTING),
    "addrlabel": ("add", "delete", "flush", *_IP_LISTING),
    "netconf": _IP_LISTING,
}  # fmt: skip
_IP_SET_FIRST = ("add", "set", "change", "replace", "delete", "del", "flush", "restore", "update",
                 "exec", "attach", "detach", "identify", "pids", *_IP_LISTING, "monitor")  # fmt: skip


def _ip(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    options = _ip_options(inv.args)
    if options.exits:
        yield _read(inv, "ip's version or usage")
        return
    if options.batch is not None:
        yield from _ip_batch(inv, ctx, options.batch)
        return
    words = options.operands
    obj = words[0] if words else ""
    kind = _ip_object(obj) if obj else ""
    if kind is None:
        # ip refuses an object it does not know ("Object ... is unknown"): nothing changes
        yield effect(inv, Verb.READ, Target("host-network", f"ip {obj}"),
                     f"ip has no object {obj!r}: it refuses the command", scope=Scope.LOCAL)  # fmt: skip
        return
    command = _ip_command(kind, words[1] if len(words) > 1 else "show")
    if kind in ("netns", "vrf") and command == "exec":
        # ip netns exec NAME CMD (ip -all netns exec CMD: in each namespace), ip vrf exec NAME
        # CMD: CMD runs, in that namespace or VRF, with ip's environment
        skip = 2 if kind == "netns" and options.all else 3
        inner = inv.args[options.start + skip :]
        if inner:
            yield from ctx.run_argv(inv, inner, via=f"ip {kind} exec", stdin=inv.stdin,
                                    assignments=dict(inv.assignments))  # fmt: skip
            return
    if not kind or kind in _IP_READ_OBJECTS or command in _IP_LISTING or command == "monitor":
        yield _read(inv, f"ip {kind}".strip())
        return
    down = kind == "link" and command == "set" and "down" in words
    flush = kind in ("addr", "route", "rule") and command == "flush"
    default = kind == "route" and command == "delete" and "default" in words[2:3]
    if down or flush or default:
        yield _change(
            inv,
            " ".join(words[:3]),
            f"ip {' '.join(words)}: the machine loses its network",
            disrupts=True,
        )
    else:
        yield _change(
            inv,
            " ".join(words[:3]),
            f"change this machine's network (ip {kind} {command})",
            disrupts=False,
        )


def _ip_command(kind: str, word: str) -> str:
    """The command ip runs for ``word`` on the object ``kind``: the first in its order that
    ``word`` abbreviates, or the word itself when none does."""
    order = _IP_ORDERS.get(kind, _IP_SET_FIRST)
    return next((full for full in order if full.startswith(word)), word) if word else "show"


@dataclass(frozen=True)
class _IpOptions:
    operands: list[str]
    batch: str | None  # -batch FILE: the file (or - for standard input) whose commands ip runs
    exits: bool  # -Version or -help: ip prints and exits before anything else
    start: int = 0  # where the operands start in ip's arguments
    all: bool = False  # -all: netns exec runs its command in every namespace


def _ip_options(args: Sequence[Word]) -> _IpOptions:
    """Read ip's options as ip(8) does (iproute2 ip/ip.c): up to the first word not starting with
    ``-``, or ``--``; ``--name`` is ``-name``; a word is the first option in :data:`_IP_OPTIONS`
    it abbreviates (``-b`` and ``-ba`` are ``-batch``, ``-br`` is ``-brief``, ``-f`` is
    ``-family``)."""
    texts = [word.text for word in args]
    batch: str | None = None
    every = False
    i = 0
    while i < len(texts) and texts[i].startswith("-"):
        text = texts[i]
        i += 1
        if text == "--":
            break
        option = text[1:] if text.startswith("--") else text
        if option in _IP_EXACT:
            continue
        name = next((n for n in _IP_OPTIONS if n.startswith(option)), "")
        if name in ("-Version", "-help"):
            return _IpOptions([], None, exits=True)
        every = every or name == "-all"
        if name in _IP_VALUED:
            if name == "-batch" and i < len(texts):
                batch = texts[i]
            i += 1
    return _IpOptions(texts[i:], batch, exits=False, start=i, all=every)


def _ip_batch(inv: Invocation, ctx: Analysis, source: str) -> Iterator[Effect]:
    """``ip -batch FILE``: each line of FILE (``-``: standard input) is an ip command."""
    text = inv.stdin.text if source == "-" else ctx.read_file(source)
    where = (inv.stdin.source or "standard input") if source == "-" else f"the file {source}"
    lines = None if text is None else _ip_batch_lines(text)
    if lines is None:
        yield unknown(inv, f"ip runs the commands in {where}, which Blastdoor cannot read")
        return
    for words in lines:
        # a line is an object and its command: ip reads no options there (-- says so)
        yield from ctx.run_argv(inv, [Word(w) for w in ("ip", "--", *words)], via="ip -batch")


def _ip_batch_lines(text: str) -> list[list[str]] | None:
    """The commands of an ip batch file, split as ip splits them: ``#`` ends a line, a ``\\`` at
    its end joins the next, a word may be quoted with ``'`` or ``"``; None when a quote is left
    open (ip stops there with an error, after running the lines before it)."""
    commands: list[list[str]] = []
    pending = ""
    for raw in text.splitlines():
        line, hash_, _ = raw.partition("#")
        if not hash_ and line.endswith("\\"):
            pending += line[:-1]
            continue
        words = _ip_split(pending + line)
        pending = ""
        if words is None:
            return None
        if words:
            commands.append(words)
    words = _ip_split(pending)
    if words is None:
        return None
    return commands + ([words] if words else [])


def _ip_split(line: str) -> list[str] | None:
    words: list[str] = []
    rest = line.lstrip(" \t\r")
    while rest:
        if rest[0] in "'\"":
            end = rest.find(rest[0], 1)
            if end < 0:
                return None
            words.append(rest[1:end])
            rest = rest[end + 1 :]
        else:
            word, _, rest = rest.replace("\t", " ").replace("\r", " ").partition(" ")
            words.append(word)
        rest = rest.lstrip(" \t\r")
    return words


def _ip_object(obj: str) -> str | None:
    """``ip``'s object for a word that may abbreviate it (``a``, ``addr``, ``r``, ``ro``, ``l``);
    None for a word ip does not know."""
    for full in _IP_OBJECTS:
        if full.startswith(obj):
            return {"address": "addr", "neighbor": "neighbour"}.get(full, full)
    return None


_ROUTE_READS = frozenset({"get", "monitor", "show", "print"})
_DEFAULT_ROUTES = frozenset({"default", "0.0.0.0", "0.0.0.0/0", "::/0", "-default"})


def _route(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """net-tools', BSD's and Windows' ``route``: listing reads; deleting the default route or
    flushing every route cuts the machine off, as ``ip route del default`` does; adding or
    changing a route is a configuration change."""
    words = [w.text for w in inv.args]
    flags = {w for w in words if w.startswith("-")}
    operands = [w for i, w in enumerate(words) if not w.startswith("-") and words[i - 1 : i] != ["-A"]]
    command, rest = (operands[0].lower(), operands[1:]) if operands else ("", [])
    if command == "flush" or (not command and "-f" in flags):
        yield _change(inv, "routes", "remove every route: the machine loses its network",
                      disrupts=True)  # fmt: skip
    elif not command or command in _ROUTE_READS or flags & {"-h", "--help", "-V", "--version"}:
        yield _read(inv, "the routing table")
    elif command in ("del", "delete") and _DEFAULT_ROUTES & {w.lower() for w in rest + words}:
        yield _change(inv, "route default", "delete the default route: the machine loses its "
                      "network beyond the local link", disrupts=True)  # fmt: skip
    else:
        target = " ".join(rest[:1]) or "a route"
        yield _change(inv, f"route {target}", f"change this machine's routes (route {command} "
                      f"{target})", disrupts=False)  # fmt: skip


def _ifconfig(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = [w.text for w in inv.args if not w.text.startswith("-")]
    if len(words) < 2:
        yield _read(inv, "the network interfaces")
    elif "down" in words[1:]:
        yield _change(inv, words[0], f"take the interface {words[0]} down", disrupts=True)
    else:
        yield _change(inv, words[0], f"change the interface {words[0]}", disrupts=False)


def _ifupdown(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    names = [w.text for w in inv.args if not w.text.startswith("-")] or ["every interface"]
    if any(w.text in ("-h", "--help", "-V", "--version", "-n", "--no-act") for w in inv.args):
        yield _read(inv, "the network interfaces")
    elif inv.name == "ifdown":
        yield _change(inv, names[0], f"take {', '.join(names)} down", disrupts=True)
    else:
        yield _change(inv, names[0], f"bring {', '.join(names)} up", disrupts=False)


_IPTABLES = [
    f"{family}tables{variant}"
    for family in ("ip", "ip6", "eb", "arp")
    for variant in (
        "",
        "-legacy",
        "-nft",
        "-save",
        "-restore",
        "-legacy-save",
        "-legacy-restore",
        "-nft-save",
        "-nft-restore",
    )  # fmt: skip
]

FAMILIES = (
    CommandFamily.of(_IPTABLES, _iptables),
    CommandFamily.of(["nft"], _nft),
    CommandFamily.of(["ufw"], _ufw),
    CommandFamily.of(["firewall-cmd"], _firewall_cmd),
    CommandFamily.of(["ip"], _ip),
    CommandFamily.of(["route"], _route),
    CommandFamily.of(["ifconfig"], _ifconfig),
    CommandFamily.of(["ifdown", "ifup"], _ifupdown),
)
