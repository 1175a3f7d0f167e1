"""What a piece of Python code would do, read with the standard library's own parser (``ast``).

Used by the interpreter family for ``python -c``, ``python script.py`` and Python read on standard
input. It finds the calls that reach outside the process: deleting files (``shutil.rmtree``,
``os.remove``, ``Path.unlink``), running commands (``os.system``, ``subprocess.run``; their text is
analyzed again as shell), writing files, SQL handed to ``.execute()``, ORM bulk deletes and HTTP
``DELETE`` requests. Values the code computes at run time become dynamic words, so a recursive
delete of a path held in a variable is a recursive delete of an unknown path.
"""

from __future__ import annotations

import ast
import base64
import binascii
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from blastdoor.analyze.commands.filesystem import delete_effects, write_effect
from blastdoor.analyze.commands.library_calls import data_effects, http_delete, names, sql_effects
from blastdoor.analyze.commands.script_args import RUNTIME
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect, unknown
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_SHELL_TEXT = names(
    """
    os.system os.popen subprocess.getoutput subprocess.getstatusoutput commands.getoutput
    commands.getstatusoutput asyncio.create_subprocess_shell os.popen2 os.popen3 pty.spawn
    """
)
_SUBPROCESS = frozenset(
    [
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
    ]
)
# Where the program's path is among the arguments: execl(path, arg0, ...), spawnl(mode, path, ...).
_EXEC_LIST = {
    "os.execl": 0, "os.execlp": 0, "os.execle": 0, "os.execlpe": 0, "os.spawnl": 1,
    "os.spawnlp": 1, "os.spawnle": 1, "os.spawnlpe": 1, "asyncio.create_subprocess_exec": -1,
}  # fmt: skip
_EXEC_VECTOR = {
    "os.execv": 1, "os.execvp": 1, "os.execve": 1, "os.execvpe": 1, "os.spawnv": 2,
    "os.spawnvp": 2, "os.spawnve": 2, "os.spawnvpe": 2, "os.posix_spawn": 1, "os.posix_spawnp": 1,
}  # fmt: skip
_DELETES = {"shutil.rmtree": True, "os.remove": False, "os.unlink": False}
_RMDIRS = frozenset({"os.rmdir", "os.removedirs"})
_OPENERS = frozenset({"open", "io.open", "codecs.open", "builtins.open"})
_COPIES = names(
    """
    shutil.copy shutil.copy2 shutil.copyfile shutil.copytree shutil.move os.rename os.replace
    os.renames
    """
)
_HTTP = frozenset(
    ["requests", "httpx", "requests.Session()", "httpx.Client()", "httpx.AsyncClient()"]
)
_SQL_METHODS = frozenset(["execute", "executemany", "executescript", "exec_driver_sql", "raw"])
_CONNECTORS = names(
    """
    connect create_engine create_async_engine MongoClient Redis from_url
    """
)
_PATHS = frozenset(
    ["pathlib.Path", "pathlib.PosixPath", "pathlib.PurePath", "os.path.join", "pathlib.Path()"]
)


@dataclass
class _Names:
    """What names mean in this code: imports, and variables bound once to a literal."""

    aliases: dict[str, str] = field(default_factory=dict)
    star: list[str] = field(default_factory=list)
    literals: dict[str, str | None] = field(default_factory=dict)
    modules: set[str] = field(default_factory=set)


def python_effects(inv: Invocation, ctx: Analysis, code: str, *, origin: str) -> list[Effect]:
    """The effects of running the Python source ``code`` (``origin`` says where it came from)."""
    try:
        with warnings.catch_warnings():  # a SyntaxWarning in agent code is not ours to print
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except (SyntaxError, ValueError):
        from blastdoor.analyze.commands.script_code import code_effects

        return code_effects(inv, ctx, code, language="python", origin=origin)
    finder = _Finder(inv, ctx, origin)
    finder.collect_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            finder.call(node)
    return finder.effects


