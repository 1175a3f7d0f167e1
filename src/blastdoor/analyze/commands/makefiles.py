"""Reading Makefiles and justfiles: which shell lines ``make TARGET`` and ``just RECIPE`` would run.

Only what decides the commands is modelled: variable definitions (``=``, ``:=``, ``?=``, ``+=``),
rules with their prerequisites and recipe lines, ``include``, and the make syntax inside recipe
lines (``@``/``-``/``+`` prefixes, ``$$``, ``$(VAR)``, ``$(shell ...)``, automatic variables). A
variable the file does not define becomes a neutral word (``MAKE_VAR_NAME``), except when its name
is a program Blastdoor knows (``$(PYTHON)``, ``$(KUBECTL)``), which becomes that program.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from blastdoor.analyze.commands import lookup
from blastdoor.analyze.commands.library_calls import names
from blastdoor.analyze.commands.project_tasks import missing
from blastdoor.analyze.commands.verbs import join_path
from blastdoor.analyze.invocation import Analysis, Invocation, effect, unknown
from blastdoor.model import Effect, Scope, Target, Verb

_DEFAULTS = {
    "MAKE": "make", "RM": "rm -f", "CC": "cc", "CXX": "g++", "CPP": "cc -E", "AR": "ar",
    "LD": "ld", "SHELL": "/bin/sh", "CURDIR": ".", "MAKEFLAGS": "", "MFLAGS": "",
    "INSTALL": "install", "MKDIR": "mkdir", "CP": "cp", "MV": "mv", "ECHO": "echo",
}  # fmt: skip
_TRANSPARENT = names(
    """
    strip abspath realpath firstword lastword sort dir notdir
    """
)
_ASSIGN = re.compile(
    r"^(?:export\s+|override\s+)*([A-Za-z_][\w.-]*)\s*(::=|:::=|:=|\?=|\+=|!=|=)\s*(.*)$"
)
_RULE = re.compile(r"^([^:=#\t][^:=#]*?)\s*(::?)(?!=)\s*(.*)$")
_DIRECTIVE = re.compile(
    r"^(ifeq|ifneq|ifdef|ifndef|else|endif|export|unexport|vpath|override|undefine)\b"
)


def make_recipe_to_shell(text: str, variables: Mapping[str, str] | None = None) -> str:
    """Turn make recipe text into the shell text make would hand to ``/bin/sh``.

    Strips the ``@``, ``-`` and ``+`` prefixes of each recipe line (not of the lines a backslash
    continues), turns ``$$`` into ``$``, ``$(shell X)`` into ``$(X)``, and replaces ``$(VAR)`` /
    ``${VAR}`` / ``$@`` with the value from ``variables`` or a neutral word (``MAKE_VAR_NAME``).
    """
    values = dict(variables or {})
    lines = []
    continued = False
    for line in text.split("\n"):
        body = line.lstrip(" \t")
        if not continued:
            prefix = re.match(r"[@+\-\s]*", body)
            body = body[prefix.end() :] if prefix else body
        lines.append(_expand(body, values, 0))
        continued = line.endswith("\\")
    return "\n".join(lines)


def _expand(text: str, values: Mapping[str, str], depth: int) -> str:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char != "$" or pos + 1 >= len(text):
            out.append(char)
            pos += 1
            continue
        nxt = text[pos + 1]
        if nxt == "$":
            out.append("$")
            pos += 2
        elif nxt in "({":
            end = _closing(text, pos + 1)
            out.append(_reference(text[pos + 2 : end], values, depth))
            pos = end + 1
        else:
            out.append(_variable(nxt, values, depth))
            pos += 2
    return "".join(out)


def _closing(text: str, pos: int) -> int:
    opener = text[pos]
    closer = ")" if opener == "(" else "}"
    depth = 0
    for index in range(pos, len(text)):
        if text[index] == opener:
            depth += 1
        elif text[index] == closer:
            depth -= 1
            if depth == 0:
                return index
    return len(text) - 1


def _reference(inner: str, values: Mapping[str, str], depth: int) -> str:
    function, _, argument = inner.partition(" ")
    if function == "shell" and argument:
        return "$(" + _expand(argument.strip(), values, depth + 1) + ")"
    if function in _TRANSPARENT and argument:
        return _expand(argument.strip(), values, depth + 1)
    if argument or "," in inner:
        return "MAKE_EXPR"
    name = inner.split(":", 1)[0]  # $(SRC:.c=.o)
    if "$" in name:
        return "MAKE_EXPR"
    return _variable(name, values, depth)


def _variable(name: str, values: Mapping[str, str], depth: int) -> str:
    if name in values:
        return _expand(values[name], values, depth + 1) if depth < 8 else values[name]
    if name in _DEFAULTS:
        return _DEFAULTS[name]
    if name in "@<^+*?%|" or name in ("@D", "@F", "<D", "<F", "*D", "*F"):
        return "MAKE_AUTO_VAR"
    program = name.lower().replace("_", "-")
    if len(program) > 1 and lookup(program) is not None:
        return program
    return f"MAKE_VAR_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"


@dataclass
class Rule:
    prerequisites: list[str] = field(default_factory=list)
    recipe: list[str] = field(default_factory=list)


@dataclass
class Makefile:
    variables: dict[str, str] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    default: str = ""


def parse_makefile(
    text: str,
    read: Callable[[str], str | None] | None = None,
    *,
    depth: int = 0,
    into: Makefile | None = None,
) -> Makefile:
    """The variables and rules of a Makefile (``read`` opens the files it includes)."""
    made = into or Makefile()
    current: list[Rule] = []
    in_define = False
    for line in _logical_lines(text):
        if in_define:
            in_define = not line.strip().startswith("endef")
            continue
        if line.startswith("\t"):
            for rule in current:
                rule.recipe.append(line[1:])
            continue
        stripped = line.split("#", 1)[0].rstrip() if not line.lstrip().startswith("#") else ""
        if not stripped.strip():
            continue
        if stripped.startswith("define "):
            in_define = True
            continue
        include = re.match(r"^\s*-?(?:include|sinclude)\s+(.+)$", stripped)
        if include:
            current = []
            for name in include.group(1).split():
                inner = read(_expand(name, made.variables, 0)) if read and depth < 2 else None
                if inner is not None:
                    parse_makefile(inner, read, depth=depth + 1, into=made)
            continue
        current = _definition(made, stripped.strip(), current)
    return made


def _definition(made: Makefile, line: str, current: list[Rule]) -> list[Rule]:
    assign = _ASSIGN.match(line)
    if assign:
        name, op, value = assign.groups()
        if name == ".DEFAULT_GOAL":
            made.default = value.strip()
        elif op == "?=":
            made.variables.setdefault(name, value)
        elif op == "+=":
            made.variables[name] = (made.variables.get(name, "") + " " + value).strip()
        elif op == "!=":
            made.variables[name] = "$(shell " + value + ")"
        else:
            made.variables[name] = _expand(value, made.variables, 0) if op != "=" else value
        return []
    if _DIRECTIVE.match(line):
        return current
    rule = _RULE.match(line)
    if not rule:
        return []
    targets, _, rest = rule.groups()
    prerequisites, _, inline = rest.partition(";")
    if _ASSIGN.match(prerequisites.strip()):  # target-specific variable: `deploy: ENV = prod`
        return []
    rules = []
    for target in _expand(targets, made.variables, 0).split():
        entry = made.rules.setdefault(target, Rule())
        entry.prerequisites += [
            p for p in _expand(prerequisites, made.variables, 0).split() if p != "|"
        ]
        if inline.strip():
            entry.recipe.append(inline.strip())
        rules.append(entry)
        if not made.default and not target.startswith(".") and "%" not in target:
            made.default = target
    return rules


def _logical_lines(text: str) -> list[str]:
    """Physical lines joined where they end in a backslash (recipe continuations keep theirs)."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if lines and lines[-1].endswith("\\"):
            if lines[-1].startswith("\t"):
                lines[-1] = lines[-1] + "\n" + (raw[1:] if raw.startswith("\t") else raw)
            else:
                lines[-1] = lines[-1][:-1] + " " + raw.strip()
        else:
            lines.append(raw)
    return lines


