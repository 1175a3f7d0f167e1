"""Process listings: which processes the PIDs printed by ``ps``, ``pgrep`` or ``pidof`` stand for.

A kill whose PIDs come from a listing (``kill $(pgrep nginx)``, ``ps aux | grep nginx | awk '{print
$2}' | xargs kill``, a loop over ``$(ps -eo pid,comm | awk '/cron/ {print $1}')``) signals the
processes the listing selects. :func:`process_listing` parses the listing's shell text with
tree-sitter-bash, as the walker does, and reads the names it is filtered by (``pgrep NAME``,
``ps -C NAME``, ``grep NAME``, ``awk '/NAME/'``, ``awk '$2 == "NAME"'``), or no name at all when
nothing narrows it (every process). A stage after the listing can only pass on some of its lines:
one it cannot read (``head``, ``awk '$3 > 50'``, a filter on PIDs) keeps the names known so far,
or, on a listing of every process, leaves which processes are picked to run time (``chosen``).
A script of several commands (``pgrep sshd || true``, ``pgrep a; pgrep b``) prints what each
prints. Only a script whose first stage is no listing (``cat app.pid``) is not one (None): its
kill is judged like any other kill of processes only known at run time.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tree_sitter import Node

from blastdoor.analyze.bash_tree import parse
from blastdoor.analyze.words import split_words, text_of

_QUICK = re.compile(r"\b(ps|pgrep|pidof)\b")
_NOT_WORDS = frozenset({"variable_assignment", "file_redirect", "heredoc_redirect",
                        "herestring_redirect", "comment"})  # fmt: skip
# Stages that reorder, trim or reformat the lines without choosing among the processes.
_PASS = frozenset({"sed", "tail", "cut", "tr", "sort", "uniq", "cat", "column", "tac"})
_GREPS = frozenset({"grep", "egrep", "fgrep", "rg"})
_AWKS = frozenset({"awk", "gawk", "mawk", "nawk"})
# ps options that pick processes by PID, parent, session or terminal: not a listing by name.
_PS_BY_ID = frozenset({"-p", "--pid", "-q", "--quick-pid", "--ppid", "-s", "--sid", "-t", "--tty",
                       "-g", "--Group", "-G"})  # fmt: skip
_PS_VALUED = frozenset({"-o", "-O", "--format", "-k", "--sort", "-u", "-U", "--user", "--User",
                        "-C", "--cols", "--columns", "--rows", "--lines", "-w"})  # fmt: skip
_PGREP_VALUED = frozenset({"-u", "-U", "-g", "-G", "-P", "-s", "-t", "-F", "-d", "--ns",
                           "--nslist", "--euid", "--uid", "--group", "--pgroup", "--parent",
                           "--session", "--terminal", "--pidfile", "--delimiter", "-r",
                           "--runstates", "--signal"})  # fmt: skip


@dataclass(frozen=True)
class Listing:
    """The processes a listing selects: those called one of ``names``, and every process when
    ``every`` (nothing narrows part of it to a name). ``chosen``: a stage Blastdoor cannot read
    (``head``, ``awk '$3 > 50'``) keeps only some of the lines, which of them known at run time."""

    names: tuple[str, ...]
    text: str
    every: bool = False
    chosen: bool = False


@dataclass(frozen=True)
class _Found:
    names: tuple[str, ...] = ()
    every: bool = False
    chosen: bool = False

    def __or__(self, other: _Found) -> _Found:
        return _Found(
            (*self.names, *other.names), self.every or other.every, self.chosen or other.chosen
        )


def process_listing(text: str) -> Listing | None:
    """The listing ``text`` stands for (``$(...)``, ``<(...)``, backticks or a bare script), or
    None when it is not a process listing Blastdoor can read.

    What the script prints is what each of its commands prints: ``$(pgrep sshd || true)`` and
    ``$(pgrep a; pgrep b)`` list what each listing in them lists. A stage after the listing can
    only pass on some of its lines: one Blastdoor cannot read keeps the names known so far."""
    if not _QUICK.search(text):
        return None
    root = parse(text)
    if root.has_error:
        return None
    body = _first_substitution(root) or root
    found = _output(body)
    if found is None:
        return None
    names = tuple(dict.fromkeys(n for n in found.names if n))
    return Listing(names, _inner(body), every=found.every or not names, chosen=found.chosen)


def _inner(body: Node) -> str:
    """The script inside ``body``, without ``$(``, ``<(`` or backticks around it."""
    parts = [child for child in body.named_children if child.type != "comment"]
    if not parts:
        return text_of(body)
    raw = body.text or b""
    start, end = parts[0].start_byte - body.start_byte, parts[-1].end_byte - body.start_byte
    return raw[start:end].decode("utf-8", "replace")


def _output(node: Node) -> _Found | None:
    """What the processes the lines ``node`` prints stand for, or None when none of it is a
    process listing."""
    if node.type in ("command", "redirected_statement"):
        words = _words(node)
        if words is None:  # a redirected loop or group: what its commands print
            body = node.child_by_field_name("body")
            return _output(body) if body is not None else None
        names = _source(words)
        return None if names is None else _Found(tuple(names), every=not names)
    if node.type == "pipeline":
        return _pipeline(node)
    found: _Found | None = None
    for child in node.named_children:
        if child.type in _NOT_WORDS:
            continue
        part = _output(child)
        if part is not None:
            found = part if found is None else found | part
    return found


def _pipeline(node: Node) -> _Found | None:
    """A listing's first stage and what the stages after it keep of its lines."""
    first, *rest = [child for child in node.named_children if child.type != "comment"]
    found = _output(first)
    if found is None:
        return None
    for stage in rest:
        words = _words(stage)
        more = _filter(words) if words is not None else None
        if more is None:
            found = _Found(found.names, found.every, chosen=True)
        elif more:  # narrowed to these names
            found = _Found((*found.names, *more), every=False, chosen=found.chosen)
    return found


def _first_substitution(root: Node) -> Node | None:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in ("command_substitution", "process_substitution"):
            return node
        stack.extend(reversed(node.children))
    return None


def _words(stage: Node) -> list[str] | None:
    """A simple command's words, unquoted, without its assignments and redirects."""
    if stage.type == "redirected_statement":
        body = stage.child_by_field_name("body")
        return _words(body) if body is not None else None
    if stage.type != "command":
        return None
    return [
        word
        for child in stage.named_children
        if child.type not in _NOT_WORDS
        for word in split_words(text_of(child))
    ]


def _program(words: Sequence[str]) -> tuple[str, list[str]]:
    rest = list(words)
    while rest and rest[0] in ("sudo", "command", "builtin", "exec"):
        rest.pop(0)
    return (posixpath.basename(rest[0]) if rest else ""), rest[1:]


def _source(words: Sequence[str]) -> list[str] | None:
    """The names the first stage selects by (empty: every process), or None if it is no listing."""
    program, args = _program(words)
    if program == "pidof":
        return [a for a in args if not a.startswith("-")] or None
    if program == "pgrep":
        return _pgrep(args)
    if program != "ps":
        return None
    names: list[str] = []
    while args:
        arg = args.pop(0)
        option, eq, _ = arg.partition("=")
        if option in _PS_BY_ID or (arg[:2] in ("-p", "-q") and len(arg) > 2):
            return None
        if arg.startswith("-C"):  # -C NAME, -CNAME: by command name
            names += (arg[2:] or (args.pop(0) if args else "")).split(",")
        elif option in _PS_VALUED and not eq and args:
            args.pop(0)
    return names


def _pgrep(args: list[str]) -> list[str] | None:
    pattern, by_user = "", False
    while args:
        arg = args.pop(0)
        if arg in ("-c", "--count", "-v", "--inverse"):  # a count; or every process but these
            return None if arg in ("-c", "--count") else []
        if arg.split("=", 1)[0] in _PGREP_VALUED:
            by_user = by_user or arg.split("=", 1)[0] in ("-u", "-U", "--euid", "--uid")
            if "=" not in arg and args:
                args.pop(0)
        elif not arg.startswith("-"):
            pattern = arg
    if pattern:
        return _pattern_names(pattern)
    return [] if by_user else None


def _filter(words: Sequence[str]) -> list[str] | None:
    """The names a later stage narrows the listing to ([] when it keeps every line it is not
    told to drop), or None when it chooses in a way Blastdoor cannot read."""
    program, args = _program(words)
    if program in _PASS:
        return []
    if program == "xargs":  # joins the lines; with a command it is no longer a listing
        return [] if all(a.startswith("-") or a == "echo" for a in args) else None
    if program in _GREPS:
        return _grep(args)
    if program in _AWKS:
        return _awk(args)
    return None


def _grep(args: list[str]) -> list[str] | None:
    patterns: list[str] = []
    positional: list[str] = []
    inverted = False
    while args:
        arg = args.pop(0)
        if arg.startswith("--"):
            inverted = inverted or arg == "--invert-match"
            if arg.startswith("--regexp="):
                patterns.append(arg.split("=", 1)[1])
            elif arg in ("--regexp", "-e") and args:
                patterns.append(args.pop(0))
            elif arg.startswith("--file"):
                return None
        elif arg.startswith("-") and len(arg) > 1:
            for index, letter in enumerate(arg[1:], start=2):
                inverted = inverted or letter == "v"
                if letter in "efmABCdD":
                    value = arg[index:] or (args.pop(0) if args else "")
                    if letter == "e":
                        patterns.append(value)
                    elif letter == "f":
                        return None
                    break
        else:
            positional.append(arg)
    if not patterns and positional:
        patterns.append(positional.pop(0))
    if positional:  # grep reads files, not the listing
        return None
    if inverted:
        return []
    return [name for p in patterns for name in _pattern_names(p)] or None


_AWK_NEGATED = re.compile(r"!\s*/(?:[^/\\]|\\.)*/|!\s*\(\s*\$\d+\s*~\s*/(?:[^/\\]|\\.)*/\s*\)")
_AWK_REGEX = re.compile(r"/((?:[^/\\]|\\.)+)/")
_AWK_EQUALS = re.compile(r"(?:==|~)\s*\"([^\"]+)\"")
_AWK_LINE_NUMBER = re.compile(r"^\s*F?NR\s*(?:[<>!=]=?)\s*\d+\s*$")


def _awk(args: list[str]) -> list[str] | None:
    program: list[str] = []
    while args:
        arg = args.pop(0)
        if arg in ("-F", "-v") and args:
            args.pop(0)
        elif arg in ("-f", "--file") or arg.startswith("-f"):
            return None
        elif not arg.startswith("-"):
            program.append(arg)
    if len(program) != 1:  # no program, or files to read
        return None
    code = _AWK_NEGATED.sub(" ", program[0])
    names = [*_AWK_REGEX.findall(code), *_AWK_EQUALS.findall(code)]
    if names:
        return [name for text in names for name in _pattern_names(text)]
    condition = code.split("{", 1)[0]
    if (condition.strip() and not _AWK_LINE_NUMBER.match(condition)) or re.search(r"\bif\b", code):
        return None
    return []


def _pattern_names(pattern: str) -> list[str]:
    """``[n]ginx`` → nginx (the trick that keeps grep out of its own results); ``nginx|httpd`` →
    both; ``'nginx: master'`` → nginx, the program whose processes these are."""
    bare = re.sub(r"\[(\w)\]", r"\1", pattern.replace("\\|", "|"))
    names: list[str] = []
    for alternative in bare.split("|"):
        words = re.split(r"[\s:]+", alternative.strip().strip("^$").replace("\\b", ""))
        if words and words[0]:
            names.append(words[0])
    return names
