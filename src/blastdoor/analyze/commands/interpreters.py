"""Interpreters: python (any version, pypy), node, deno, ruby, perl, php, lua, awk, osascript and
Rscript.

Inline code (``python -c``, ``node -e``, ``ruby -e``, ``perl -e``, ``php -r``, an awk program), a
script file read from the working directory, or code fed on standard input is analyzed for what it
reaches outside the process: Python with the real parser (:mod:`.python_code`), the others with the
call tables of :mod:`.script_code`. Commands the code runs are analyzed again as shell. Code that
cannot be seen (a missing script, code built at run time, code piped in from the network) is
``execute-unknown``; code that does nothing outside the process is an ordinary ``execute``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from blastdoor.analyze.commands import CommandFamily, lookup
from blastdoor.analyze.commands.filesystem import write_effect
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.commands.project_tasks import missing
from blastdoor.analyze.commands.python_code import python_effects
from blastdoor.analyze.commands.script_code import code_effects
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect, unknown
from blastdoor.model import Effect, Scope, Target, Verb

_NETWORK = re.compile(r"\b(curl|wget|fetch|http|https|nc|aria2c|iwr|Invoke-WebRequest)\b|://")


@dataclass(frozen=True)
class _Spec:
    """How one interpreter reads its command line."""

    language: str
    code: frozenset[str]  # options followed by inline code
    values: frozenset[str] = (
        frozenset()
    )  # options followed by a value (in the same cluster or the next word)
    joined: frozenset[str] = frozenset()  # short options whose value is the rest of their cluster
    checks: frozenset[str] = (
        frozenset()
    )  # options after which no code runs (--version, syntax checks)
    files: frozenset[str] = frozenset()  # options followed by a script file (php -f)
    in_place: frozenset[str] = frozenset()  # options that edit the operand files (perl -i)


def _s(*names: str) -> frozenset[str]:
    return frozenset(names)


_HELP = ("-h", "--help", "--version")
_PYTHON = _Spec("python", _s("-c"), _s("-W", "-X", "-Q", "-m"), checks=_s("-V", *_HELP))
_NODE = _Spec(
    "javascript",
    _s("-e", "--eval", "-p", "--print"),
    _s(
        "-r",
        "--require",
        "--import",
        "--loader",
        "--experimental-loader",
        "-C",
        "--conditions",
        "--title",
        "--env-file",
        "--input-type",
        "--run",
    ),
    checks=_s("-v", "-c", "--check", "--v8-options", *_HELP),
)
_RUBY = _Spec(
    "ruby",
    _s("-e"),
    _s("-r", "-I", "-C", "-E", "--encoding"),
    joined=_s("-F", "-K", "-T", "-W", "-0", "-x", "-i"),
    checks=_s("-c", "-y", "--yydebug", *_HELP),
    in_place=_s("-i"),
)
_PERL = _Spec(
    "perl",
    _s("-e", "-E"),
    _s("-I", "-M", "-m"),
    joined=_s("-i", "-l", "-0", "-x", "-F", "-C", "-d", "-D", "-V"),
    checks=_s("-c", "-v", *_HELP),
    in_place=_s("-i"),
)
_PHP = _Spec(
    "php",
    _s("-r", "--run", "-R", "--process-code", "-B", "--process-begin", "-E", "--process-end"),
    _s(
        "-d",
        "--define",
        "-c",
        "--php-ini",
        "-t",
        "--docroot",
        "-z",
        "--zend-extension",
        "-F",
        "--process-file",
    ),
    checks=_s(
        "-l",
        "--syntax-check",
        "-v",
        "-i",
        "--info",
        "-m",
        "--modules",
        "--ini",
        "-S",
        "--server",
        "--rf",
        "--rc",
        "--re",
        "--rz",
        "--ri",
        "--rfunction",
        "--rclass",
        "--rextension",
        *_HELP,
    ),
    files=_s("-f", "--file"),
)
_LUA = _Spec("lua", _s("-e"), _s("-l"), checks=_s("-v", *_HELP))
_OSASCRIPT = _Spec("applescript", _s("-e"), _s("-l", "-s"), checks=_s(*_HELP))
_RSCRIPT = _Spec("r", _s("-e"), checks=_s(*_HELP))
_AWK = _Spec(
    "awk",
    _s("-e", "--source"),
    _s("-F", "-v", "--assign", "--field-separator", "-i", "--include", "-l", "--load", "-W"),
    checks=_s("-V", "--version", "--help", "-S", "--sandbox"),
    files=_s("-f", "--file", "-E", "--exec"),
)


_DIGITS = frozenset(["-l", "-0", "-C", "-T", "-W"])


@dataclass
class _Command:
    """An interpreter's command line, read."""

    code: list[Word] = field(default_factory=list)
    script: Word | None = None
    module: str = ""
    args: list[Word] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    check: bool = False