class _Finder:
    def __init__(self, inv: Invocation, ctx: Analysis, origin: str) -> None:
        self.inv, self.ctx, self.origin = inv, ctx, origin
        self.names = _Names()
        self.effects: list[Effect] = []
        self.target = ""

    # -- names -----------------------------------------------------------------------------
    def collect_names(self, tree: ast.AST) -> None:
        names = self.names
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    names.aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
                    names.modules.add(alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.modules.add(node.module.split(".")[0])
                for alias in node.names:
                    if alias.name == "*":
                        names.star.append(node.module)
                    else:
                        names.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                name = node.targets[0].id
                value = self.literal(node.value)
                known = names.literals.get(name, value) if name in names.literals else value
                names.literals[name] = value if known == value else None
            elif (
                isinstance(node, ast.Call) and self.dotted(node.func).split(".")[-1] in _CONNECTORS
            ):
                first = self.literal(node.args[0]) if node.args else None
                host = next(
                    (
                        self.literal(k.value)
                        for k in node.keywords
                        if k.arg in ("host", "dsn", "url")
                    ),
                    None,
                )
                self.target = self.target or first or host or ""

    def dotted(self, node: ast.expr) -> str:
        """``os.system``, ``pathlib.Path().unlink``, ``?.delete``: the callee, imports resolved."""
        if isinstance(node, ast.Name):
            if node.id in self.names.aliases:
                return self.names.aliases[node.id]
            for module in self.names.star:
                if f"{module}.{node.id}" in _KNOWN:
                    return f"{module}.{node.id}"
            return node.id
        if isinstance(node, ast.Attribute):
            return f"{self.dotted(node.value)}.{node.attr}"
        if isinstance(node, ast.Call):
            func = self.dotted(node.func)
            if func in ("__import__", "importlib.import_module") and node.args:
                return self.literal(node.args[0]) or "?"
            return func + "()"
        return "?"

    def literal(self, node: ast.expr) -> str | None:
        """The string ``node`` always evaluates to, or None."""
        word = self.word(node)
        return None if word.dynamic else word.text

    def word(self, node: ast.expr) -> Word:
        """``node`` as a shell word: literal parts kept, run-time parts written as a variable."""
        if isinstance(node, ast.Constant):
            return (
                Word(str(node.value))
                if isinstance(node.value, (str, int, float))
                else Word(RUNTIME, True)
            )
        if isinstance(node, ast.Name):
            value = self.names.literals.get(node.id)
            return Word(value) if value is not None else Word("${" + node.id + "}", True)
        if isinstance(node, ast.JoinedStr):
            parts = [
                self.word(v.value if isinstance(v, ast.FormattedValue) else v) for v in node.values
            ]
            return Word("".join(p.text for p in parts), any(p.dynamic for p in parts))
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div)):
            left, right = self.word(node.left), self.word(node.right)
            sep = "/" if isinstance(node.op, ast.Div) else ""
            return Word(
                left.text.rstrip("/") + sep + right.text if sep else left.text + right.text,
                left.dynamic or right.dynamic,
            )
        if isinstance(node, ast.Call):
            return self._call_word(node)
        return Word(RUNTIME, True)

    def _call_word(self, node: ast.Call) -> Word:
        func = self.dotted(node.func)
        if func in _PATHS or func.endswith(
            ("os.path.expanduser", "os.path.abspath", "os.path.join")
        ):
            parts = [self.word(arg) for arg in node.args] or [Word(".")]
            return Word(
                "/".join(
                    p.text.rstrip("/") if i < len(parts) - 1 else p.text
                    for i, p in enumerate(parts)
                ),
                any(p.dynamic for p in parts),
            )
        if func.endswith(".format") and isinstance(node.func, ast.Attribute):
            base = self.word(node.func.value)
            return Word(_format_holes(base.text), True) if "{" in base.text else base
        if func in ("pathlib.Path.home", "os.path.expanduser"):
            return Word("~")
        return Word(RUNTIME, True)

    # -- calls -----------------------------------------------------------------------------
    def call(self, node: ast.Call) -> None:
        func = self.dotted(node.func)
        handler = _HANDLERS.get(func)
        if handler is not None:
            self.effects.extend(handler(self, node, func))
            return
        method = func.rsplit(".", 1)[-1]
        receiver = func[: -len(method) - 1] if "." in func else ""
        if method in _SQL_METHODS and node.args:
            self.effects.extend(self._sql(node))
        elif (
            method in ("unlink", "rmdir") and not node.args and isinstance(node.func, ast.Attribute)
        ):
            self.effects.extend(self._path_delete(node.func.value, method))
        elif method in ("write_text", "write_bytes") and isinstance(node.func, ast.Attribute):
            self._write(self.word(node.func.value), overwrite=True)
        elif receiver in _HTTP and method in ("delete", "request"):
            self.effects.extend(self._http(node, method))
        else:
            self.effects.extend(
                data_effects(
                    self.inv,
                    func,
                    self.target,
                    origin=self.origin,
                    boto="boto3" in self.names.modules,
                )
            )

    def run_shell(self, node: ast.Call, func: str) -> Iterator[Effect]:
        if not node.args:
            return
        first = node.args[0]
        if isinstance(first, (ast.List, ast.Tuple)):
            yield from self.ctx.run_argv(
                self.inv, [self.word(e) for e in first.elts], via=f"{self.origin} {func}"
            )
            return
        text = self.word(first)
        shell = func in _SHELL_TEXT or any(k.arg == "shell" for k in node.keywords)
        if text.dynamic and text.text.startswith(("${", RUNTIME)):
            yield unknown(self.inv, f"{self.origin} runs a command built at run time ({func})")
        elif shell or " " in text.text:
            yield from self.ctx.run_script(self.inv, text.text, via=f"{self.origin} {func}")
        else:
            yield from self.ctx.run_argv(self.inv, [text], via=f"{self.origin} {func}")

    def run_list(self, node: ast.Call, func: str) -> Iterator[Effect]:
        index = _EXEC_LIST[func]
        args = [self.word(arg) for arg in node.args if not isinstance(arg, ast.Starred)]
        words = (
            args if index < 0 else args[index : index + 1] + args[index + 2 :]
        )  # arg0 repeats the name
        yield from self.ctx.run_argv(self.inv, words, via=f"{self.origin} {func}")

    def run_vector(self, node: ast.Call, func: str) -> Iterator[Effect]:
        index = _EXEC_VECTOR[func]
        if len(node.args) > index and isinstance(node.args[index], (ast.List, ast.Tuple)):
            vector = node.args[index]
            assert isinstance(vector, (ast.List, ast.Tuple))
            words = [self.word(node.args[index - 1]), *[self.word(e) for e in vector.elts][1:]]
            yield from self.ctx.run_argv(self.inv, words, via=f"{self.origin} {func}")
        else:
            yield unknown(self.inv, f"{self.origin} runs a program built at run time ({func})")

    def delete(self, node: ast.Call, func: str) -> Iterator[Effect]:
        path = self._argument(node, 0, "path")
        if path is not None:
            yield from delete_effects(
                self.inv,
                self.ctx,
                [path],
                recursive=_DELETES.get(func, False),
                how=f"{self.origin} ({func}) deletes",
            )

    def rmdir(self, node: ast.Call, func: str) -> Iterator[Effect]:
        path = self._argument(node, 0, "path")
        if path is not None:
            yield from _empty_dir(self.inv, self.ctx, path, f"{self.origin} ({func})")

    def opened(self, node: ast.Call, func: str) -> Iterator[Effect]:
        path = self._argument(node, 0, "file")
        mode_word = self._argument(node, 1, "mode")
        mode = mode_word.text if mode_word is not None and not mode_word.dynamic else "r"
        if path is None:
            return
        if any(flag in mode for flag in "wax+"):
            self._write(path, overwrite="w" in mode)
        else:
            yield from _secret_read(self.inv, path)

    def copied(self, node: ast.Call, func: str) -> Iterator[Effect]:
        dest = self._argument(node, 1, "dst")
        if dest is not None:
            self._write(dest, overwrite=True, how=f"{self.origin} ({func}) writes over")
        if func.endswith(("move", "rename", "replace", "renames")):
            source = self._argument(node, 0, "src")
            for found in delete_effects(
                self.inv,
                self.ctx,
                [source] if source else [],
                recursive=True,
                how=f"{self.origin} ({func}) moves away",
            ):
                if found.tags & {"system-path", "home-path", "root-path", "protected-path"}:
                    yield found

    def run_code(self, node: ast.Call, func: str) -> Iterator[Effect]:
        if not node.args:
            return
        arg = node.args[0]
        text = self.literal(arg)
        if (
            text is None
            and isinstance(arg, ast.Call)
            and self.dotted(arg.func).endswith("b64decode")
            and arg.args
        ):
            encoded = self.literal(arg.args[0])
            text = _b64(encoded) if encoded is not None else None
        if text is None:
            yield unknown(self.inv, f"{self.origin} runs Python code built at run time ({func})")
        else:
            yield from python_effects(self.inv, self.ctx, text, origin=f"{self.origin} {func}")

    # -- helpers ---------------------------------------------------------------------------
    def _argument(self, node: ast.Call, index: int, keyword: str) -> Word | None:
        if len(node.args) > index and not isinstance(node.args[index], ast.Starred):
            return self.word(node.args[index])
        for kw in node.keywords:
            if kw.arg == keyword:
                return self.word(kw.value)
        return None

    def _write(self, path: Word, *, overwrite: bool, how: str = "") -> None:
        found = write_effect(
            self.inv, self.ctx, path, how=how or f"{self.origin} writes to", overwrite=overwrite
        )
        if found is not None:
            self.effects.append(found)

    def _path_delete(self, receiver: ast.expr, method: str) -> Iterator[Effect]:
        path = self.word(receiver)
        if method == "rmdir":
            yield from _empty_dir(self.inv, self.ctx, path, f"{self.origin} (Path.rmdir)")
        else:
            yield from delete_effects(
                self.inv,
                self.ctx,
                [path],
                recursive=False,
                how=f"{self.origin} (Path.unlink) deletes",
            )

    def _sql(self, node: ast.Call) -> list[Effect]:
        arg = node.args[0]
        if isinstance(arg, ast.Call) and arg.args:  # session.execute(text("DROP ..."))
            arg = arg.args[0]
        text = self.literal(arg)
        if text is None:
            return []
        return sql_effects(self.inv, text, target=self.target, origin=self.origin)

    def _http(self, node: ast.Call, method: str) -> list[Effect]:
        args = [self.literal(a) for a in node.args]
        if method == "request":
            if not args or (args[0] or "").upper() != "DELETE":
                return []
            args = args[1:]
        url = args[0] if args else None
        return [http_delete(self.inv, url or "(a URL computed at run time)", origin=self.origin)]


