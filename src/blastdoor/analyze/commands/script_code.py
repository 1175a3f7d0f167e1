"""What code in JavaScript, Ruby, Perl, PHP, Lua, R, AppleScript and awk would do, read by a small
tokenizer over the calls that reach outside the process.

These languages get no full parser here. Instead each has a table of the calls that matter (running
a command, deleting or writing a file: :mod:`.script_languages`) and their arguments are read token
by token (:mod:`.script_args`): string literals are decoded with the language's escapes,
interpolations and variables become dynamic parts, so ``system("rm -rf " + dir)`` is ``rm -rf`` of
a path only known at run time. This module acts on what each call received. Command text is
analyzed again as shell.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from blastdoor.analyze.commands.filesystem import delete_effects, write_effect
from blastdoor.analyze.commands.library_calls import names
from blastdoor.analyze.commands.script_args import (
    RUNTIME,
    Arg,
    call_args,
    flatten,
    interpolated,
    plain,
    string_arg,
)
from blastdoor.analyze.commands.script_languages import JS, JS_EVAL, LANGUAGES
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect, unknown
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_SHELLS = names(
    """
    sh bash zsh dash ksh fish python python3 perl ruby node
    """
)
_RECURSIVE_OPTION = re.compile(
    r"recursive\s*(?::|=>?)\s*(?:true|TRUE|T\b)|\brecurse\b|:recursive\b"
)


def code_effects(
    inv: Invocation, ctx: Analysis, code: str, *, language: str, origin: str
) -> list[Effect]:
    """The effects of running ``code`` written in ``language`` (a key of :data:`LANGUAGES`)."""
    lang = LANGUAGES[language]
    found: list[Effect] = []
    calls = (*lang.calls, JS_EVAL) if lang is JS else lang.calls
    if (
        language == "javascript" and "child_process" in code
    ):  # const { exec } = require("child_process")
        calls = (*calls, (r"(?<![.\w])exec(?=\s*\()", "shell"))
    for pattern, kind in calls:
        for match in re.finditer(pattern, code):
            args = call_args(code, match.end(), lang)
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
                arg = interpolated(body, lang, "`")
            elif body.startswith('"'):
                arg = string_arg(body[1:-1], lang)
            else:  # cmd = "date"; cmd | getline
                assigned = re.findall(rf"\b{body}\s*=\s*\"((?:[^\"\\]|\\.)*)\"\s*(?:;|$|\n)", code)
                literal = len(assigned) == 1 and not re.search(rf"\b{body}\s*=\s*[^\"\s=]", code)
                arg = string_arg(assigned[0], lang) if literal else plain(RUNTIME, True)
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
    inv: Invocation, ctx: Analysis, args: list[Arg], *, language: str, origin: str
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
    inv: Invocation, ctx: Analysis, kind: str, args: list[Arg], *, origin: str, raw: str
) -> Iterator[Effect]:
    if kind in ("shell", "awk-pipe"):
        yield from _run(inv, ctx, args, origin=origin, awk_pipe=kind == "awk-pipe")
    elif kind in ("delete", "delete-r", "rmdir"):
        recursive = kind == "delete-r" or bool(_RECURSIVE_OPTION.search(raw))
        targets = [a.word for a in flatten(args) if a.is_path]
        for found in delete_effects(
            inv, ctx, targets, recursive=recursive, how=f"{origin} deletes"
        ):
            yield _empty_dir(found) if kind == "rmdir" and not recursive else found
    elif kind in ("write", "awk-write", "open", "perl-open", "r-write"):
        yield from _write(inv, ctx, kind, args, origin=origin, raw=raw)


def _run(
    inv: Invocation, ctx: Analysis, args: list[Arg], *, origin: str, awk_pipe: bool
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
    inv: Invocation, ctx: Analysis, kind: str, args: list[Arg], *, origin: str, raw: str
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
                [plain(text.strip().strip("|").strip(), target.word.dynamic)],
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


def _empty_dir(found: Effect) -> Effect:
    if found.verb is not Verb.DELETE:
        return found
    return replace(found, tags=found.tags | {"empty-dir"}, reversibility=Reversibility.REVERSIBLE)
