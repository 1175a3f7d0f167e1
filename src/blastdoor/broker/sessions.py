"""What the broker will not start with a production credential: a session instead of a command.

A shell, an interpreter, an environment dump or an interactive database client given a production
secret would hand the agent the secret itself, or a place to run anything without being judged.
The broker runs the program named in argv directly (no shell); so wrappers that run another
program (``sudo``, ``env``, ``xargs``, ``timeout`` ...) are refused too: name the program itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from blastdoor.analyze.commands import shells, wrappers
from blastdoor.analyze.commands.db_sql_clients import CLIENTS as SQL_CLIENTS
from blastdoor.analyze.commands.getopt import split_options
from blastdoor.analyze.invocation import Word

# The analyzer's shells and wrappers, and what only matters when a credential is handed over.
SHELLS = shells.SHELLS | {"busybox", "pwsh", "powershell", "nu", "xonsh", "elvish", "screen", "tmux"}
INTERPRETERS = re.compile(
    r"^(python[0-9.]*|pypy[0-9.]*|ipython[0-9.]*|node(js)?|deno|bun|ruby|irb|perl[0-9.]*|php[0-9.]*|lua(jit)?"
    r"|R|Rscript|julia|jshell|groovy|scala|tclsh|wish|osascript|ghci|erl|iex|elixir|clojure|racket|guile"
    r"|[gmn]?awk|jq|gojq|jaq|yq|sed|gsed|make|gmake|bmake|m4|expect|dc|bc)$"
)  # fmt: skip
# Programs with a way to a shell of their own (editors, pagers, debuggers, file managers).
ESCAPES = frozenset({"vi", "vim", "nvim", "view", "ex", "emacs", "nano", "ed", "less", "more", "most", "man", "pg",
                     "mc", "ranger", "lynx", "w3m", "ftp", "sftp", "telnet", "htop"})  # fmt: skip
# find's actions that run a program for each file found.
FIND_RUNS = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
# A psql -c that is one of these only describes what is there.
_PSQL_DESCRIBE = re.compile(r"\\(d[A-Za-z]*\+?|l\+?|dt\+?|conninfo)(\s+[\w.\"*]+)?\s*")
# mysql's own commands that leave SQL: a shell, a file read, a pager or a copy to a file.
_MYSQL_ESCAPE = re.compile(r"(?im)^\s*(system|source|pager|tee|edit)\b|\\[!.PTe]")
ENV_DUMPS = frozenset({"env", "printenv", "set", "export", "declare", "typeset", "compgen"})
WRAPPERS = wrappers.PROGRAMS | {"xargs", "script", "gdb", "nsenter", "unshare", "parallel", "eval", "source", "."}
# An interactive client is refused unless one of these flags hands it the statement to run.
CLIENTS = {
    "psql": ("-c", "--command", "-f", "--file", "-l", "--list", "-V", "--version"),
    "mysql": ("-e", "--execute", "-V", "--version"),
    "mariadb": ("-e", "--execute", "-V", "--version"),
    "mongo": ("--eval", "--version"),
    "mongosh": ("--eval", "--file", "-f", "--version"),
}


def refusal(argv: Sequence[str]) -> str:
    """Why ``argv`` may not run with a production credential ('' when it may)."""
    program = os.path.basename(argv[0]) if argv else ""
    args = list(argv[1:])
    if program in SHELLS:
        return f"{program} is a shell: the broker runs one named command, not a session"
    if INTERPRETERS.match(program):
        return f"{program} is an interpreter: its code is not judged here; run the command it would run"
    if program in ENV_DUMPS:
        return f"{program} would print or pass on the environment, and with it the credential"
    if program in WRAPPERS:
        return f"{program} runs another program: name that program itself"
    if program in ESCAPES:
        return f"{program} can open a shell of its own: the broker runs one named command, not a session"
    if program == "find" and FIND_RUNS.intersection(args):
        return "find -exec runs another program for each file: name that program itself"
    if any("/environ" in arg for arg in args):
        return "it reads a process environment, and with it the credential"
    if (needed := CLIENTS.get(program)) is not None and (found := _client_refusal(program, needed, args)):
        return found
    if program == "sqlite3" and len([a for a in args if not a.startswith("-")]) < 2:
        return "sqlite3 without a statement is an interactive session: pass the statement after the file"
    if program == "redis-cli" and not [a for a in args if not a.startswith("-")]:
        return "redis-cli without a command is an interactive session: name the command"
    if program == "ssh" and len([a for a in args if not a.startswith("-")]) < 2:
        return "ssh without a remote command is a login session"
    if program in ("kubectl", "docker", "podman") and _interactive(args):
        return f"{program} {args[0]} with a terminal attached is an interactive session"
    return ""


def _client_refusal(program: str, needed: tuple[str, ...], args: list[str]) -> str:
    """Why an interactive client is a session here: no statement handed to it, or statements that
    make it leave SQL. A SQL client's options are read as its own parser reads them (``psql -Atc
    SQL`` is ``-A -t -c SQL``; in ``psql -U -c`` the ``-c`` is the user's name)."""
    session = f"{program} without a statement is an interactive session: pass the statement with {needed[0]}"
    client = SQL_CLIENTS.get(program)
    if client is None:
        return "" if any(arg.split("=", 1)[0] in needed or _joined(arg, needed) for arg in args) else session
    valued = {*client.sql, *client.files, *client.host, *client.db, *client.url, *client.values}
    options, _ = split_options([Word(arg) for arg in args], valued, client.syntax, optional=client.optional)
    if not any(option.name in (*client.sql, *client.files, *client.lists, "-V", "--version") for option in options):
        return session
    return _client_escape(program, [option.text for option in options if option.name in client.sql])


def _client_escape(program: str, statements: list[str]) -> str:
    """Why ``statements`` would make a SQL client do more than run SQL: psql's meta-commands
    (``\\!`` runs a shell, ``\\o`` and ``\\copy ... program`` write files or run programs) read as
    psql reads them (broker/psql_script.py), a lone describe command excepted; mysql's ``system``,
    ``source``, ``pager``, ``tee`` and ``edit``."""
    import io

    from blastdoor.broker import psql_script
    from blastdoor.broker.errors import BrokerError

    for text in statements:
        if program != "psql":
            if _MYSQL_ESCAPE.search(text):
                return f"{program} would run one of its own commands (system, source, pager, tee, edit, \\!): pass SQL only"
            continue
        if _PSQL_DESCRIBE.fullmatch(text.strip()):
            continue
        try:
            psql_script.check(io.BytesIO(text.encode("utf-8", "surrogateescape")), "-c")
        except BrokerError:
            return "psql would run one of its own commands (\\! runs a shell, \\o and \\copy write files or run programs): pass SQL only"
    return ""


def _joined(arg: str, flags: tuple[str, ...]) -> bool:
    """``-cSELECT 1``: a short flag with its value attached."""
    return any(len(flag) == 2 and arg.startswith(flag) and len(arg) > 2 for flag in flags)


def _interactive(args: list[str]) -> bool:
    if not args or args[0] not in ("exec", "run", "attach", "debug"):
        return False
    return args[0] == "attach" or any(a in ("-it", "-ti", "-i", "--stdin", "--interactive", "--tty", "-t") for a in args)
