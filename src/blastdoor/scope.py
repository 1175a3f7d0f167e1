"""Scope resolution: production, staging, development, local or unknown, for each effect's target.

Signals, strongest first:
1. the user's own names for their environments (``[scope]`` in the policy file, glob patterns),
2. the target's own name and the hints the analyzer attached (a database host, a kube context, an
   AWS profile, a Terraform workspace, ``RAILS_ENV=production`` on the command line),
3. the context's environment (``APP_ENV``, ``RAILS_ENV``, ``NODE_ENV``, ``DATABASE_URL`` ...).
Obvious names (prod, production, prd, live) mean production out of the box. Filesystem effects
already carry ``local`` and are left alone.

Names are read asymmetrically for cloud, cluster and SaaS resources (effects tagged
:data:`RESOURCE`: AWS/GCP/Azure objects, Kubernetes namespaces and objects, platform and SaaS
objects). A name may *raise* any target's scope (``delete-bucket prod-logs`` is production,
``delete ns staging`` is staging), but a development-looking resource name alone (``test``,
``dev-cache``, ``arn:test``, ``-n test``) may not *lower* a delete or an irreversible change: the
account, profile, project or kube context is the environment, and a bucket called ``test`` can live
in the production account. Without such a hint the target stays unknown, which the table treats as
production for irreversible actions. Hints that choose the environment still lower it: ``profile=``,
``context=``, ``account=``, ``project=``, ``env=``, ``workspace=``, ``stack=``, the folder a tool runs
from, the user's ``[scope]`` names and the context's variables (``AWS_PROFILE=dev``). Hosts and
database URLs are unchanged (``host=``/``url=`` hints, a database named ``test``, ``localhost``):
a machine's or a database server's name is where the data lives. Creates and reversible changes
keep reading the resource's name (``aws s3 cp x s3://dev-bucket`` is development).

A server on this machine (``localhost``, ``127.0.0.1``, ``::1``, ``*.local``) is development, and
its effects are tagged :data:`THIS_MACHINE`: the default policy asks before data kept there is
wiped or dropped, since it is neither a regenerable artifact nor committed, and localhost may be a
tunnel (``kubectl port-forward``, ``ssh -L``) to another environment.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from blastdoor.model import Effect, Reversibility, Scope, Verb

ENV_SIGNALS = (
    "BLASTDOOR_ENV", "APP_ENV", "ENVIRONMENT", "ENV", "STAGE", "DEPLOY_ENV", "RAILS_ENV", "RACK_ENV",
    "NODE_ENV", "DJANGO_SETTINGS_MODULE", "FLASK_ENV", "MIX_ENV", "APP_ENVIRONMENT", "ASPNETCORE_ENVIRONMENT",
    "SPRING_PROFILES_ACTIVE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "TF_WORKSPACE", "KUBE_CONTEXT",
    "CLOUDSDK_ACTIVE_CONFIG_NAME", "VERCEL_ENV", "RAILWAY_ENVIRONMENT", "FLY_APP_NAME", "HEROKU_APP",
)  # fmt: skip
URL_SIGNALS = (
    "DATABASE_URL",
    "POSTGRES_URL",
    "MYSQL_URL",
    "REDIS_URL",
    "MONGODB_URI",
    "MONGO_URL",
    "PGHOST",
)

_TOKENS: tuple[tuple[Scope, re.Pattern[str]], ...] = (
    (Scope.PRODUCTION, re.compile(r"(^|[^a-z])(prod|production|prd|live|prod\d+)([^a-z]|$)")),
    (Scope.STAGING, re.compile(r"(^|[^a-z])(staging|stage|stg|preprod|pre-prod|uat|qa)([^a-z]|$)")),
    (Scope.DEVELOPMENT, re.compile(
        r"(^|[^a-z])(dev|develop|development|local|localhost|test|testing|sandbox|ci|scratch)([^a-z]|$)"
        r"|127\.0\.0\.1|::1|\.local$|\.sqlite3?$|\.db$|^sqlite:|^file:"
    )),
)  # fmt: skip

# Branches that count as production when history on them is rewritten or deleted.
PROTECTED_BRANCHES = (
    "main",
    "master",
    "production",
    "prod",
    "release",
    "release/*",
    "trunk",
    "live",
    "stable",
)


@dataclass(frozen=True, kw_only=True)
class ScopeConfig:
    """The user's names for their environments: glob patterns per scope."""

    names: Mapping[Scope, tuple[str, ...]] = field(default_factory=dict)
    protected_branches: tuple[str, ...] = PROTECTED_BRANCHES

    def match(self, candidates: Iterable[str]) -> tuple[Scope, str] | None:
        for scope in (Scope.PRODUCTION, Scope.STAGING, Scope.DEVELOPMENT, Scope.LOCAL):
            for pattern in self.names.get(scope, ()):
                for candidate in candidates:
                    if fnmatch.fnmatch(candidate.lower(), pattern.lower()):
                        return (
                            scope,
                            f"{candidate!r} matches the configured {scope.value} name {pattern!r}",
                        )
        return None


