"""Commands that run other commands named somewhere else: package scripts (``npm run``, ``yarn``,
``pnpm``, ``bun run``, ``deno task``), ``make`` and ``just`` targets, package runners (``npx``,
``bunx``, ``pnpm dlx``, ``uvx``) and environment runners (``uv run``, ``poetry run``,
``bundle exec``).

The named script is read from the working directory (package.json, Makefile, justfile) and its
text is analyzed as shell, so ``npm run db:reset`` is judged by what ``db:reset`` runs. A script or
file that is not there is ``execute-unknown`` (``project_tasks`` tells it from a command that came
without a working directory). Installing dependencies is an ordinary ``execute``;
installing globally changes the machine, and publishing a package cannot be taken back.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Sequence

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.commands.justfiles import analyze_just
from blastdoor.analyze.commands.library_calls import names
from blastdoor.analyze.commands.makefiles import analyze_make, make_recipe_to_shell
from blastdoor.analyze.commands.package_registry import (
    REGISTRY_COMMANDS,
    package_json,
    publish,
    registry_change,
)
from blastdoor.analyze.commands.project_tasks import missing
from blastdoor.analyze.commands.verbs import join_path
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect, unknown
from blastdoor.model import Effect, Scope, Target, Verb

__all__ = ["FAMILIES", "deno_task", "make_recipe_to_shell", "package_script"]

_GLOBAL_PREFIX = "/usr/local/lib/node_modules"


def _scripts(ctx: Analysis, path: str, key: str = "scripts") -> dict[str, str] | None:
    data = package_json(ctx, path)
    if data is None:
        return None
    scripts = data.get(key)
    return {str(k): str(v) for k, v in scripts.items()} if isinstance(scripts, dict) else {}


def package_script(
    inv: Invocation,
    ctx: Analysis,
    name: str,
    args: Sequence[Word],
    *,
    via: str,
    directory: str = "",
    if_present: bool = False,
) -> Iterator[Effect]:
    """What ``npm run NAME ARGS`` runs: the package.json script, with its pre and post scripts."""
    path = join_path(directory, "package.json")
    scripts = _scripts(ctx, path)
    if scripts is None:
        yield missing(
            inv,
            ctx,
            path,
            name,
            f"{path} is not in the working directory, so what {via} runs is unknown",
        )
        return
    if name not in scripts:
        if not if_present:
            yield unknown(
                inv,
                f"{path} has no script named {name!r}, so what {via} runs is unknown",
                tags={"missing-file"},
            )
        return
    extra = " ".join(shlex.quote(w.text) for w in args if w.text != "--")
    for step, text in (
        ("pre" + name, scripts.get("pre" + name)),
        (name, scripts[name]),
        ("post" + name, scripts.get("post" + name)),
    ):
        if text:
            script = f"{text} {extra}" if step == name and extra else text
            yield from ctx.run_script(inv, script, via=f"{via.rsplit(' ', 1)[0]} {step}")


def deno_task(inv: Invocation, ctx: Analysis, words: Sequence[Word]) -> Iterator[Effect]:
    """``deno task NAME``: a task from deno.json(c), or a package.json script."""
    rest = [w for w in words if not w.text.startswith("-")]
    if not rest:
        return
    name = rest[0].text
    for config in ("deno.json", "deno.jsonc"):
        tasks = _scripts(ctx, config, "tasks")
        if tasks and name in tasks:
            yield from ctx.run_script(inv, tasks[name], via=f"deno task {name}")
            return
    yield from package_script(inv, ctx, name, rest[1:], via=f"deno task {name}")


# -- npm, yarn, pnpm, bun ------------------------------------------------------------------------
_NPM_VALUES = names(
    """
    --prefix -w --workspace --loglevel --registry --cache --userconfig --filter -F -C --dir
    --cwd --tag --otp --access
    """
)
_RUN = frozenset({"run", "run-script", "rum", "urn"})
_LIFECYCLE = {
    "test": "test", "t": "test", "tst": "test", "start": "start", "stop": "stop",
    "restart": "restart",
}  # fmt: skip
_INSTALL = names(
    """
    install i add ci uninstall remove rm un unlink update up upgrade
    """
)
_YARN_BUILTINS = names(
    """
    add audit autoclean bin cache check config create dedupe dlx exec explain
    generate-lock-entry global help import info init install licenses link list login logout
    node npm outdated owner pack patch patch-commit plugin policies publish rebuild remove run
    search set stage tag team unlink unplug up upgrade upgrade-interactive version versions why
    workspace workspaces constraints sdks prune fetch store root ls i rm update env setup
    doctor deploy server c it install-test rb ln un uninstall x test t start catalog
    approve-builds self-update cat-file cat-index find-hash ignored-builds recursive
    """
)


_BUN_BUILTINS = names(
    """
    build pm repl completions upgrade x create init link patch
    """
)


_BUN_EVAL = frozenset({"-e", "--eval", "-p", "--print"})


def _split(words: Sequence[Word]) -> tuple[dict[str, str], list[Word]]:
    """Leading package-manager options (``--prefix DIR``, ``-g``) and the words after them."""
    options: dict[str, str] = {}
    rest = list(words)
    while rest and rest[0].text.startswith("-") and rest[0].text != "--":
        name, eq, value = rest.pop(0).text.partition("=")
        if not eq and name in _NPM_VALUES and rest:
            value = rest.pop(0).text
        options[name] = value
    return options, rest


def _directory(options: dict[str, str]) -> str:
    return (
        options.get("--prefix")
        or options.get("--cwd")
        or options.get("-C")
        or options.get("--dir")
        or ""
    )


def _package_manager(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    tool = {"yarnpkg": "yarn"}.get(inv.name, inv.name)
    if tool == "bun" and inv.args[:1] and inv.args[0].text in _BUN_EVAL:
        yield from _bun_code(inv, ctx, list(inv.args))
        return
    options, rest = _split(inv.args)
    if not rest:
        yield ordinary_program(inv, "run bun" if tool == "bun" else f"install dependencies with {tool}")
        return
    command, args = rest[0].text, rest[1:]
    if tool == "bun" and command == "a":  # bun's own alias of `add`
        command = "add"
    more, args = _split(args)
    options.update(more)
    directory = _directory(options)
    if command in _RUN:
        yield from _run_script(inv, ctx, tool, args, options, directory)
    elif command in _LIFECYCLE and not (tool == "bun" and command == "test"):  # bun's own runner
        yield from _lifecycle(inv, ctx, tool, _LIFECYCLE[command], args, directory)
    elif (command in ("exec", "dlx", "x") and tool != "npm") or command == "exec":
        yield from run_package(inv, ctx, args, via=f"{tool} {command}")
    elif command == "npm" and tool == "yarn" and args:  # yarn berry: `yarn npm publish|tag ...`
        yield from _registry(inv, ctx, tool, args[0].text, args[1:], options, directory)
    elif command in ("publish", "unpublish") or command in REGISTRY_COMMANDS:
        yield from _registry(inv, ctx, tool, command, args, options, directory)
    elif command in _INSTALL or command == "global":
        is_global = bool({"-g", "--global"} & set(options)) or command == "global"
        if is_global or options.get("--location") == "global":
            yield _global(inv, tool)
        else:
            yield ordinary_program(inv, f"{tool} {command}: change the project's dependencies")
    elif tool == "bun" and re.search(r"\.(m?[jt]sx?|cjs)$|/", command):
        yield from _bun_code(inv, ctx, rest)
    elif tool != "npm" and command not in _YARN_BUILTINS | (
        _BUN_BUILTINS if tool == "bun" else set()
    ):
        yield from package_script(
            inv, ctx, command, args, via=f"{tool} {command}", directory=directory
        )
    else:
        yield ordinary_program(inv, f"run {tool} {command}")


def _registry(inv: Invocation, ctx: Analysis, tool: str, command: str, args: Sequence[Word],
              options: dict[str, str], directory: str) -> Iterator[Effect]:  # fmt: skip
    if command in ("publish", "unpublish"):
        dry = "--dry-run" in options or any(w.text == "--dry-run" for w in args)
        named = next((w.text for w in args if not w.text.startswith("-")), "")
        yield publish(inv, ctx, tool, unpublish=command == "unpublish", dry=dry,
                      directory=directory, package=named if command == "unpublish" else "")  # fmt: skip
    elif command in REGISTRY_COMMANDS:
        yield from registry_change(inv, ctx, tool, command, args, directory)
    else:
        yield ordinary_program(inv, f"run {tool} npm {command}")


def _run_script(inv: Invocation, ctx: Analysis, tool: str, args: list[Word], options: dict[str, str],
                directory: str) -> Iterator[Effect]:  # fmt: skip
    """``npm run NAME ARGS``, ``yarn run NAME``, ``pnpm run NAME``, ``bun run NAME|FILE``."""
    if tool == "npm":  # before `--`, options belong to npm; after it, to the script
        cut = next((i for i, w in enumerate(args) if w.text == "--"), len(args))
        options = {**options, **{w.text: "" for w in args[:cut] if w.text.startswith("-")}}
        args = [w for w in args[:cut] if not w.text.startswith("-")] + args[cut:]
    if not args:
        return
    name = args[0].text
    if tool == "bun" and re.search(r"\.(m?[jt]sx?|cjs)$|/", name):
        yield from _bun_code(inv, ctx, args)
        return
    yield from package_script(inv, ctx, name, args[1:], via=f"{tool} run {name}",
                              directory=directory, if_present="--if-present" in options)  # fmt: skip


def _lifecycle(
    inv: Invocation, ctx: Analysis, tool: str, name: str, args: list[Word], directory: str
) -> Iterator[Effect]:
    scripts = _scripts(ctx, join_path(directory, "package.json"))
    if scripts is not None and name not in scripts:
        if name == "start" and ctx.read_file(join_path(directory, "server.js")) is not None:
            yield from ctx.run_argv(
                inv, [Word("node"), Word(join_path(directory, "server.js"))], via=f"{tool} start"
            )
            return
        if name == "restart" and ("stop" in scripts or "start" in scripts):
            for step in ("stop", "start"):
                yield from package_script(
                    inv,
                    ctx,
                    step,
                    args,
                    via=f"{tool} restart",
                    directory=directory,
                    if_present=True,
                )
            return
    yield from package_script(inv, ctx, name, args, via=f"{tool} {name}", directory=directory)


def _bun_code(inv: Invocation, ctx: Analysis, rest: list[Word]) -> Iterator[Effect]:
    from blastdoor.analyze.commands.interpreters import code_of, file_code

    first = rest[0].text
    if first in _BUN_EVAL:
        code = rest[1:2]
        if code and not code[0].dynamic:
            yield from code_of(inv, ctx, code[0].text, language="javascript", origin="bun code")
        else:
            yield unknown(inv, "bun runs code only known at run time")
        return
    yield from file_code(inv, ctx, rest[0], language="javascript")


def _global(inv: Invocation, tool: str) -> Effect:
    return effect(
        inv,
        Verb.MODIFY,
        Target("path", _GLOBAL_PREFIX),
        f"{tool} changes packages installed for the whole machine, outside the project",
        scope=Scope.LOCAL,
        tags={"system-path", "global-install"},
    )


# -- package runners -----------------------------------------------------------------------------
_RUNNER_VALUES = names(
    """
    -p --package --from --with --python --node-options --registry --shell --spec --index-url
    --pip-args
    """
)


def run_package(
    inv: Invocation, ctx: Analysis, words: Sequence[Word], *, via: str
) -> Iterator[Effect]:
    """``npx TOOL ARGS`` and friends: judge ``TOOL ARGS`` (package options and version dropped)."""
    rest = list(words)
    while rest and rest[0].text.startswith("-"):
        name, eq, _ = rest.pop(0).text.partition("=")
        if name == "--":
            break
        if name in ("-c", "--call") and rest:
            yield from ctx.run_script(inv, rest.pop(0).text, via=via)
            return
        if not eq and name in _RUNNER_VALUES and rest:
            rest.pop(0)
    if not rest:
        return
    tool = rest[0]
    name = re.sub(r"(?<=.)@[^/@]*$", "", tool.text)
    yield from ctx.run_argv(inv, [Word(name, tool.dynamic), *rest[1:]], via=via)


def _runner(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    if inv.name == "pipx":
        if inv.args[:1] and inv.args[0].text == "run":
            yield from run_package(inv, ctx, inv.args[1:], via="pipx run")
        else:
            yield ordinary_program(inv, "run pipx")
        return
    yield from run_package(inv, ctx, inv.args, via=inv.name)


_ENV_VALUES = names(
    """
    --with --with-requirements --with-editable -p --python --env-file --directory --project
    --package --extra --group --only-group --index --index-url --extra-index-url -C
    --config-setting --config-file --cache-dir -e --environment --from
    """
)


def _environment_runner(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """``uv run X``, ``poetry run X``, ``pipenv run X``, ``bundle exec X``, ``hatch run X``..."""
    words = list(inv.args)
    command = words[0].text if words else ""
    if inv.name == "uv" and command == "tool" and words[1:2] and words[1].text == "run":
        yield from run_package(inv, ctx, words[2:], via="uv tool run")
        return
    if command in ("publish", "upload"):
        yield publish(
            inv, ctx, inv.name, unpublish=False, dry=any(w.text == "--dry-run" for w in words)
        )
        return
    if command not in ("run", "exec"):
        yield ordinary_program(inv, f"run {inv.name} {command}".strip())
        return
    rest = words[1:]
    module = False
    while rest and rest[0].text.startswith("-"):
        text = rest.pop(0).text
        if text == "--":
            break
        if text in ("-m", "--module"):
            module = True
            break
        if "=" not in text and text in _ENV_VALUES and rest:
            rest.pop(0)
    if not rest:
        return
    if module:
        rest = [Word("python"), Word("-m"), *rest]
    elif re.search(r"\.py$", rest[0].text) and inv.name in (
        "uv",
        "pdm",
        "hatch",
        "poetry",
        "pipenv",
    ):
        rest = [Word("python"), *rest]
    yield from ctx.run_argv(inv, rest, via=f"{inv.name} {command}")


def _rimraf(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """``rimraf PATH``: the Node packages' ``rm -rf``."""
    paths = [w for w in inv.args if not w.text.startswith("-")]
    if paths:
        yield from ctx.run_argv(inv, [Word("rm"), Word("-rf"), *paths], via="rimraf")


FAMILIES = (
    CommandFamily.of(["npm", "yarn", "yarnpkg", "pnpm", "bun"], _package_manager),
    CommandFamily.of(["npx", "bunx", "pnpx", "uvx", "pipx"], _runner),
    CommandFamily.of(
        ["uv", "poetry", "pipenv", "bundle", "bundler", "pdm", "hatch"], _environment_runner
    ),
    CommandFamily.of(["make", "gmake"], analyze_make),
    CommandFamily.of(["just"], analyze_just),
    CommandFamily.of(["rimraf"], _rimraf),
)