def recipe_lines(
    made: Makefile,
    target: str,
    overrides: Mapping[str, str],
    *,
    depth: int = 0,
    seen: set[str] | None = None,
) -> list[tuple[str, str]]:
    """``(target, shell line)`` for ``target`` and, first, its prerequisites (two levels deep)."""
    seen = seen if seen is not None else set()
    rule = made.rules.get(target)
    if rule is None or target in seen:
        return []
    seen.add(target)
    lines: list[tuple[str, str]] = []
    if depth < 2:
        for prerequisite in rule.prerequisites:
            lines += recipe_lines(made, prerequisite, overrides, depth=depth + 1, seen=seen)
    values = {
        **made.variables, **overrides, "@": target, "<": (rule.prerequisites or [""])[0],
        "^": " ".join(rule.prerequisites),
    }  # fmt: skip
    for line in rule.recipe:
        shell = make_recipe_to_shell(line, values).strip()
        if shell:
            lines.append((target, shell))
    return lines


# -- the make command ------------------------------------------------------------
_MAKE_VALUES = names(
    """
    -C --directory -f --file --makefile -o --old-file -W --what-if -I --include-dir
    --assume-old --assume-new --new-file -O
    """
)
_MAKE_NOTHING = names(
    """
    -n --dry-run --just-print --recon -q --question -v --version -h --help -p --print-data-base
    """
)


