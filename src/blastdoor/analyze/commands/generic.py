"""Programs with no family of their own: readers, harmless builtins, and everything else.

A program Blastdoor has no model for is an ordinary local ``execute``; it is not ``execute-unknown``,
which is kept for what Blastdoor truly cannot see (a computed program name, a script that is not
there, text that does not parse).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from blastdoor.analyze import paths
from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.invocation import Analysis, Invocation, effect
from blastdoor.model import Effect, Scope, Target, Verb

SILENT = frozenset({
    "true", "false", ":", "test", "[", "[[", "cd", "pushd", "popd", "pwd", "sleep",
    "exit", "return", "unset", "shift", "read", "wait", "local", "shopt", "trap", "break", "continue", "hash", "type", "which", "whereis", "whoami",
    "id", "date", "uname", "hostname", "seq", "yes", "clear", "tput", "basename", "dirname",
    "realpath", "readlink", "expr", "let", "umask", "ulimit", "getopts", "history", "jobs", "fg",
    "bg", "disown", "dirs", "help", "logout", "times", "caller", "enable", "mapfile", "readarray",
    "compgen", "complete", "bind", "fc", "suspend", "tty", "nproc", "arch", "groups", "users",
    "uptime", "cal", "bc", "dc", "factor", "mktemp",
})  # fmt: skip

READERS = frozenset({
    "cat", "tac", "less", "more", "head", "tail", "grep", "egrep", "fgrep", "rg", "ag", "ack", "ls",
    "ll", "dir", "wc", "sort", "uniq", "cut", "paste", "join", "comm", "column", "nl", "fold", "fmt",
    "tr", "jq", "yq", "diff", "cmp", "stat", "file", "du", "df", "tree", "strings", "od", "hexdump",
    "xxd", "base64", "base32", "md5sum", "sha1sum", "sha256sum", "sha512sum", "shasum", "cksum",
    "b2sum", "iconv", "look", "zcat", "zless", "zgrep", "bzcat", "xzcat", "lsof", "ps", "top", "htop",
    "free", "vmstat", "iostat", "netstat", "ss", "ping", "dig", "nslookup", "host",
    "traceroute", "tracepath", "whois", "env", "printenv", "locate", "bat", "fd", "fzf", "man", "info",
    "apropos", "lsblk", "blkid", "findmnt", "mount", "journalctl", "dmesg", "w", "who", "last",
    "lscpu", "lsusb", "lspci", "getent", "expand", "unexpand", "split", "csplit", "rev", "shuf",
    "numfmt", "pr", "ptx", "tsort", "sum", "sed", "gsed", "awk", "gawk", "mawk", "nawk", "vim", "vi",
    "nano", "emacs", "code", "view", "pgrep", "pidof", "time", "watch",
})  # fmt: skip


def ordinary_program(inv: Invocation, detail: str = "", *, tags: Iterable[str] = ()) -> Effect:
    """Running ``inv``'s program on this machine, with nothing more known about it: a local
    ``execute`` (``detail`` says what it is for, ``run NAME`` when empty)."""
    return effect(inv, Verb.EXECUTE, Target("program", inv.name), detail or f"run {inv.name}",
                  scope=Scope.LOCAL, tags=tags)  # fmt: skip


def _reader(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    for word in inv.args:
        if word.text.startswith("-") or not paths.is_secret_path(word.text):
            continue
        info = paths.path_info(word, ctx)
        yield effect(inv, Verb.CREDENTIAL_USE, Target("secret-file", info.resolved),
                     f"read the secrets in {word.text}", scope=Scope.LOCAL, tags={"secret"})  # fmt: skip


def _silent(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    return iter(())


FAMILIES = (
    CommandFamily.of(SILENT, _silent),
    CommandFamily.of(READERS - SILENT, _reader),
)