def _parse(spec: _Spec, words: Sequence[Word]) -> _Command:
    parsed = _Command()
    rest = list(words)
    while rest:
        word = rest.pop(0)
        text = word.text
        if text == "--" or not text.startswith("-") or text == "-":
            if text == "--" and rest:
                word = rest.pop(0)
            if not parsed.code and not parsed.module and parsed.script is None:
                parsed.script = word
            else:
                rest.insert(0, word)
            break
        if text.startswith("--"):
            name, eq, value = text.partition("=")
            if name in spec.code:
                parsed.code.append(
                    Word(value, word.dynamic) if eq else (rest.pop(0) if rest else Word(""))
                )
            elif not eq and (name in spec.values or name in spec.files) and rest:
                value = rest.pop(0).text
            _record(parsed, spec, name, value)
        else:
            _cluster(parsed, spec, word, rest)
        if (
            parsed.module
            or (parsed.script is not None and not parsed.code)
            or (spec is _PYTHON and parsed.code)
        ):
            break
    parsed.args = rest
    return parsed


def _cluster(parsed: _Command, spec: _Spec, word: Word, rest: list[Word]) -> None:
    """``-pie``, ``-vc CODE``, ``-F:``, ``-Mstrict``: one short-option cluster."""
    text = word.text
    index = 1
    while index < len(text):
        flag, tail = "-" + text[index], text[index + 1 :]
        index += 1
        if flag in spec.code and not (len(tail) == 1 and "-" + tail in spec.code):  # node -pe CODE
            parsed.code.append(
                Word(tail, word.dynamic) if tail else (rest.pop(0) if rest else Word(""))
            )
            return
        if flag in spec.values or flag in spec.files:
            _record(parsed, spec, flag, tail or (rest.pop(0).text if rest else ""))
            return
        if (
            flag in _DIGITS and flag in spec.joined
        ):  # perl -l0 -0777: only digits belong to the flag
            digits = re.match(r"x[0-9a-fA-F]+|[0-7]*" if flag == "-0" else r"[0-9]*", tail)
            size = len(digits.group(0)) if digits else 0
            _record(parsed, spec, flag, tail[:size])
            index += size
            continue
        if flag in spec.joined:
            _record(parsed, spec, flag, tail)
            return
        _record(parsed, spec, flag, "")


def _record(parsed: _Command, spec: _Spec, flag: str, value: str) -> None:
    if flag in spec.checks:
        parsed.check = True
    if flag in spec.files:
        parsed.script = Word(value)
    if flag == "-m" and spec is _PYTHON:
        parsed.module = value
    parsed.options.setdefault(flag, value)


# -- running what was read -----------------------------------------------------------------------
def code_of(
    inv: Invocation, ctx: Analysis, text: str, *, language: str, origin: str
) -> list[Effect]:
    """The effects of ``text`` in ``language`` (an ordinary ``execute`` when none reach outside)."""
    if language == "python":
        found = python_effects(inv, ctx, text, origin=origin)
    else:
        found = code_effects(inv, ctx, text, language=language, origin=origin)
    return found or [ordinary_program(inv, f"run {origin}")]


