"""What a command writes to standard output, when that is fixed by the command line itself.

Used to follow text into the next stage of a pipeline: ``echo 'rm -rf /' | sh``,
``echo cm0gLXJmIC8K | base64 -d | bash``, ``printf '\\x72\\x6d ...' | sh``.
"""

from __future__ import annotations

from collections.abc import Callable

from blastdoor.analyze.invocation import Invocation
from blastdoor.analyze.words import decode_ansi_c, decode_base64, decode_hex


def _echo(inv: Invocation) -> str | None:
    args = list(inv.args)
    escapes = False
    newline = True
    while args and args[0].text in ("-n", "-e", "-E", "-ne", "-en"):
        flag = args.pop(0).text
        escapes = escapes or "e" in flag
        newline = newline and "n" not in flag
    if any(word.dynamic for word in args):
        return None
    text = " ".join(word.text for word in args)
    if escapes:
        text = decode_ansi_c(text)
    return text + ("\n" if newline else "")


def _printf(inv: Invocation) -> str | None:
    args = list(inv.args)
    if args and args[0].text == "--":
        args.pop(0)
    if not args or any(word.dynamic for word in args):
        return None
    fmt, values = decode_ansi_c(args[0].text), [word.text for word in args[1:]]
    if not values:
        return fmt.replace("%%", "%")
    # printf uses the format again for the values left over (`printf '%s\n' a b` prints two lines),
    # with empty strings for the last round's missing ones.
    slots = fmt.count("%s") + fmt.count("%b")
    if not slots:
        return None
    rounds = [values[i : i + slots] for i in range(0, len(values), slots)]
    try:
        return "".join(
            fmt.replace("%b", "%s") % tuple([*chunk, *[""] * (slots - len(chunk))])
            for chunk in rounds
        )
    except (TypeError, ValueError):
        return None


def _cat(inv: Invocation) -> str | None:
    files = [word for word in inv.args if word.text != "-"]
    return inv.stdin.text if not files else None


def _base64(inv: Invocation) -> str | None:
    flags = {word.text for word in inv.args}
    if inv.stdin.text is None or not flags & {"-d", "--decode", "-D", "-di", "-id"}:
        return None
    return decode_base64(inv.stdin.text)


def _xxd(inv: Invocation) -> str | None:
    flags = {word.text for word in inv.args}
    if inv.stdin.text is None or not flags & {"-r", "-rp", "-pr", "-r -p"}:
        return None
    return decode_hex(inv.stdin.text)


def _rev(inv: Invocation) -> str | None:
    if inv.stdin.text is None or inv.args:
        return None
    return "\n".join(line[::-1] for line in inv.stdin.text.split("\n"))


def _which(inv: Invocation) -> str | None:
    names = [word.text for word in inv.args if not word.text.startswith("-")]
    return names[0] if len(names) == 1 else None


def _command_v(inv: Invocation) -> str | None:
    if inv.name == "command" and [w.text for w in inv.args[:1]] != ["-v"]:
        return None
    if inv.name == "type" and not any(w.text in ("-P", "-p") for w in inv.args):
        return None
    return _which(inv)


_PRODUCERS: dict[str, Callable[[Invocation], str | None]] = {
    "echo": _echo,
    "printf": _printf,
    "cat": _cat,
    "base64": _base64,
    "xxd": _xxd,
    "rev": _rev,
    "which": _which,
    "whereis": _which,
    "command": _command_v,
    "type": _command_v,
}


def static_output(inv: Invocation) -> str | None:
    producer = _PRODUCERS.get(inv.name)
    return producer(inv) if producer is not None else None
