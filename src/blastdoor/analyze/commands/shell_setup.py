"""Shell set-up code a program prints for the shell to load: ``eval "$(pyenv init -)"``,
``source <(kubectl completion bash)``, ``eval $(ssh-agent -s)``, ``eval "$(brew shellenv)"``.

What ``eval`` or ``source`` runs here is only known at run time, but it is the program's own
integration code (completions, ``PATH`` and environment settings, a hook, an alias), written to
be loaded this way. Loading it trusts that program exactly as running it does, so it is judged as
running the program, not as unknown text.

Only the requests listed below count: a known program followed by the words that ask it for its
set-up (``pyenv init``, ``direnv hook``, ``kubectl completion``). Any other program's output may be
someone else's text (``sort init`` prints a file, ``ssh host init`` and ``npx pkg init`` run code
from elsewhere), and a program given by a relative path (``./pyenv``) may be a file the agent just
wrote, so everything else that builds code at run time stays ``execute-unknown``.
"""

from __future__ import annotations

import re

from blastdoor.analyze.invocation import Invocation, Word, effect
from blastdoor.model import Effect, Scope, Target, Verb

_SUBSTITUTION = re.compile(r"^(?:\$\(|<\(|`)\s*([^`()|;&<>$]*?)\s*(?:\)|`)$")
# A word bash reads as itself: no quotes, escapes, globs or braces to change it.
_PLAIN = re.compile(r"[\w.,:=+@%/~-]+")
# Directories a program is installed into, not written by a project (Homebrew's own instructions
# load `eval "$(/opt/homebrew/bin/brew shellenv)"`).
_SYSTEM_BINS = frozenset({
    "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/opt/homebrew/bin",
    "/home/linuxbrew/.linuxbrew/bin",
})  # fmt: skip

_COMPLETION = ("completion",)
# Version managers and prompt tools: `rbenv init - bash`, `zoxide init --cmd cd bash`.
_INIT = frozenset({
    "rbenv", "nodenv", "goenv", "plenv", "jenv", "phpenv", "luaenv", "scalaenv", "zoxide", "atuin",
    "mcfly", "oh-my-posh",
})  # fmt: skip
# Command-line tools whose `completion` subcommand prints their completion script.
_COMPLETES = frozenset({
    "kubectl", "helm", "kind", "k3d", "kubeadm", "kustomize", "flux", "argocd", "istioctl", "linkerd",
    "cilium", "eksctl", "doctl", "oc", "velero", "tkn", "skaffold", "stern", "vcluster", "talosctl",
    "gh", "glab", "hugo", "npm", "pnpm", "ng", "pip", "pip3", "pdm", "gcrane", "crane", "cosign",
    "docker", "podman", "golangci-lint", "goreleaser", "hcloud", "rclone",
})  # fmt: skip
# Each program with the words that, right after its name, ask it for its shell set-up.
_REQUESTS: dict[str, tuple[tuple[str, ...], ...]] = {
    **{manager: (("init",),) for manager in _INIT},
    "pyenv": (("init",), ("virtualenv-init",)),
    "starship": (("init",), ("completions",)),
    "direnv": (("hook",),),
    "brew": (("shellenv",),),
    "mise": (("activate",), ("completion",)),
    "rtx": (("activate",), ("completion",)),
    "fnm": (("env",), ("completions",)),
    "opam": (("env",), ("config", "env")),
    "conda": tuple(
        (f"shell.{shell}", "hook") for shell in ("bash", "zsh", "fish", "posix", "xonsh")
    ),
    "mamba": (("shell", "hook"),),
    "micromamba": (("shell", "hook"),),
    "docker-machine": (("env",),),
    "podman-machine": (("env",),),
    "minikube": (("docker-env",), ("podman-env",), _COMPLETION),
    "thefuck": (("--alias",),),
    "fzf": (("--bash",), ("--zsh",), ("--fish",)),
    "just": (("--completions",),),
    "luarocks": (("path",),),
    "navi": (("widget",),),
    "uv": (("generate-shell-completion",),),
    "rustup": (("completions",),),
    "poetry": (("completions",), ("env", "activate")),
    "deno": (("completions",),),
    **{tool: (_COMPLETION,) for tool in _COMPLETES},
}
# Programs whose whole output is set-up, with the options that take a value. ssh-agent and
# gpg-agent run an operand as a command, so they take none; dircolors reads a colour database and
# keychain key names, and neither runs them.
_WHOLE_OUTPUT: dict[str, tuple[frozenset[str], bool]] = {
    "ssh-agent": (frozenset({"-a", "-E", "-O", "-P", "-t"}), False),
    "gpg-agent": (frozenset({"--homedir", "--options", "--log-file"}), False),
    "dircolors": (frozenset(), True),
    "keychain": (frozenset(), True),
    "register-python-argcomplete": (frozenset({"-s", "--shell"}), True),
}


def _program(word: str) -> str | None:
    """The program ``word`` runs when it is one of the listed ones, found the way an installed
    program is: by name, or by its path in a system directory."""
    folder, slash, name = word.rpartition("/")
    if slash and folder not in _SYSTEM_BINS:
        return None
    return name if name in _REQUESTS or name in _WHOLE_OUTPUT else None


def _asks_for_setup(program: str, rest: list[str]) -> bool:
    if program in _WHOLE_OUTPUT:
        valued, operands = _WHOLE_OUTPUT[program]
        after_valued = False
        for part in rest:
            if not (operands or after_valued or part.startswith("-")):
                return False  # `ssh-agent bash -c '...'` runs the command
            after_valued = part in valued
        return True
    return any(tuple(rest[: len(ask)]) == ask for ask in _REQUESTS[program])


def setup_program(word: Word) -> str | None:
    """The program whose shell set-up ``word`` loads (``$(pyenv init -)`` → ``pyenv``), or None."""
    match = _SUBSTITUTION.match(word.text.strip())
    if match is None:
        return None
    parts = match.group(1).split()
    if not parts or not all(_PLAIN.fullmatch(part) for part in parts):
        return None
    program = _program(parts[0])
    if program is None or not _asks_for_setup(program, parts[1:]):
        return None
    return program


def load_setup(inv: Invocation, program: str) -> Effect:
    """Loading ``program``'s shell set-up into this shell."""
    return effect(
        inv,
        Verb.EXECUTE,
        Target("program", program),
        f"load the shell set-up {program} prints (its completions, variables or hooks)",
        scope=Scope.LOCAL,
    )