def file_code(inv: Invocation, ctx: Analysis, path: Word, *, language: str) -> list[Effect]:
    """The effects of the script at ``path``, read from the working directory."""
    if path.dynamic:
        tags = {"remote-code"} if _NETWORK.search(path.text) else set()
        return [
            unknown(
                inv, f"{inv.name} runs a script named only at run time ({path.text})", tags=tags
            )
        ]
    if re.match(r"https?://", path.text):
        return [
            unknown(inv, f"{inv.name} runs code downloaded from {path.text}", tags={"remote-code"})
        ]
    text = ctx.read_file(path.text)
    if text is None:
        return [
            missing(
                inv,
                ctx,
                path.text,
                path.text,
                f"the script {path.text} is not in the working directory, "
                "so what it runs is unknown",
                file=True,
            )
        ]
    if (
        text.startswith("#!")
        and re.match(r"#![^\n]*\b(ba|z|da|k)?sh\b", text)
        and language != "awk"
    ):
        return ctx.run_script(inv, text, via=f"{inv.name} {path.text}")
    return code_of(inv, ctx, text, language=language, origin=f"{inv.name} {path.text}")


def stdin_code(inv: Invocation, ctx: Analysis, *, language: str) -> list[Effect]:
    if inv.stdin.text is not None:
        return code_of(
            inv, ctx, inv.stdin.text, language=language, origin=f"{inv.name} reading stdin"
        )
    if inv.stdin.source:
        remote = bool(_NETWORK.search(inv.stdin.source))
        return [
            unknown(
                inv,
                f"{inv.name} runs code read from {inv.stdin.source}",
                tags={"remote-code"} if remote else (),
            )
        ]
    return [
        ordinary_program(inv, f"start an interactive {inv.name}")
    ]


def _inline(inv: Invocation, ctx: Analysis, code: list[Word], *, language: str) -> list[Effect]:
    text = " ".join(word.text for word in code)
    if any(word.dynamic for word in code) and (text.lstrip().startswith(("$", "`")) or not text):
        remote = {"remote-code"} if _NETWORK.search(text) else set()
        return [
            unknown(inv, f"{inv.name} runs code only known at run time ({text[:80]})", tags=remote)
        ]
    # Shell variables inside the code (perl -pe "s/$old/$new/") stay visible as `$name` text.
    joined = "\n".join(word.text for word in code)
    return code_of(inv, ctx, joined, language=language, origin=f"{inv.name} code")


def _entry_point(
    inv: Invocation, ctx: Analysis, script: Word, args: list[Word]
) -> list[Effect] | None:
    """``python manage.py ...``, ``php artisan ...``: a script Blastdoor knows as a command."""
    name = script.text.rsplit("/", 1)[-1].lower()
    if script.dynamic or name == inv.name or lookup(name) is None or name in _NAMES:
        return None
    return ctx.run_argv(inv, [script, *args], via=inv.name)


def _in_place(inv: Invocation, ctx: Analysis, parsed: _Command, spec: _Spec) -> Iterator[Effect]:
    if not any(flag in parsed.options for flag in spec.in_place):
        return
    files = ([parsed.script] if parsed.script is not None and parsed.code else []) + parsed.args
    for word in files:
        found = write_effect(inv, ctx, word, how=f"{inv.name} edits in place", overwrite=False)
        if found is not None:
            yield found