def scope_of_text(text: str) -> Scope | None:
    lowered = text.lower()
    for scope, pattern in _TOKENS:
        if pattern.search(lowered):
            return scope
    return None


def _hints(effect: Effect) -> list[str]:
    return [
        tag.split("=", 1)[1]
        for tag in effect.tags
        if "=" in tag and tag.split("=", 1)[0] in _HINT_KEYS
    ]


_HINT_KEYS = frozenset({"host", "context", "namespace", "profile", "workspace", "env", "database", "project",
                        "app", "account", "stack", "branch", "region", "url", "site", "service",
                        "cluster"})  # fmt: skip
# Hints that choose the environment a resource lives in (not the resource's own name or container).
_CHOOSING_HINTS = frozenset({"profile", "context", "account", "project", "env", "workspace", "stack", "host", "url"})  # fmt: skip
RESOURCE = "cloud-resource"  # tag: an object in a cloud account, cluster or SaaS tenant


def _folders(effect: Effect) -> list[str]:
    return [tag.split("=", 1)[1] for tag in effect.tags if tag.startswith(f"{FOLDER}=")]


def _folder_scope(folder: str) -> Scope | None:
    """A folder's name can raise a target to production anywhere in it (``envs/prod``, ``prod-eu``),
    but lowers it only when the folder is exactly named for an environment (``envs/dev``): a checkout
    called ``ci-check`` or ``test_infra`` says nothing about where ``terraform destroy`` lands."""
    scope = scope_of_text(folder)
    if scope is Scope.PRODUCTION:
        return scope
    own = posixpath.basename(folder.rstrip("/")).lower()
    return scope_of_text(own) if _FOLDER_ENVIRONMENTS.match(own) else None


def _candidates(effect: Effect, hints: list[str], folders: list[str]) -> list[str]:
    """The names that may say which environment ``effect`` lands in (its ``hints`` and
    ``folders`` read from its tags)."""
    if ON_HOST in effect.tags:
        # Run over ssh on a machine: the machine's name decides, not a path or program on it.
        return [h for tag in effect.tags if tag.startswith("host=") and (h := tag.split("=", 1)[1])]
    name = effect.target.name
    if name in folders:
        name = ""  # judged by _folder_scope instead
    elif name.startswith("/"):
        # Only a folder's own name speaks for its environment (envs/prod); the folders above it
        # (a home called ci, a random temp name) do not.
        name = posixpath.basename(name.rstrip("/"))
    found = [_named_part(c) for c in (name, *hints)]
    if VIA_SSH in effect.tags:  # localhost, seen from the ssh host, is that host
        found = [c for c in found if not _LOCALHOST.search(c.lower())]
    return [c for c in found if c]


def _named_part(candidate: str) -> str:
    """A URL names its environment by its host (``api.staging.example.com``); the path does not
    (``/v1/prod-report`` on a development server is still development). Database and other URLs
    keep their path: the database name (``/app_prod``) is the target."""
    if "://" not in candidate:
        return candidate
    parts = urlsplit(candidate)
    if parts.scheme.lower() in _WEB_SCHEMES:
        return parts.hostname or ""
    return f"{parts.hostname or ''}/{(parts.path or '').strip('/')}".strip("/")


FOLDER = "folder"  # hint key: the folder an infrastructure tool runs its configuration from
_FOLDER_ENVIRONMENTS = re.compile(
    r"^(dev|develop|development|sandbox|test|staging|stage|stg|preprod|pre-prod|uat|qa)$"
)
ON_HOST = "on-host"  # an effect that lands on the machine named by its host= hint (ssh)
VIA_SSH = "via-ssh"  # an effect of a command run on another machine over ssh
_WEB_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "ftps", "sftp", "scp"})
THIS_MACHINE = "this-machine"  # tag: the target is a server on this machine (localhost)
_LOOPBACK = r"(localhost|127\.0\.0\.1|::1|0\.0\.0\.0)(:\d+)?"  # this machine's own names, with a port
_LOCALHOST = re.compile(rf"^{_LOOPBACK}$|^\[::1\]")  # a whole host name
_ON_THIS_MACHINE = re.compile(rf"^({_LOOPBACK}|\[::1\](:\d+)?|[\w.-]+\.local(:\d+)?)(/|$)")  # a host, maybe a path

