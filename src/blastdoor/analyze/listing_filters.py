"""Filters that pass on only a harmless part of a variable listing.

``env``, ``printenv``, bare ``set`` and ``export -p`` print every variable, secrets included. Piped
into a filter that provably keeps no secret-looking variable's value, the secrets never reach the
agent. The filters are read against an allowlist that fails closed: a filter narrows the listing
only when every option it is given is one this module knows to be harmless, it reads no file but
the listing (no operand other than ``-``), no word is known only at run time, and what it keeps is
one of:

* nothing of the lines: a count, a yes/no or the word ``(standard input)`` (``grep -c``, ``-q``,
  ``-l``, ``-L``);
* the lines of variables named in full, anchored and with their ``=``, whose names hold no
  credential (``grep ^PATH=``, ``grep -e ^LANG= -e ^HOME=``). ``grep PATH`` or ``grep ^HOME``
  would also print ``HOMEBREW_GITHUB_API_TOKEN=...`` or a ``DATABASE_URL`` with its password;
Names-only filters (``cut -s -d= -f1``, ``awk -F= '/=/ { print $1 }'``) do not narrow: ``env``
prints a multi-line value (a PEM key) as lines of its own, and a later line holding an ``=`` (the
padded last line of a base64 body) shows everything before it, up to 64 characters of the key.

``rg`` reads options from the file ``RIPGREP_CONFIG_PATH`` names (``--passthru`` prints every
line), so it narrows only with ``--no-config``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from blastdoor.analyze.commands.getopt import GETOPT, Option, split_options
from blastdoor.analyze.commands.secrets import is_secret_variable
from blastdoor.analyze.invocation import Invocation, Word

# The label flows.secret_label gives a stream that carries every variable.
ENVIRONMENT = "the secrets in the environment"

_NAMED_LINE = re.compile(r"\^([A-Za-z_][A-Za-z0-9_]*)=")
# Parts of names that hold a credential though the secret-variable test lets them by (DB_PASS,
# SMTP_PWD, a wallet's SEED or MNEMONIC, a webhook's HMAC).
_CREDENTIAL_PART = re.compile(r"PASS|PWD|SALT|SEED|MNEMONIC|HMAC", re.IGNORECASE)

# GNU grep (and egrep, fgrep): the options that change neither which lines are printed beyond
# the matching ones nor where grep reads from. Everything else (-v, -A/-B/-C/-NUM, -z, -r, -f,
# --include, -d, -D, --binary-files ...) fails closed.
_GREP_SAME = frozenset({
    "-E", "-G", "-P", "--extended-regexp", "--basic-regexp", "--perl-regexp",
    "-i", "-y", "--ignore-case", "--no-ignore-case", "-w", "--word-regexp", "-x", "--line-regexp",
    "-s", "--no-messages", "-H", "-h", "--with-filename", "--no-filename", "-n", "--line-number",
    "-b", "--byte-offset", "-a", "--text", "-U", "--binary", "-T", "--initial-tab", "-Z", "--null",
    "--line-buffered", "-o", "--only-matching", "--color", "--colour", "-m", "--max-count",
    "--label",
})  # fmt: skip
_GREP_SILENT = frozenset({"-c", "--count", "-q", "--quiet", "--silent", "-l",
                          "--files-with-matches", "-L", "--files-without-match"})  # fmt: skip
_GREP_FIXED = frozenset({"-F", "--fixed-strings"})
_GREP_PATTERN = frozenset({"-e", "--regexp"})
_GREP_VALUED = frozenset({"-e", "--regexp", "-m", "--max-count", "--label", "-f", "--file",
                          "-A", "-B", "-C", "--after-context", "--before-context", "--context",
                          "-d", "--directories", "-D", "--devices", "--binary-files", "--include",
                          "--exclude", "--exclude-dir", "--exclude-from", "--group-separator"})  # fmt: skip

# ripgrep: as grep, where its options mean the same (-s is --case-sensitive there).
_RG_SAME = frozenset({
    "--no-config", "-i", "--ignore-case", "-s", "--case-sensitive", "-S", "--smart-case", "-w",
    "--word-regexp", "-x", "--line-regexp", "-n", "--line-number", "-N", "--no-line-number",
    "-H", "--with-filename", "-I", "--no-filename", "-o", "--only-matching", "-m", "--max-count",
    "--color", "--no-messages", "-a", "--text",
})  # fmt: skip
_RG_SILENT = frozenset({"-c", "--count", "--count-matches", "-q", "--quiet", "-l",
                        "--files-with-matches", "--files-without-match"})  # fmt: skip
_RG_VALUED = frozenset({"-e", "--regexp", "-m", "--max-count", "--color", "-f", "--file", "-A",
                        "-B", "-C", "--after-context", "--before-context", "--context", "-g",
                        "--glob", "-t", "--type", "-T", "--type-not", "--pre", "-E",
                        "--encoding", "-r", "--replace", "-j", "--threads", "-M",
                        "--max-columns", "--max-depth", "--path-separator"})  # fmt: skip

def narrows_listing(inv: Invocation) -> bool:
    """Whether ``inv``, reading a listing of every variable, provably prints no secret-looking
    variable's value."""
    if any(word.dynamic for word in inv.args):
        return False
    if inv.name in ("grep", "egrep", "fgrep"):
        return _grep_narrows(inv.args, fixed=inv.name == "fgrep")
    if inv.name == "rg":
        return _rg_narrows(inv.args)
    return False


def _grep_narrows(args: Sequence[Word], *, fixed: bool) -> bool:
    options, operands = split_options(args, _GREP_VALUED, GETOPT)
    return _matcher_narrows(options, operands, _GREP_SAME, _GREP_SILENT, fixed=fixed)


def _rg_narrows(args: Sequence[Word]) -> bool:
    options, operands = split_options(args, _RG_VALUED, GETOPT)
    if not any(option.name == "--no-config" for option in options):
        return False  # RIPGREP_CONFIG_PATH may name more options
    return _matcher_narrows(options, operands, _RG_SAME, _RG_SILENT, fixed=False)


def _matcher_narrows(
    options: Sequence[Option],
    operands: Sequence[Word],
    same: frozenset[str],
    silent: frozenset[str],
    *,
    fixed: bool,
) -> bool:
    """Shared by grep and rg: every option known, no file but the listing, and either no line
    printed or only lines of harmless variables named in full."""
    patterns: list[str] = []
    quiet = False
    for option in options:
        if option.name in _GREP_PATTERN:
            if option.value is None:
                return False
            patterns.append(option.value.text)
        elif option.name in _GREP_FIXED:
            fixed = True  # the pattern is plain text: ^ and = anywhere in a line
        elif option.name in silent:
            quiet = True
        elif option.name not in same:
            return False
    files = list(operands) if patterns else list(operands[1:])
    if not patterns and operands:
        patterns = [operands[0].text]
    if not patterns or any(word.text != "-" for word in files):
        return False
    if quiet:
        return True
    return not fixed and all(_harmless_line(pattern) for pattern in patterns)


def _harmless_line(pattern: str) -> bool:
    """Whether ``pattern`` matches only the line of one variable whose name holds no credential:
    ``^NAME=``. (A pattern with a newline is several patterns, one of them possibly empty.)"""
    match = _NAMED_LINE.fullmatch(pattern)
    if match is None:
        return False
    name = match.group(1)
    if name.upper() in ("PWD", "OLDPWD"):
        return True  # the working directories
    return not is_secret_variable(name) and not _CREDENTIAL_PART.search(name)
