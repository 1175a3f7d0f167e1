"""Process listings: which processes the PIDs printed by ``ps``, ``pgrep`` or ``pidof`` stand for.

A kill whose PIDs come from a listing (``kill $(pgrep nginx)``, ``ps aux | grep nginx | awk '{print
$2}' | xargs kill``, a loop over ``$(ps -eo pid,comm | awk '/cron/ {print $1}')``) signals the
processes the listing selects. :func:`process_listing` parses the listing's shell text with
tree-sitter-bash, as the walker does, and reads the names it is filtered by (``pgrep NAME``,
``ps -C NAME``, ``grep NAME``, ``awk '/NAME/'``, ``awk '$2 == "NAME"'``), or no name at all when
nothing narrows it (every process). A stage it cannot read (``head``, ``awk '$3 > 50'``, a filter
on PIDs) makes the listing unreadable (None): the kill is then judged like any other kill of
processes only known at run time.
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
    """The processes a listing selects: by these names, or every process when there are none."""

    names: tuple[str, ...]
    text: str

    @property
    def every(self) -> bool:
        return not self.names


def process_listing(text: str) -> Listing | None:
    """The listing ``text`` stands for (``$(...)``, ``<(...)``, backticks or a bare pipeline), or
    None when it is not a process listing Blastdoor can read."""
    if not _QUICK.search(text):
        return None
    found = _pipeline(parse(text))
    if found is None:
        return None
    inner, stages = found
    names = _source(stages[0])
    if names is None:
        return None
    for stage in stages[1:]:
        more = _filter(stage)
        if more is None:
            return None
        names = [*names, *more]
    return Listing(tuple(dict.fromkeys(n for n in names if n)), inner)


def _pipeline(root: Node) -> tuple[str, list[list[str]]] | None:
    """The text and the stages' words of the one pipeline ``root`` lists processes with: the body
    of its first ``$(...)``, ``<(...)`` or backticks, or else the whole script. None when that is
    not one pipeline of simple commands (``a; b``, ``a && b``, a loop) or does not parse."""
    if root.has_error:
        return None
    body = _first_substitution(root) or root
    statements = [child for child in body.named_children if child.type != "comment"]
    if len(statements) != 1:
        return None
    statement = statements[0]
    parts = statement.named_children if statement.type == "pipeline" else [statement]
    stages = [_words(part) for part in parts]
    if any(stage is None for stage in stages):
        return None
    return text_of(statement), [stage for stage in stages if stage is not None]


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