def _interpreter(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    spec = _spec(inv.name)
    parsed = _parse(spec, inv.args)
    if parsed.check:
        return
    language = spec.language
    if spec is _OSASCRIPT and parsed.options.get("-l", "").lower() == "javascript":
        language = "javascript"
    if (
        spec is _RUBY and parsed.options.get("-r") == "un" and parsed.code
    ):  # ruby -run -e rm -- -rf dir
        yield from ctx.run_argv(inv, [parsed.code[0], *parsed.args], via="ruby -run")
        return
    if parsed.code:
        yield from _inline(inv, ctx, parsed.code, language=language)
    elif parsed.module:
        module = {"django": "django-admin"}.get(parsed.module, parsed.module)
        yield from ctx.run_argv(inv, [Word(module), *parsed.args], via=f"{inv.name} -m")
    elif spec is _NODE and "--run" in parsed.options:
        from blastdoor.analyze.commands.indirection import package_script

        yield from package_script(inv, ctx, parsed.options["--run"], parsed.args, via="node --run")
    elif parsed.script is not None and parsed.script.text != "-":
        delegated = _entry_point(inv, ctx, parsed.script, parsed.args)
        yield from (
            delegated
            if delegated is not None
            else file_code(inv, ctx, parsed.script, language=language)
        )
    elif spec is not _AWK:
        yield from stdin_code(inv, ctx, language=language)
    yield from _in_place(inv, ctx, parsed, spec)


def _awk(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    parsed = _parse(_AWK, inv.args)
    if parsed.check:
        return
    if parsed.code:
        yield from _inline(inv, ctx, parsed.code, language="awk")
    elif parsed.script is not None and (
        "-f" in parsed.options or "--file" in parsed.options or "-E" in parsed.options
    ):
        yield from file_code(inv, ctx, parsed.script, language="awk")
    elif parsed.script is not None:
        program = parsed.script
        text = program.text
        found = code_effects(inv, ctx, text, language="awk", origin=f"{inv.name} program")
        yield from found


def _deno(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    if not words:
        yield from stdin_code(inv, ctx, language="javascript")
        return
    command = words[0].text
    if command == "eval":
        code = [w for w in words[1:] if not w.text.startswith("-")][:1]
        yield from _inline(inv, ctx, code, language="javascript")
    elif command == "task":
        from blastdoor.analyze.commands.indirection import deno_task

        yield from deno_task(inv, ctx, words[1:])
    elif command == "run" or re.search(r"\.(m?[jt]sx?|cjs)$", command):
        rest = words[1:] if command == "run" else words
        flags = [w.text for w in rest if w.text.startswith("-")]
        target = next((w for w in rest if not w.text.startswith("-")), None)
        if target is None:
            return
        powerful = any(
            f in ("-A", "--allow-all")
            or f.startswith(("--allow-run", "--allow-write", "--allow-ffi"))
            for f in flags
        )
        if re.match(r"https?://", target.text) and not powerful:
            yield effect(
                inv,
                Verb.EXECUTE,
                Target("program", target.text),
                f"run {target.text} in Deno's sandbox (no run, write or FFI permission)",
                scope=Scope.LOCAL,
            )
        elif re.match(r"(jsr|npm):", target.text):
            yield effect(
                inv,
                Verb.EXECUTE,
                Target("package", target.text),
                f"run the package {target.text}",
                scope=Scope.LOCAL,
            )
        else:
            yield from file_code(inv, ctx, target, language="javascript")
    else:
        yield effect(
            inv, Verb.EXECUTE, Target("program", "deno"), f"run deno {command}", scope=Scope.LOCAL
        )


_SPECS = {
    "python": _PYTHON, "node": _NODE, "ruby": _RUBY, "perl": _PERL, "php": _PHP, "lua": _LUA,
    "osascript": _OSASCRIPT, "rscript": _RSCRIPT,
}  # fmt: skip
_PYTHONS = (
    {"python", "python2", "python3", "pypy", "pypy3"}
    | {f"python{v}" for v in ("2.6", "2.7", *(f"3.{minor}" for minor in range(4, 16)))}
    | {f"pypy3.{m}" for m in range(6, 13)}
)
_ALIASES = {
    **dict.fromkeys(_PYTHONS, "python"),
    "nodejs": "node",
    "ruby": "ruby",
    "jruby": "ruby",
    "perl": "perl",
    **{f"perl5.{m}": "perl" for m in range(8, 42)},
    **{f"php{v}": "php" for v in ("5", "7", "8", "7.4", "8.0", "8.1", "8.2", "8.3", "8.4")},
    "luajit": "lua",
    **{f"lua5.{m}": "lua" for m in range(1, 5)},
}


def _spec(name: str) -> _Spec:
    return _SPECS[_ALIASES.get(name, name)]


_AWKS = ("awk", "gawk", "mawk", "nawk", "busybox-awk", "goawk")
_NAMES = frozenset({*_SPECS, *_ALIASES, *_AWKS, "deno"})

FAMILIES = (
    CommandFamily.of({*_SPECS, *_ALIASES}, _interpreter),
    CommandFamily.of(_AWKS, _awk),
    CommandFamily.of(["deno"], _deno),
)