def analyze_make(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    options: dict[str, str] = {}
    overrides: dict[str, str] = {}
    targets: list[str] = []
    rest = list(inv.args)
    while rest:
        text = rest.pop(0).text
        name, eq, value = text.partition("=")
        if text.startswith("--") and eq:
            options[name] = value
        elif text[:2] in _MAKE_VALUES and text.startswith("-") and not text.startswith("--"):
            options[text[:2]] = text[2:] or (rest.pop(0).text if rest else "")
        elif text in _MAKE_VALUES:
            options[text] = rest.pop(0).text if rest else ""
        elif text in ("-j", "--jobs", "-l", "--load-average") and rest and rest[0].text.isdigit():
            rest.pop(0)
        elif text.startswith("-"):
            options[text] = ""
        elif eq:
            overrides[name] = value
        else:
            targets.append(text)
    if set(options) & _MAKE_NOTHING or any(
        o.startswith("-") and not o.startswith("--") and "n" in o[1:] and o[1:].isalpha()
        for o in options
    ):
        return
    yield from _make_targets(inv, ctx, options, overrides, targets)


def _make_targets(
    inv: Invocation,
    ctx: Analysis,
    options: dict[str, str],
    overrides: dict[str, str],
    targets: list[str],
) -> Iterator[Effect]:
    directory = options.get("-C") or options.get("--directory") or ""
    explicit = options.get("-f") or options.get("--file") or options.get("--makefile")
    names = [explicit] if explicit else ["GNUmakefile", "makefile", "Makefile"]
    found = next(
        ((n, t) for n in names if (t := ctx.read_file(join_path(directory, n))) is not None), None
    )
    if found is None:
        where = directory or "the working directory"
        for target in targets or ["all"]:  # the first rule of a Makefile is `all` by convention
            yield missing(
                inv, ctx, join_path(directory, names[-1]), target,
                f"there is no Makefile in {where}, so what make runs is unknown",
            )  # fmt: skip
        return
    made = parse_makefile(found[1], lambda path: ctx.read_file(join_path(directory, path)))
    for target in targets or [made.default]:
        if target not in made.rules:
            yield unknown(
                inv,
                f"the Makefile has no rule for {target!r}, so what make runs is unknown",
                tags={"missing-file"},
            )
            continue
        lines = recipe_lines(made, target, overrides)
        for step, line in lines:
            yield from ctx.run_script(inv, line, via=f"make {step}")
        if not lines:
            yield effect(
                inv, Verb.EXECUTE, Target("program", "make"), f"make {target}", scope=Scope.LOCAL
            )
