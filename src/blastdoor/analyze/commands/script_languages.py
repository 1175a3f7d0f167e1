"""The call tables of :mod:`.script_code`: for each language it reads without a full parser
(JavaScript, Ruby, Perl, PHP, Lua, R, AppleScript, a little Python, awk), how its strings are
quoted and interpolated and which calls reach outside the process.

A call is ``(callee pattern, kind)``; the kind says what acting on its arguments means:

- ``shell``: run a command (its text is analyzed again as shell);
- ``delete``, ``delete-r`` (recursive), ``rmdir``: delete the paths it names;
- ``write``, ``open``, ``perl-open``, ``r-write``: write a file (``open`` only in a writing mode;
  Perl's ``open`` may also run a command through a pipe);
- ``eval``: run code in the same language.

A literal is ``(pattern whose first group that matched is command text, kind)``: backticks,
``%x{...}``, ``qx{...}``, and awk's ``print | "cmd"``, ``"cmd" | getline`` (``awk-pipe``) and
``print > "file"`` (``awk-write``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lang:
    """How one language quotes and interpolates strings, and the calls that reach outside it."""

    quotes: str  # characters that delimit strings
    raw_quotes: str  # strings without escapes beyond \\ and the quote itself
    interpolation: str  # inside double-quoted / template strings: what is only known at run time
    calls: tuple[tuple[str, str], ...]  # (callee pattern, kind)
    literals: tuple[tuple[str, str], ...] = ()  # (pattern whose group 1 is command text, kind)
    joiners: str = "+."


JS = Lang(
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
JS_EVAL = (r"(?<![\w.$])eval(?=\s*\()|\bnew\s+Function(?=\s*\()|\bvm\.runIn\w+(?=\s*\()", "eval")
_RUBY = Lang(
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
_PERL = Lang(
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
_PHP = Lang(
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
_LUA = Lang(
    quotes="\"'", raw_quotes="", interpolation=r"(?!)", joiners=".",
    calls=(
        (r"\bos\.execute\b|\bio\.popen\b", "shell"),
        (r"\bos\.remove\b", "delete"),
        (r"\bio\.open\b", "open"),
        (r"(?<![\w.])(?:load|loadstring)(?=\s*\()", "eval"),
    ),
)  # fmt: skip
_R = Lang(
    quotes="\"'", raw_quotes="", interpolation=r"(?!)",
    calls=(
        (r"(?<![\w.])(?:system|system2|shell)(?=\s*\()", "shell"),
        (r"(?<![\w.])unlink(?=\s*\()", "delete"),
        (r"\bfile\.remove(?=\s*\()", "delete"),
        (r"(?<![\w.])(?:writeLines|cat)(?=\s*\()", "r-write"),
    ),
)  # fmt: skip
_APPLESCRIPT = Lang(
    quotes='"',
    raw_quotes="",
    interpolation=r"(?!)",
    joiners="&",
    calls=((r"\bdo\s+shell\s+script\b|\bdoShellScript", "shell"),),
)
_PYTHON = Lang(
    quotes="\"'", raw_quotes="", interpolation=r"(?!)",
    calls=(
        (r"\bos\.(?:system|popen)\b|\bsubprocess\.\w+|\bcommands\.getoutput\b", "shell"),
        (r"\bshutil\.rmtree\b", "delete-r"),
        (r"\bos\.(?:remove|unlink)\b", "delete"),
        (r"(?<![\w.])open(?=\s*\()", "open"),
    ),
)  # fmt: skip
_AWK_STRING = r"\"(?:[^\"\\]|\\.)*\""
_AWK = Lang(
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
    "javascript": JS, "ruby": _RUBY, "perl": _PERL, "php": _PHP, "lua": _LUA, "r": _R,
    "applescript": _APPLESCRIPT, "python": _PYTHON, "awk": _AWK,
}  # fmt: skip
