"""What code in JavaScript, Ruby, Perl, PHP, Lua, R, AppleScript and awk would do, read by a small
tokenizer over the calls that reach outside the process.

These languages get no full parser here. Instead each has a table of the calls that matter (running
a command, deleting or writing a file) and their arguments are read token by token: string
literals are decoded with the language's escapes, interpolations and variables become dynamic
parts, so ``system("rm -rf " + dir)`` is ``rm -rf`` of a path only known at run time. Command text
is analyzed again as shell.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from blastdoor.analyze.commands.filesystem import delete_effects, write_effect
from blastdoor.analyze.commands.library_calls import names
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect, unknown
from blastdoor.analyze.words import decode_ansi_c
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

RUNTIME = "${__runtime_value}"


_SHELLS = names(
    """
    sh bash zsh dash ksh fish python python3 perl ruby node
    """
)
_RECURSIVE_OPTION = re.compile(
    r"recursive\s*(?::|=>?)\s*(?:true|TRUE|T\b)|\brecurse\b|:recursive\b"
)


@dataclass(frozen=True)
class _Lang:
    quotes: str  # characters that delimit strings
    raw_quotes: str  # strings without escapes beyond \\ and the quote itself
    interpolation: str  # inside double-quoted / template strings: what is only known at run time
    calls: tuple[tuple[str, str], ...]  # (callee pattern, kind)
    literals: tuple[tuple[str, str], ...] = ()  # (pattern whose group 1 is command text, kind)
    joiners: str = "+."


_JS = _Lang(
    quotes="\"'`", raw_quotes="", interpolation=r"\$\{[^}]*\}",
    calls=(
        (r"\b(?:execSync|spawnSync|execFileSync|execa|execaSync|execaCommand|execaCommandSync)\b",
         "shell"),
        (r"(?:\b(?:child_process|childProcess|cp)\s*\.\s*|\bchild_process['\"]\s*\)\s*\.\s*)"
         r"(?:exec|spawn|execFile)\b", "shell"),
        (r"(?<![.\w])(?:spawn|execFile)\b", "shell"),
        (r"\bDeno\.run\b|\bnew\s+Deno\.Command\b|\bBun\.spawn(?:Sync)?\b|\bdoShellScript\b",
         "shell"),
        (r"\.\s*(?:rmSync|rm|rmdirSync|rmdir|unlinkSync|unlink)(?=\s*\()"
         r"|\bDeno\.remove(?:Sync)?", "delete"),
        (r"\b(?:rimraf(?:\.sync|Sync)?"
         r"|(?:fse|fsExtra|fs)\.(?:remove|removeSync|emptyDir|emptyDirSync))\b", "delete-r"),
        (r"\.\s*(?:writeFileSync|writeFile|Deno\.writeTextFile|Deno\.writeTextFileSync)(?=\s*\()"
         r"|\bDeno\.writeTextFile(?:Sync)?|\bBun\.write", "write"),
    ),
    literals=((r"(?:\bBun\.\$|(?<![\w.])\$)`((?:[^`\\]|\\.)*)`", "shell"),),
)  # fmt: skip
_JS_EVAL = (r"(?<![\w.$])eval(?=\s*\()|\bnew\s+Function(?=\s*\()|\bvm\.runIn\w+(?=\s*\()", "eval")
_RUBY = _Lang(
    quotes="\"'", raw_quotes="'", interpolation=r"#\{[^}]*\}",
    calls=(
        (r"(?<![\w.:@$])(?:system|exec|spawn)|\bProcess\.spawn|\bKernel\.(?:system|exec|spawn)"
         r"|\bIO\.popen|\bOpen3\.\w+|\bPTY\.spawn", "shell"),
        (r"\bFileUtils\.(?:rm_rf|rm_r|remove_dir|remove_entry|remove_entry_secure|rmtree)"
         r"|\.rmtree\b", "delete-r"),
        (r"\bFileUtils\.(?:rm|rm_f|remove|remove_file|safe_unlink)\b"
         r"|\bFile\.(?:delete|unlink)\b", "delete"),
        (r"\bDir\.(?:rmdir|delete|unlink)\b|\bFileUtils\.rmdir\b", "rmdir"),
        (r"\bFile\.write\b|\bIO\.write\b", "write"),
        (r"\bFile\.open\b|\bFile\.new\b", "open"),
        (r"(?<![\w.:@$])(?:eval|instance_eval|class_eval)\b", "eval"),
    ),
    literals=(
        (r"`((?:[^`\\]|\\.)*)`", "shell"),
        (r"%x\{([^}]*)\}|%x\(([^)]*)\)|%x\[([^\]]*)\]|%x\|([^|]*)\|", "shell"),
    ),
)  # fmt: skip
_PERL = _Lang(
    quotes="\"'", raw_quotes="'", interpolation=r"\$\{?\w+\}?(?:->)?(?:\[[^\]]*\]|\{[^}]*\})?|@\w+",
    calls=(
        (r"(?<![\w$@%&>:-])(?:system|exec)\b", "shell"),
        (r"\b(?:File::Path::)?(?:rmtree|remove_tree)\b", "delete-r"),
        (r"(?<![\w$@%&>-])unlink\b", "delete"),
        (r"(?<![\w$@%&>-])rmdir\b", "rmdir"),
        (r"(?<![\w$@%&>-])open\b", "perl-open"),
        (r"(?<![\w$@%&>-])eval\b", "eval"),
    ),
    literals=(
        (r"`((?:[^`\\]|\\.)*)`", "shell"),
        (r"\bqx\s*\{([^}]*)\}|\bqx\s*\(([^)]*)\)|\bqx\s*/([^/]*)/", "shell"),
    ),
)  # fmt: skip
_PHP = _Lang(
    quotes="\"'", raw_quotes="'", interpolation=r"\{?\$\w+(?:->\w+|\[[^\]]*\])*\}?",
    calls=(
        (r"(?<![\w$>:])(?:exec|shell_exec|system|passthru|popen|proc_open|pcntl_exec)(?=\s*\()",
         "shell"),
        (r"(?<![\w$>:])unlink(?=\s*\()", "delete"),
        (r"(?<![\w$>:])rmdir(?=\s*\()", "rmdir"),
        (r"(?<![\w$>:])file_put_contents(?=\s*\()", "write"),
        (r"(?<![\w$>:])fopen(?=\s*\()", "open"),
        (r"(?<![\w$>:])(?:eval|assert|create_function)(?=\s*\()", "eval"),
    ),
    literals=((r"`((?:[^`\\]|\\.)*)`", "shell"),),
)  # fmt: skip
_LUA = _Lang(
    quotes="\"'", raw_quotes="", interpolation=r"(?!)", joiners=".",
    calls=(
        (r"\bos\.execute\b|\bio\.popen\b", "shell"),
        (r"\bos\.remove\b", "delete"),
        (r"\bio\.open\b", "open"),
        (r"(?<![\w.])(?:load|loadstring)(?=\s*\()", "eval"),
    ),
)  # fmt: skip
_R = _Lang(
    quotes="\"'", raw_quotes="", interpolation=r"(?!)",
    calls=(
        (r"(?<![\w.])(?:system|system2|shell)(?=\s*\()", "shell"),
        (r"(?<![\w.])unlink(?=\s*\()", "delete"),
        (r"\bfile\.remove(?=\s*\()", "delete"),
        (r"(?<![\w.])(?:writeLines|cat)(?=\s*\()", "r-write"),
    ),
)  # fmt: skip
_APPLESCRIPT = _Lang(
    quotes='"',
    raw_quotes="",
    interpolation=r"(?!)",
    joiners="&",
    calls=((r"\bdo\s+shell\s+script\b|\bdoShellScript", "shell"),),
)
_PYTHON = _Lang(
    quotes="\"'", raw_quotes="", interpolation=r"(?!)",
    calls=(
        (r"\bos\.(?:system|popen)\b|\bsubprocess\.\w+|\bcommands\.getoutput\b", "shell"),
        (r"\bshutil\.rmtree\b", "delete-r"),
        (r"\bos\.(?:remove|unlink)\b", "delete"),
        (r"(?<![\w.])open(?=\s*\()", "open"),
    ),
)  # fmt: skip
_AWK_STRING = r"\"(?:[^\"\\]|\\.)*\""
_AWK = _Lang(
    quotes='"', raw_quotes="", interpolation=r"(?!)", joiners="",
    calls=((r"(?<![\w.])system(?=\s*\()", "shell"),),
    literals=(
        (r"\bprintf?\b[^;{}\n]*?(?<!\|)\|&?(?!\|)\s*("
         + _AWK_STRING + r"|(?!getline\b)[A-Za-z_]\w*)", "awk-pipe"),
        (r"(" + _AWK_STRING + r"|[A-Za-z_]\w*)\s*\|&?\s*getline", "awk-pipe"),
        (r"\bprintf?\b[^;{}\n|>]*>>?\s*(" + _AWK_STRING + r"|[A-Za-z_]\w*)", "awk-write"),
    ),
)  # fmt: skip
LANGUAGES = {
    "javascript": _JS, "ruby": _RUBY, "perl": _PERL, "php": _PHP, "lua": _LUA, "r": _R,
    "applescript": _APPLESCRIPT, "python": _PYTHON, "awk": _AWK,
}  # fmt: skip


@dataclass
class _Arg:
    parts: list[tuple[str, bool]] = field(default_factory=list)
    items: list[_Arg] | None = None  # a list literal
    group: bool = False  # an object, block or other bracketed value
    named: bool = False  # key = value / key: value
    raw: str = ""

    @property
    def word(self) -> Word:
        dynamic = any(dyn for _, dyn in self.parts) or not self.parts
        return Word(
            "".join(RUNTIME if dyn else text for text, dyn in self.parts) or RUNTIME, dynamic
        )

    @property
    def is_path(self) -> bool:
        return not (self.group or self.named) and self.items is None


def code_effects(
    inv: Invocation, ctx: Analysis, code: str, *, language: str, origin: str
) -> list[Effect]:
    """The effects of running ``code`` written in ``language`` (a key of :data:`LANGUAGES`)."""
    lang = LANGUAGES[language]
    found: list[Effect] = []
    calls = (*lang.calls, _JS_EVAL) if lang is _JS else lang.calls
    if (
        language == "javascript" and "child_process" in code
    ):  # const { exec } = require("child_process")
        calls = (*calls, (r"(?<![.\w])exec(?=\s*\()", "shell"))
    for pattern, kind in calls:
        for match in re.finditer(pattern, code):
            args = _call_args(code, match.end(), lang)
            if args is None:
                continue
            if kind == "eval":
                found.extend(_eval(inv, ctx, args, language=language, origin=origin))
            else:
                found.extend(
                    _act(
                        inv,
                        ctx,
                        kind,
                        args,
                        origin=origin,
                        raw=code[match.start() : match.end() + 200],
                    )
                )
    for pattern, kind in lang.literals:
        for match in re.finditer(pattern, code):
            body = next(g for g in match.groups() if g is not None)
            if not kind.startswith("awk"):
                arg = _interpolated(body, lang, "`")
            elif body.startswith('"'):
                arg = _string_arg(body[1:-1], lang)
            else:  # cmd = "date"; cmd | getline
                assigned = re.findall(rf"\b{body}\s*=\s*\"((?:[^\"\\]|\\.)*)\"\s*(?:;|$|\n)", code)
                literal = len(assigned) == 1 and not re.search(rf"\b{body}\s*=\s*[^\"\s=]", code)
                arg = _string_arg(assigned[0], lang) if literal else _plain(RUNTIME, True)
            found.extend(_act(inv, ctx, kind, [arg], origin=origin, raw=match.group(0)))
    if language == "applescript" and re.search(
        r"with\s+administrator\s+privileges|withAdministratorPrivileges", code
    ):
        found.append(
            effect(
                inv,
                Verb.EXECUTE,
                Target("privileges", "root"),
                f"{origin} runs a command as an administrator",
                scope=Scope.LOCAL,
                tags={"privileged"},
            )
        )
    return list(dict.fromkeys(found))  # a call inside an eval'd string is seen twice


# -- acting on what a call received --------------------------------------------------------------
def _eval(
    inv: Invocation, ctx: Analysis, args: list[_Arg], *, language: str, origin: str
) -> list[Effect]:
    """``eval("...")``: the text is code in the same language; code built at run time is unknown."""
    if not args or args[0].group:  # perl's eval { ... } is a try block
        return []
    word = args[0].word
    if word.dynamic:
        return [unknown(inv, f"{origin} evaluates code built at run time", tags={"obfuscated"})]
    if len(inv.via) > 6:
        return []
    return code_effects(inv, ctx, word.text, language=language, origin=f"{origin} eval")


def _act(
    inv: Invocation, ctx: Analysis, kind: str, args: list[_Arg], *, origin: str, raw: str
) -> Iterator[Effect]:
    if kind in ("shell", "awk-pipe"):
        yield from _run(inv, ctx, args, origin=origin, awk_pipe=kind == "awk-pipe")
    elif kind in ("delete", "delete-r", "rmdir"):
        recursive = kind == "delete-r" or bool(_RECURSIVE_OPTION.search(raw))
        targets = [a.word for a in _flatten(args) if a.is_path]
        for found in delete_effects(
            inv, ctx, targets, recursive=recursive, how=f"{origin} deletes"
        ):
            yield _empty_dir(found) if kind == "rmdir" and not recursive else found
    elif kind in ("write", "awk-write", "open", "perl-open", "r-write"):
        yield from _write(inv, ctx, kind, args, origin=origin, raw=raw)


def _run(
    inv: Invocation, ctx: Analysis, args: list[_Arg], *, origin: str, awk_pipe: bool
) -> Iterator[Effect]:
    if not args:
        return
    first = args[0]
    if first.items is not None or (
        len(args) > 1 and args[1].items is not None and " " not in first.word.text
    ):
        items = first.items if first.items is not None else [first, *(args[1].items or [])]
        yield from ctx.run_argv(inv, [a.word for a in items], via=origin)
        return
    word = first.word
    if word.dynamic and word.text.startswith(RUNTIME):
        yield unknown(inv, f"{origin} runs a command built at run time")
        return
    if (
        awk_pipe
        and word.text.split()[:1]
        and word.text.split()[0].rsplit("/", 1)[-1] in _SHELLS
        and " -c" not in word.text
    ):
        yield unknown(inv, f"{origin} pipes text it builds into {word.text}")
        return
    extra = [a for a in args[1:] if a.is_path and a.parts and not any(d for _, d in a.parts)]
    if extra and len(extra) == len(args) - 1 and " " not in word.text:  # system("rm", "-rf", "/")
        yield from ctx.run_argv(inv, [word, *(a.word for a in extra)], via=origin)
        return
    yield from ctx.run_script(inv, word.text, via=origin)


def _write(
    inv: Invocation, ctx: Analysis, kind: str, args: list[_Arg], *, origin: str, raw: str
) -> Iterator[Effect]:
    path: Word | None = None
    overwrite = True
    if kind == "perl-open" and len(args) >= 2:
        mode = args[1].word.text.strip() if len(args) >= 3 else ""
        target = args[2] if len(args) >= 3 else args[1]
        text = target.word.text
        if mode in ("-|", "|-") or (
            not mode and (text.strip().startswith("|") or text.strip().endswith("|"))
        ):
            yield from _run(
                inv,
                ctx,
                [_plain(text.strip().strip("|").strip(), target.word.dynamic)],
                origin=origin,
                awk_pipe=False,
            )
            return
        stripped = text.strip()
        spec = mode or stripped[: len(stripped) - len(stripped.lstrip("+<>"))]
        if ">" not in spec:
            return
        overwrite = ">>" not in spec
        path = (
            target.word if mode else Word(text.strip().lstrip("+<>").strip(), target.word.dynamic)
        )
    elif kind == "open" and args:
        mode = args[1].word.text if len(args) > 1 and args[1].parts else "r"
        if not any(flag in mode for flag in "wax+"):
            return
        path, overwrite = args[0].word, "w" in mode
    elif kind == "r-write":
        named = [a for a in args if a.named and re.match(r"\s*(con|file)\s*=", a.raw)]
        if not named:
            return
        value = named[0].raw.split("=", 1)[1].strip().strip("\"'")
        path = Word(value, '"' not in named[0].raw and "'" not in named[0].raw)
    elif args:
        path = args[0].word
        overwrite = kind != "awk-write" or ">>" not in raw
    if path is not None:
        found = write_effect(inv, ctx, path, how=f"{origin} writes to", overwrite=overwrite)
        if found is not None:
            yield found


def _flatten(args: list[_Arg]) -> Iterator[_Arg]:
    for arg in args:
        if arg.items is not None:
            yield from _flatten(arg.items)
        else:
            yield arg


def _empty_dir(found: Effect) -> Effect:
    from dataclasses import replace

    if found.verb is not Verb.DELETE:
        return found
    return replace(found, tags=found.tags | {"empty-dir"}, reversibility=Reversibility.REVERSIBLE)


# -- reading arguments ---------------------------------------------------------------------------
_CLOSE = {"(": ")", "[": "]", "{": "}"}
_STOP_WORDS = names(
    """
    or and if unless do then while until with end
    """
)


def _call_args(code: str, pos: int, lang: _Lang) -> list[_Arg] | None:
    """The arguments of the call whose name ends at ``pos``: ``f(a, b)`` or ``f a, b``."""
    while pos < len(code) and code[pos] in " \t":
        pos += 1
    if pos < len(code) and code[pos] == "(":
        end = _balanced(code, pos, lang)
        return _split_args(code[pos + 1 : end - 1], lang)
    if pos < len(code) and (code[pos] in lang.quotes or code[pos] in "$@[" or code[pos].isalpha()):
        end = pos
        while end < len(code) and code[end] not in ";\n}":
            if code[end] in lang.quotes:
                end = _string_end(code, end)
                continue
            word = re.match(r"\w+", code[end:])
            if (
                word
                and (end == pos or not code[end - 1].isalnum())
                and word.group(0) in _STOP_WORDS
            ):
                break
            end += len(word.group(0)) if word else 1
        return _split_args(code[pos:end], lang)
    return None


def _split_args(text: str, lang: _Lang) -> list[_Arg]:
    args: list[_Arg] = []
    current = _Arg()
    start = pos = 0
    while pos < len(text):
        char = text[pos]
        if char == ",":
            current.raw = text[start:pos]
            args.append(current)
            current, start = _Arg(), pos + 1
            pos += 1
        elif char in lang.quotes:
            end = _string_end(text, pos)
            current.parts.extend(_string_arg(text[pos + 1 : end - 1], lang, char).parts)
            pos = end
        elif char in _CLOSE:
            end = _balanced(text, pos, lang)
            if char == "[" and not current.parts and current.items is None:
                current.items = _split_args(text[pos + 1 : end - 1], lang)
            elif char == "(" and text[start:pos].strip() == "c":  # R's c("a", "b")
                current.items, current.parts = _split_args(text[pos + 1 : end - 1], lang), []
            elif char == "{" and not current.parts:
                current.group = True
            else:
                current.parts.append((text[pos:end], True))
            pos = end
        elif char in "=:" and text[pos : pos + 2] not in ("==", "::") and not current.items:
            current.named = True
            pos += 1
        elif char.isspace() or char in lang.joiners or (char == "." and lang.joiners == "."):
            pos += 1
        else:
            token = re.match(r"[\w$@.>-]+", text[pos:])
            size = len(token.group(0)) if token else 1
            if not (token and token.group(0) in ("new", "my", "our", "local", "=>")):
                current.parts.append((text[pos : pos + size], True))
            pos += size
    current.raw = text[start:]
    if current.parts or current.items is not None or current.group or args:
        args.append(current)
    return args


def _string_arg(body: str, lang: _Lang, quote: str = '"') -> _Arg:
    if quote in lang.raw_quotes:
        return _plain(body.replace("\\" + quote, quote).replace("\\\\", "\\"), False)
    return _interpolated(body, lang, quote)


def _interpolated(body: str, lang: _Lang, quote: str) -> _Arg:
    arg = _Arg(raw=body)
    pattern = r"\$\{[^}]*\}" if quote == "`" and lang is _JS else lang.interpolation
    position = 0
    for match in re.finditer(pattern, body):
        arg.parts.append((decode_ansi_c(body[position : match.start()]), False))
        arg.parts.append((match.group(0), True))
        position = match.end()
    arg.parts.append((decode_ansi_c(body[position:]), False))
    return arg


def _plain(text: str, dynamic: bool) -> _Arg:
    return _Arg(parts=[(text, dynamic)], raw=text)


def _string_end(text: str, pos: int) -> int:
    quote = text[pos]
    pos += 1
    while pos < len(text) and text[pos] != quote:
        pos += 2 if text[pos] == "\\" else 1
    return min(pos + 1, len(text))


def _balanced(text: str, pos: int, lang: _Lang) -> int:
    """The index just past the bracket that closes the one at ``pos``."""
    depth = 0
    while pos < len(text):
        char = text[pos]
        if char in lang.quotes:
            pos = _string_end(text, pos)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
    return len(text)