_RANK = {
    Scope.PRODUCTION: 0,
    Scope.STAGING: 1,
    Scope.DEVELOPMENT: 2,
    Scope.LOCAL: 3,
    Scope.UNKNOWN: 4,
}
_KEPT_SUFFIXES = frozenset({"local", "localhost", "db", "sqlite", "sqlite3", "internal", "test"})
_DOMAIN = re.compile(r"^[\w-]+(\.[\w-]+)+$")


def _without_tld(candidate: str) -> str:
    """``api.example.dev`` → ``api.example``: a top-level domain names no environment."""
    last = candidate.rsplit(".", 1)[-1].lower()
    if (
        _DOMAIN.match(candidate)
        and not candidate.replace(".", "").isdigit()
        and last not in _KEPT_SUFFIXES
    ):
        return candidate.rsplit(".", 1)[0]
    return candidate


def _from_env(env: Mapping[str, str]) -> tuple[Scope, str] | None:
    for key in ENV_SIGNALS:
        value = env.get(key)
        if value:
            scope = scope_of_text(value)
            if scope is not None:
                return scope, f"{key}={value}"
    for key in URL_SIGNALS:
        value = env.get(key)
        if value:
            host = urlsplit(value).hostname if "://" in value else value
            scope = scope_of_text(host or "")
            if scope is not None:
                return scope, f"{key} points at {host}"
    return None


def resolve(effect: Effect, *, env: Mapping[str, str], config: ScopeConfig) -> Effect:
    """``effect`` with its scope decided (unchanged when the analyzer already knew it)."""
    if effect.scope is not Scope.UNKNOWN:
        return effect
    hints, folders = _hints(effect), _folders(effect)
    if effect.target.kind == "git-branch":
        branch = effect.target.name.split(":", 1)[-1]
        if any(fnmatch.fnmatch(branch, p) for p in config.protected_branches):
            return effect.with_scope(Scope.PRODUCTION, (f"{branch} is a protected branch",))
        candidates = hints  # a branch called `dev-fix` is not a development environment
    else:
        candidates = _candidates(effect, hints, folders)
    # The user's patterns may be written for a whole name (a URL with its path), so they see it too.
    mine = ON_HOST in effect.tags or effect.target.kind == "git-branch"
    whole = [] if mine else [effect.target.name, *hints, *folders]
    configured = config.match([*candidates, *whole])
    if configured is not None:
        return effect.with_scope(configured[0], (configured[1],))
    named = [
        (scope, c) for c in candidates if (scope := scope_of_text(_without_tld(c))) is not None
    ] + [(scope, f) for f in folders if (scope := _folder_scope(f)) is not None]
    unsaid = _names_that_cannot_lower(effect, named, folders)
    named = [pair for pair in named if pair not in unsaid]
    if named:
        # Any name that says production wins: `--context prod ... delete ns staging` is production.
        scope, candidate = min(named, key=lambda pair: _RANK[pair[0]])
        resolved = effect.with_scope(
            scope, (f"the target {candidate!r} names a {scope.value} environment",)
        )
        if scope is Scope.DEVELOPMENT and _ON_THIS_MACHINE.search(candidate.lower()):
            return replace(resolved, tags=resolved.tags | {THIS_MACHINE})
        return resolved
    from_env = (
        None if VIA_SSH in effect.tags else _from_env(env)
    )  # this machine's env, not the host's
    if from_env is not None:
        return effect.with_scope(from_env[0], (f"the context says {from_env[1]}",))
    if unsaid:
        names = ", ".join(sorted({repr(c) for _, c in unsaid}))
        return effect.with_scope(
            Scope.UNKNOWN,
            (f"the resource name {names} does not say which account or cluster it lives in",),
        )
    return effect


def _names_that_cannot_lower(
    effect: Effect, named: list[tuple[Scope, str]], folders: list[str]
) -> list[tuple[Scope, str]]:
    """The development-looking names in ``named`` that may not lower ``effect``: a cloud, cluster
    or SaaS resource's own name (or its namespace, cluster, app) when the effect deletes or cannot
    be undone. Names from hints that choose the environment (profile, context ...) still count."""
    lasting = effect.verb in (Verb.DELETE, Verb.DESTROY) or (
        effect.reversibility is Reversibility.IRREVERSIBLE
    )
    if RESOURCE not in effect.tags or not lasting:
        return []
    choosing = {
        _named_part(tag.split("=", 1)[1])
        for tag in effect.tags
        if tag.split("=", 1)[0] in _CHOOSING_HINTS
    } | set(folders)
    return [(s, c) for s, c in named if s is Scope.DEVELOPMENT and c not in choosing]
