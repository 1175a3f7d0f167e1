"""Where a path points: the workspace, a temp folder, the home folder, the system, or unknown.

Pure path arithmetic on the working directory and the environment given in the context; nothing
is read from disk. The result is a set of tags the policy matches on.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from blastdoor.analyze.invocation import Where, Word

# Tags a path can carry.
ROOT = "root-path"  # "/" itself (or a drive root)
SYSTEM = "system-path"  # /etc, /usr, /var, /boot ... and devices
HOME = "home-path"  # the home folder itself, or something in it outside the workspace
TEMP = "temp-path"  # /tmp, /var/tmp, $TMPDIR and below
TEMP_ROOT = "temp-root"  # a temporary folder itself, or everything in it (/tmp, /tmp/*)
WORKSPACE = "workspace-path"  # inside the working directory
WORKSPACE_ROOT = "workspace-root"  # the whole working directory (".", "*", "./*")
OUTSIDE = "outside-workspace"  # another absolute path, or ../ escaping the workspace
DYNAMIC = "dynamic-path"  # only known at run time
GLOB = "glob"
REGENERABLE = "regenerable"  # build output, caches, installed dependencies
PROTECTED = "protected-path"  # agent rules and settings, Blastdoor's own files

SYSTEM_PREFIXES = (
    "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/var",
    "/opt", "/srv", "/root", "/sys", "/proc", "/dev", "/run", "/snap", "/mnt", "/media",
    "/System", "/Library", "/Applications", "/private", "/cores", "/nix", "/efi",
)  # fmt: skip
TEMP_PREFIXES = ("/tmp", "/var/tmp", "/private/tmp", "/private/var/tmp", "/dev/shm")
HOME_PARENTS = ("/home", "/Users")

REGENERABLE_NAMES = frozenset({
    "node_modules", "dist", "build", "out", "target", ".next", ".nuxt", ".svelte-kit", ".turbo",
    "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox", ".venv", "venv",
    "coverage", ".coverage", "htmlcov", ".cache", ".parcel-cache", ".gradle", ".angular", "tmp",
    "temp", ".eggs", "bower_components", ".terraform", "vendor", "obj", "bin", "_build", ".dart_tool",
    "cmake-build-debug", "cmake-build-release", "storybook-static", "site", "public/build", ".expo",
    "logs", ".sass-cache", ".nyc_output", "deps", "lib-cov", "elm-stuff", ".stack-work", "pkg",
    ".eslintcache", ".stylelintcache", ".prettiercache", ".DS_Store",
    # a compiler's default output, Go's coverage and profile files as its documentation names
    # them (go test -coverprofile=c.out, -cpuprofile cpu.out), gprof's data; not any *.out, which
    # is as often nohup's log, a batch job's results or a model
    "a.out", "coverage.out", "cover.out", "c.out", "cpu.out", "mem.out", "gmon.out",
})  # fmt: skip
# Files a build, a test or a profiler writes (.node: a compiled Node.js addon).
REGENERABLE_SUFFIXES = (
    ".pyc", ".pyo", ".o", ".obj", ".a", ".so", ".class", ".log", ".tmp", ".egg-info", ".whl",
    ".tsbuildinfo", ".map", ".lock.tmp", ".orig", ".rej", ".bak", ".swp", ".lcov",
    ".gcda", ".gcno", ".prof", ".node",
)  # fmt: skip

# Agent rule files and settings, and Blastdoor's own files: no agent action may modify them.
PROTECTED_NAMES = frozenset({
    "CLAUDE.md", "CLAUDE.local.md", "AGENTS.md", "GEMINI.md", ".cursorrules", ".windsurfrules",
    ".clinerules", "copilot-instructions.md", "blastdoor.toml", ".blastdoor.toml",
})  # fmt: skip
PROTECTED_PARTS = (
    "/.claude/", "/.codex/", "/.gemini/", "/.cursor/", "/.blastdoor/", "/.github/copilot",
    "/.continue/", "/.windsurf/", "/.aider",
)  # fmt: skip

WORKSPACE_PLACEHOLDER = "/__workspace__"  # the working directory when the context names none
UNKNOWN_DIR = "$PWD"  # the shell moved somewhere only known at run time (cd "$DIR")

_VAR = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


@dataclass(frozen=True)
class PathInfo:
    """A path word resolved as far as the context allows, and what it points at."""

    text: str
    resolved: str
    tags: frozenset[str]

    @property
    def dangerous(self) -> bool:
        return bool(self.tags & {ROOT, SYSTEM, HOME})


def classify(
    word: Word, *, cwd: str | None, env: Mapping[str, str], here: str | None = None
) -> PathInfo:
    """Classify ``word`` as a filesystem path seen from ``cwd`` (the workspace), or from ``here``
    when the shell has moved elsewhere (``cd ..``)."""
    text = word.text
    home = env.get("HOME", "")
    tags: set[str] = set()
    path = _expand_known(text, env, home)
    if path is None:
        return _dynamic(text, word)
    if here is not None and not path.startswith(("/", "~")):
        if here == UNKNOWN_DIR:
            return PathInfo(text, posixpath.join(here, path), frozenset({DYNAMIC}))
        path = posixpath.join(here, path)
    if any(ch in path for ch in "*?[") and not path.startswith("{{"):
        tags.add(GLOB)
    if path.startswith("~"):
        user, _, rest = path[1:].partition("/")
        if user or not home:
            return PathInfo(text, path, frozenset(tags | {HOME} | _protected(path)))
        path = home.rstrip("/") + "/" + rest
    absolute = path.startswith("/")
    joined = path if absolute else posixpath.join(cwd or WORKSPACE_PLACEHOLDER, path)
    resolved = posixpath.normpath(joined)
    workspace = posixpath.normpath(cwd) if cwd else WORKSPACE_PLACEHOLDER
    tags |= _protected(resolved)
    base = posixpath.basename(resolved.rstrip("/*"))
    if _regenerable(resolved, workspace):
        tags.add(REGENERABLE)
    if resolved == "/" or re.fullmatch(r"/\*?", resolved):
        tags.add(ROOT)
    elif resolved == workspace or (
        GLOB in tags and posixpath.dirname(resolved) == workspace and base in ("*", ".*")
    ):
        tags |= {WORKSPACE, WORKSPACE_ROOT}
    elif _under(resolved, workspace):
        tags.add(WORKSPACE)
    elif env.get("TMPDIR") and _under(resolved, (env["TMPDIR"],)):
        tags.add(TEMP)
    elif home and (resolved == home.rstrip("/") or _under(resolved, (home,))):
        tags.add(HOME)  # before /tmp: a home folder under /tmp (containers, CI) is still a home
    elif _under(resolved, TEMP_PREFIXES):
        tags.add(TEMP)
    elif _is_home(resolved):
        tags.add(HOME)
    elif _under(resolved, SYSTEM_PREFIXES) or resolved in SYSTEM_PREFIXES:
        tags.add(SYSTEM)
    else:
        tags.add(OUTSIDE)
    if resolved.startswith(workspace + "/..") or (not absolute and path.startswith("..")):
        tags -= {WORKSPACE, TEMP}
        tags.add(OUTSIDE)
    if TEMP in tags and _temp_root(resolved, env):
        tags.add(TEMP_ROOT)
    return PathInfo(text, resolved, frozenset(tags))


def path_info(word: Word, where: Where) -> PathInfo:
    """:func:`classify` seen from where the command runs (the workspace, or where ``cd`` moved)."""
    return classify(word, cwd=where.cwd, env=where.env, here=where.here)


def _expand_known(text: str, env: Mapping[str, str], home: str) -> str | None:
    """Replace a leading ``$HOME`` / ``$TMPDIR`` / ``$PWD`` style variable; None when unknown."""
    match = _VAR.match(text)
    if not match:
        return None if "$" in text or "`" in text else text
    name, rest = match.group(1), text[match.end() :]
    if name == "HOME":
        base = home or "~"
    elif name in ("TMPDIR", "TMP", "TEMP", "RUNNER_TEMP"):
        base = env.get(name) or "/tmp"
    elif name in env:
        base = env[name]
    else:
        return None
    if "$" in rest or "`" in rest:
        return None
    return base + rest


def _dynamic(text: str, word: Word) -> PathInfo:
    tags = {DYNAMIC}
    # "$DIR/" or "${X}/*": if the variable is empty this is the root folder.
    if re.fullmatch(r"\"?\$\{?[A-Za-z_][A-Za-z0-9_]*\}?\"?/\*?", text):
        tags.add(ROOT)
    return PathInfo(text, text, frozenset(tags))


def _temp_root(path: str, env: Mapping[str, str]) -> bool:
    """Whether ``path`` is a temporary folder itself (``/tmp``, ``$TMPDIR``) or a glob of all
    that is in it (``/tmp/*``, ``/var/tmp/.*``): other programs' sockets, locks and work live there."""
    roots = {*TEMP_PREFIXES, posixpath.normpath(env["TMPDIR"])} if env.get("TMPDIR") else TEMP_PREFIXES
    if path in roots:
        return True
    folder, name = posixpath.split(path)
    return folder in roots and bool(name) and set(name) <= _WILDCARD_NAME and "*" in name


_WILDCARD_NAME = frozenset("*?.")


def _under(path: str, prefixes: tuple[str, ...] | str) -> bool:
    if isinstance(prefixes, str):
        prefixes = (prefixes,)
    return any(
        path == (p.rstrip("/") or "/") or path.startswith(p.rstrip("/") + "/") for p in prefixes
    )


def _is_home(path: str) -> bool:
    parts = path.strip("/").split("/")
    return (len(parts) >= 1 and "/" + parts[0] in HOME_PARENTS) or path == "/root"


def _regenerable(path: str, workspace: str) -> bool:
    parts = [p for p in path.split("/") if p]
    if not parts:
        return False
    if path.endswith(REGENERABLE_SUFFIXES):
        return True
    inside = (
        parts[len([p for p in workspace.split("/") if p]) :] if _under(path, workspace) else parts
    )
    return any(part in REGENERABLE_NAMES for part in inside)


def _protected(path: str) -> set[str]:
    name = posixpath.basename(path)
    if name in PROTECTED_NAMES or any(part in "/" + path + "/" for part in PROTECTED_PARTS):
        return {PROTECTED}
    return set()


_SECRET = re.compile(
    r"(^|/)(\.env(\.[\w.-]+)?|\.envrc|\.netrc|\.npmrc|\.pypirc|\.pgpass|\.my\.cnf|\.git-credentials"
    r"|credentials(\.json)?|\.aws/(credentials|config)|\.ssh/(id_[\w-]+|[\w.-]+\.pem)|[\w.-]+\.pem"
    r"|[\w.-]+\.key|[\w.-]*secrets?[\w.-]*\.(ya?ml|json|toml|env)|\.docker/config\.json|\.kube/config"
    r"|\.config/gcloud/[\w./-]+|\.azure/[\w./-]+|service[-_]?account[\w.-]*\.json|id_rsa|id_ed25519"
    r"|\.vault-token|token(s)?(\.txt|\.json)?|\.htpasswd|g?shadow|opasswd|master\.key|\.p12|\.pfx|keystore(\.jks)?"
    r"|terraform\.tfvars|\.tfstate)$"
)
_NOT_SECRET = re.compile(r"\.env\.(example|sample|template|dist|defaults)$|\.pub$")


def is_secret_path(text: str) -> bool:
    """Whether ``text`` names a file that usually holds credentials (.env, SSH keys, ...)."""
    clean = text.strip("\"'")
    return bool(_SECRET.search(clean)) and not _NOT_SECRET.search(clean)