def _empty_dir(inv: Invocation, ctx: Analysis, path: Word, how: str) -> Iterator[Effect]:
    from dataclasses import replace

    for found in delete_effects(
        inv, ctx, [path], recursive=False, how=f"{how} removes the empty folder"
    ):
        yield replace(
            found, tags=found.tags | {"empty-dir"}, reversibility=Reversibility.REVERSIBLE
        )


def _secret_read(inv: Invocation, path: Word) -> Iterator[Effect]:
    from blastdoor.analyze import paths

    if not path.dynamic and paths.is_secret_path(path.text):
        yield effect(
            inv,
            Verb.CREDENTIAL_USE,
            Target("secret-file", path.text),
            f"read the secrets in {path.text}",
            scope=Scope.LOCAL,
            tags={"secret"},
        )


def _format_holes(text: str) -> str:
    import re

    return re.sub(r"\{[^{}]*\}", lambda _match: RUNTIME, text)


def _b64(text: str) -> str | None:
    try:
        return base64.b64decode(text).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


_HANDLERS = {
    **{name: _Finder.run_shell for name in _SHELL_TEXT | _SUBPROCESS},
    **{name: _Finder.run_list for name in _EXEC_LIST},
    **{name: _Finder.run_vector for name in _EXEC_VECTOR},
    **{name: _Finder.delete for name in _DELETES},
    **{name: _Finder.rmdir for name in _RMDIRS},
    **{name: _Finder.opened for name in _OPENERS},
    **{name: _Finder.copied for name in _COPIES},
    **{name: _Finder.run_code for name in ("exec", "eval", "builtins.exec", "builtins.eval")},
}
_KNOWN = frozenset(_HANDLERS)
