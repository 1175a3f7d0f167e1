"""Reading justfiles: which shell lines ``just RECIPE ARGS`` would run.

Recipes are the indented lines under ``name params: dependencies``; ``{{param}}`` takes the argument
given on the command line, ``{{var}}`` a ``var := "value"`` from the file, and anything else a
neutral word. Dependencies run first (two levels deep). A shebang recipe is read as code in its
language. Other recipe lines run through ``sh -cu`` unless ``set shell := ["PROGRAM", ARGS...]``
(or ``--shell``/``--shell-arg``) says otherwise. A sh-like shell whose arguments are options ending
the list with ``-c`` (``["bash", "-euc"]``) runs each line as its script; any other shell line is
judged as that program run with the line as its last argument (``python3 -c LINE``, ``bash
payload.sh LINE``, ``bash -c SCRIPT LINE``), and a program Blastdoor has no family for makes the
line unknown.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from blastdoor.analyze.commands import lookup
from blastdoor.analyze.commands.library_calls import names
from blastdoor.analyze.commands.project_tasks import missing
from blastdoor.analyze.commands.verbs import join_path
from blastdoor.analyze.invocation import Analysis, Invocation, Word, unknown
from blastdoor.analyze.shebang import shebang_program
from blastdoor.model import Effect


# -- the justfile ------------------------------------------------------------
@dataclass
class Recipe:
    parameters: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)


@dataclass
class Justfile:
    variables: dict[str, str] = field(default_factory=dict)
    recipes: dict[str, Recipe] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    default: str = ""
    shell: list[str] = field(default_factory=list)  # `set shell := [...]`; empty: sh -cu


_JUST_HEADER = re.compile(r"^@?([A-Za-z_][\w-]*)((?:\s+[^:]*?)?)\s*:(?!=)\s*(.*)$")
_JUST_ASSIGN = re.compile(r"^(?:export\s+)?([A-Za-z_][\w-]*)\s*:=\s*(.*)$")
_JUST_SHELL = re.compile(r"^set\s+shell\s*:=\s*\[(.*)\]\s*(?:#.*)?$")
_SH_LIKE = re.compile(r"(ba|z|da|k|mk|a)?sh")
_SHELL_VALUED = frozenset({"-o", "+o", "-O", "+O"})  # a shell option's name follows
_OPTION_LETTERS = re.compile(r"[-+][A-Za-z]+")


def parse_justfile(text: str) -> Justfile:
    made = Justfile()
    current: Recipe | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if line[:1] in (" ", "\t") and current is not None:
            if line.strip():
                current.body.append(line.strip())
            continue
        stripped = line.strip()
        current = None
        if shell := _JUST_SHELL.match(stripped):
            made.shell = [m.group(2) for m in re.finditer(r"([\"'])(.*?)\1", shell.group(1))]
            continue
        if not stripped or stripped.startswith(("#", "[", "set ", "mod ", "import ")):
            continue
        alias = re.match(r"^alias\s+([\w-]+)\s*:=\s*([\w-]+)", stripped)
        assign = _JUST_ASSIGN.match(stripped)
        header = _JUST_HEADER.match(stripped)
        if alias:
            made.aliases[alias.group(1)] = alias.group(2)
        elif assign:
            made.variables[assign.group(1)] = _just_literal(assign.group(2))
        elif header:
            name, params, deps = header.groups()
            current = made.recipes.setdefault(name, Recipe())
            current.parameters = [re.sub(r"^[+*$]", "", p.split("=", 1)[0]) for p in params.split()]
            bare = re.sub(
                r"\(\s*([\w-]+)[^)]*\)", r"\1", deps.split("#", 1)[0]
            )  # (dep "arg") -> dep
            current.dependencies = [d for d in bare.split() if re.fullmatch(r"[A-Za-z_][\w-]*", d)]
            made.default = made.default or name
    return made


def _just_literal(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return "JUST_EXPR"


def just_line(line: str, values: Mapping[str, str]) -> str:
    """One justfile recipe line as shell text: ``@``/``-`` dropped, ``{{x}}`` filled in."""
    body = re.sub(r"^[@\-]+", "", line)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name in values:
            return values[name]
        return f"JUST_VAR_{name}" if re.fullmatch(r"[A-Za-z_]\w*", name) else "JUST_EXPR"

    return re.sub(r"\{\{(?!\{)(.*?)\}\}", fill, body.replace("{{{{", "{{"))


_JUST_NOTHING = names(
    """
    -l --list --summary --show -s --evaluate --dump -e --edit --init --fmt -h --help -V
    --version --variables --groups -n --dry-run --changelog --completions --man
    """
)
_JUST_VALUES = names(
    """
    -f --justfile -d --working-directory --shell --shell-arg --dotenv-filename --dotenv-path
    --color --chooser --command-color
    """
)


def analyze_just(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    options: dict[str, str] = {}
    overrides: dict[str, str] = {}
    rest = list(inv.args)
    while rest and (rest[0].text.startswith("-") or "=" in rest[0].text):
        option = rest.pop(0).text
        name, eq, value = option.partition("=")
        if option.startswith("-"):
            options[name] = (
                value if eq else (rest.pop(0).text if name in _JUST_VALUES and rest else "")
            )
            if name == "--set" and len(rest) >= 2:
                overrides[rest.pop(0).text] = rest.pop(0).text
        else:
            overrides[name] = value
    if set(options) & _JUST_NOTHING:
        return
    directory = options.get("-d") or options.get("--working-directory") or ""
    explicit = options.get("-f") or options.get("--justfile")
    files = [explicit] if explicit else ["justfile", "Justfile", ".justfile", "JUSTFILE"]
    text = next(
        (t for n in files if (t := ctx.read_file(join_path(directory, n))) is not None), None
    )
    if text is None:
        yield missing(
            inv, ctx, join_path(directory, files[0]), rest[0].text if rest else "default",
            "there is no justfile in the working directory, so what just runs is unknown",
        )  # fmt: skip
        return
    made = parse_justfile(text)
    if "--shell" in options:
        made.shell = [options["--shell"], options.get("--shell-arg") or "-cu"]
    name = rest[0].text if rest else made.default
    yield from _just_recipe(
        inv, ctx, made, made.aliases.get(name, name), rest[1:], {**made.variables, **overrides}, 0
    )


def _just_recipe(
    inv: Invocation,
    ctx: Analysis,
    made: Justfile,
    name: str,
    args: Sequence[Word],
    values: dict[str, str],
    depth: int,
) -> Iterator[Effect]:
    recipe = made.recipes.get(name)
    if recipe is None:
        yield unknown(
            inv,
            f"the justfile has no recipe {name!r}, so what just runs is unknown",
            tags={"missing-file"},
        )
        return
    if depth < 2:
        for dependency in recipe.dependencies:
            if dependency in made.recipes and dependency != name:
                yield from _just_recipe(inv, ctx, made, dependency, (), values, depth + 1)
    bound = {**values, **{p: a.text for p, a in zip(recipe.parameters, args, strict=False)}}
    lines = [
        just_line(line, bound)
        for line in recipe.body
        if not line.startswith("#") or line.startswith("#!")
    ]
    if lines and lines[0].startswith("#!"):
        yield from _shebang(inv, ctx, lines, via=f"just {name}")
        return
    for line in lines:
        yield from _run_line(inv, ctx, made.shell, line, via=f"just {name}")


def _run_line(
    inv: Invocation, ctx: Analysis, shell: Sequence[str], line: str, *, via: str
) -> Iterator[Effect]:
    """One recipe line, run as just runs it: ``SHELL ARGS... LINE``."""
    program = posixpath.basename(shell[0]) if shell else "sh"
    if not shell or (_SH_LIKE.fullmatch(program) and _runs_its_operand(shell[1:])):
        yield from ctx.run_script(inv, line, via=via)
    elif lookup(program) is not None:
        yield from ctx.run_argv(inv, [Word(w) for w in (*shell, line)], via=via)
    else:
        yield unknown(inv, f"{via} runs its lines with {program}, which Blastdoor does not read")


def _runs_its_operand(args: Sequence[str]) -> bool:
    """Whether a sh-like shell given ``args`` runs the line after them as its command string:
    options only (``-cu``, ``-euc``, ``-o pipefail -c``), one of them ``-c``. Any other word is the
    command string or a script file itself (``["bash", "payload.sh"]`` runs payload.sh with the
    line as its argument)."""
    command, valued = False, False
    for arg in args:
        if valued:
            valued = False
        elif arg in _SHELL_VALUED:
            valued = True
        elif _OPTION_LETTERS.fullmatch(arg):
            command = command or (arg[0] == "-" and "c" in arg)
        else:
            return False
    return command and not valued


def _shebang(inv: Invocation, ctx: Analysis, lines: list[str], *, via: str) -> Iterator[Effect]:
    from blastdoor.analyze.commands.interpreters import code_of

    body = "\n".join(lines[1:])
    interpreter = shebang_program(lines[0])
    languages = {
        "python": "python", "python3": "python", "node": "javascript", "ruby": "ruby",
        "perl": "perl",
    }  # fmt: skip
    if _SH_LIKE.fullmatch(interpreter):
        yield from ctx.run_script(inv, body, via=via)
    elif interpreter in languages:
        yield from code_of(inv, ctx, body, language=languages[interpreter], origin=via)
    else:
        yield unknown(inv, f"{via} runs a {interpreter or 'script'} script Blastdoor does not read")
