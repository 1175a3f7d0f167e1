"""Filters that pass on only part of a variable listing.

``env``, ``printenv``, bare ``set`` and ``export -p`` print every variable, secrets included. Piped
into a filter that keeps only some variables or only their names, the secrets never reach the
agent: ``env | grep ^PATH=`` prints one variable, ``env | cut -d= -f1`` and ``set | awk -F=
'{print $1}'`` print names only, ``env | grep -c HOME`` a count.

A ``grep`` narrows the listing when its one pattern names variables no credential lives under: a
plain name (``PATH``, ``^GOROOT``, ``SSH_CLIENT=``), not one that looks like a secret
(``TOKEN``), nor a credential namespace or a prefix of one (``AWS``, ``GIT``, ``DB``) whose
variables commonly hold keys, nor one or two letters that match nearly any line. Inverted,
context-printing or whole-input matching (``-v``, ``-A``, ``-z``) keep it all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from blastdoor.analyze.commands.secrets import is_secret_variable
from blastdoor.analyze.invocation import Invocation, Word

# The label flows.secret_label gives a stream that carries every variable.
ENVIRONMENT = "the secrets in the environment"

# Prefixes of variables that commonly hold credentials (AWS_SECRET_ACCESS_KEY, GH_TOKEN, PGPASSWORD,
# DB_PASS, SSH_PRIVATE_KEY, TF_VAR_...): a grep for one of them prints those too.
_NAMESPACES = (
    "AWS", "AZURE", "ARM", "GCP", "GOOGLE", "GCLOUD", "GITHUB", "GH", "GITLAB", "BITBUCKET", "NPM",
    "PYPI", "TWINE", "DOCKER", "OPENAI", "ANTHROPIC", "HF", "HUGGINGFACE", "STRIPE", "SLACK",
    "TWILIO", "SENDGRID", "HEROKU", "VERCEL", "NETLIFY", "SUPABASE", "SENTRY", "DATADOG",
    "CLOUDFLARE", "DIGITALOCEAN", "VAULT", "DB", "DATABASE", "POSTGRES", "PG", "MYSQL", "MONGO",
    "REDIS", "SMTP", "SSH", "GPG", "JWT", "OP", "DOPPLER", "TF", "CI", "SECRETS",
)  # fmt: skip
_NAME = re.compile(r"(\^?)(?:\.\*)?([A-Za-z_][A-Za-z0-9_]*)(?:\.\*)?(=?)\$?")

# grep options that take the next word, and the letters that keep every line or another file's.
_GREP_VALUES = frozenset({"-e", "-f", "-m", "-A", "-B", "-C", "-d", "-D", "--regexp", "--file",
                          "--max-count", "--after-context", "--before-context", "--context",
                          "--label", "--binary-files", "--devices", "--directories"})  # fmt: skip
_GREP_WIDENS = frozenset("vABCfrRz")
_GREP_WIDENS_LONG = ("--invert", "--after", "--before", "--context", "--file", "--recursive",
                     "--dereference-recursive", "--null-data")  # fmt: skip
_GREP_SILENT = frozenset("cqlL")  # a count, a yes/no or file names: no line is printed
_STDIN = frozenset({"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"})  # names of the listing
_AWK_UNSAFE = re.compile(r"\$\s*(?!1\b)[\w(]|\bsystem\b|\bgetline\b|[|>]|\bprint\s*(?:[;}]|$)")


def narrows_listing(inv: Invocation) -> bool:
    """Whether ``inv``, reading a listing of every variable, prints only harmless parts of it."""
    if inv.name in ("grep", "egrep", "fgrep", "rg"):
        return _grep_narrows(inv.args)
    if inv.name == "cut":
        return _cut_names(inv.args)
    if inv.name in ("awk", "gawk", "mawk", "nawk"):
        return _awk_names(inv.args)
    return False


def _grep_narrows(args: Sequence[Word]) -> bool:
    patterns: list[str] = []
    operands: list[str] = []
    letters: set[str] = set()
    texts = [w.text for w in args]
    i = 0
    while i < len(texts):
        text = texts[i]
        if text.startswith("--"):
            if text.startswith(_GREP_WIDENS_LONG):
                return False
            if text in ("--count", "--quiet", "--silent", "--files-with-matches"):
                letters.add("c")
            if text in ("--regexp", "-e") and i + 1 < len(texts):
                patterns.append(texts[i + 1])
            elif text.startswith("--regexp="):
                patterns.append(text.split("=", 1)[1])
            i += 2 if text in _GREP_VALUES else 1
            continue
        if text.startswith("-") and len(text) > 1:
            flags = text[1:]
            for index, letter in enumerate(flags):
                if letter in _GREP_WIDENS:
                    return False
                letters.add(letter)
                if letter in "em":  # takes a value: the rest of the word or the next word
                    value = flags[index + 1 :]
                    if not value and i + 1 < len(texts):
                        i += 1
                        value = texts[i]
                    if letter == "e":
                        patterns.append(value)
                    break
            i += 1
            continue
        operands.append(text)
        i += 1
    if not patterns and operands:
        patterns, operands = operands[:1], operands[1:]
    if operands and not _STDIN & set(operands):
        return True  # it reads the files named, not the listing
    if letters & _GREP_SILENT:
        return True
    return len(patterns) == 1 and _harmless_name(patterns[0])


def _harmless_name(pattern: str) -> bool:
    """Whether the lines matching ``pattern`` are variables that hold no credential."""
    match = _NAME.fullmatch(pattern)
    if match is None:
        return False
    anchored, name, ends = match.group(1) == "^", match.group(2), match.group(3) == "="
    if is_secret_variable(name):
        return False
    if anchored and ends:
        return True  # exactly the variable named
    stem = name.upper().rstrip("_")
    return len(stem) >= 3 and not any(space.startswith(stem) for space in _NAMESPACES)


def _cut_names(args: Sequence[Word]) -> bool:
    """``cut -d= -f1``: the part before the first ``=``, the variable's name."""
    texts = [w.text for w in args]
    joined = " ".join(texts).replace("--delimiter=", "-d").replace("--fields=", "-f")
    delimiter = re.search(r"-d\s?(\S)", joined)
    fields = re.search(r"-f\s?(\S+)", joined)
    return bool(delimiter and delimiter.group(1) == "=" and fields and fields.group(1) == "1")


def _awk_names(args: Sequence[Word]) -> bool:
    """``awk -F= '{print $1}'`` (or ``BEGIN {FS="="}``): it prints the names and nothing else."""
    texts = [w.text for w in args]
    separator = ""
    program = ""
    i = 0
    while i < len(texts):
        text = texts[i]
        if text == "-F" and i + 1 < len(texts):
            separator, i = texts[i + 1], i + 2
            continue
        if text.startswith("-F"):
            separator = text[2:]
        elif text.startswith("-"):
            if text in ("-v", "-f") and i + 1 < len(texts):
                i += 1
        elif not program:
            program = text
        elif text not in _STDIN:
            return True  # a file operand: it reads that file, not the listing
        i += 1
    if re.search(r"\bFS\s*=\s*\"=\"", program):
        separator = "="
    return separator == "=" and "{" in program and not _AWK_UNSAFE.search(program)
