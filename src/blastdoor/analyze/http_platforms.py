"""The APIs of the platforms agents reach with curl or an HTTP tool: which resource a call deletes
or changes, and whether that resource holds data.

A REST call to a known host is read by its path, as pairs of collection and id
(``/v1/apps/shop-prod/volumes/vol_123``: the volume ``vol_123`` of the app ``shop-prod``); the last
pair is the target, named ``PLATFORM-KIND`` (``fly-volume``), and every name on the path is a scope
hint, so an app called ``shop-production`` puts the call in production. A GraphQL mutation to a
known host (Railway's ``volumeDelete``) is read by its field name. Deleting a kind that holds data
(a database, volume, project, repository, zone, bucket ...) is ``destroy``; other deletes are
``delete``. Calls to hosts not listed here are judged by ``http.py`` from method and path alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

# host (regex) -> platform
HOSTS = (
    (r"(backboard\.)?railway\.(app|com)", "railway"),
    (r"api\.machines\.dev|api\.fly\.io", "fly"),
    (r"api\.heroku\.com", "heroku"),
    (r"api\.vercel\.com", "vercel"),
    (r"api\.netlify\.com", "netlify"),
    (r"api\.render\.com", "render"),
    (r"api\.supabase\.(com|io)", "supabase"),
    (r"[a-z0-9]{20}\.supabase\.co", "supabase-data"),
    (r"console\.neon\.tech", "neon"),
    (r"api\.github\.com", "github"),
    (r"api\.cloudflare\.com", "cloudflare"),
)  # fmt: skip
_HOSTS = [(re.compile(rf"^({pattern})$"), name) for pattern, name in HOSTS]

# kinds (singular) whose deletion loses data that no configuration brings back
STATEFUL = frozenset({
    "volume", "database", "postgres", "postgresql", "redis", "keyvalue", "disk", "project", "repo",
    "repository", "zone", "bucket", "store", "addon", "app", "branch", "d1", "kv", "namespace",
    "backup", "snapshot", "environment", "table", "plugin",
})  # fmt: skip
# per platform, kinds that are not what their name suggests
_NOT_STATEFUL = {"github": {"branch", "ref"}, "vercel": {"project"}}
_SKIP = frozenset({"api", "v1", "v2", "v3", "v4", "v9", "v10", "v13", "client", "graphql", "rest", "accounts", "orgs", "teams"})
_VERSION = re.compile(r"^v\d+$")
_MUTATION = re.compile(r"^([a-z][a-zA-Z]*?)(Delete|Remove|Destroy|Purge|Wipe|Drop|Reset)$")


@dataclass(frozen=True)
class Call:
    platform: str
    kind: str  # singular: volume, project, dns-record ...
    name: str  # the resource's id or name ("" when the path names none)
    names: tuple[str, ...]  # every name on the path (scope hints)

    @property
    def stateful(self) -> bool:
        return self.kind in STATEFUL and self.kind not in _NOT_STATEFUL.get(self.platform, set())

    @property
    def target_kind(self) -> str:
        return f"{self.platform}-{self.kind}"


def platform(host: str) -> str:
    """The platform whose API ``host`` (as ``http.host_of`` gives it) is, or ""."""
    return next((name for pattern, name in _HOSTS if pattern.match(host)), "")


def rest_call(name: str, url: str) -> Call | None:
    """The resource a REST URL of the platform ``name`` names (None for no platform)."""
    if not name or name == "railway":
        return None
    try:
        path = urlsplit(url if "://" in url else "https://" + url).path
    except ValueError:
        return None
    parts = [p for p in path.split("/") if p and p not in _SKIP and not _VERSION.match(p)]
    if name == "supabase-data" and len(parts) >= 1:  # PostgREST: /rest/v1/TABLE?filters
        return Call("supabase", "table", parts[-1], (parts[-1],))
    if name == "github" and "refs" in parts:
        return Call(name, "ref", "/".join(parts[parts.index("refs") + 1 :]), tuple(parts[1:3]))
    pairs = [(parts[i], parts[i + 1] if i + 1 < len(parts) else "") for i in range(0, len(parts), 2)]
    if name == "github" and pairs and pairs[0][0] == "repos" and len(parts) >= 3:  # /repos/OWNER/REPO/...
        rest = parts[3:]
        pairs = [("repos", f"{parts[1]}/{parts[2]}")] + [(rest[i], rest[i + 1] if i + 1 < len(rest) else "") for i in range(0, len(rest), 2)]
    if not pairs:
        return None
    collection, ident = pairs[-1]
    if not ident and len(pairs) > 1:  # an action on a resource: /machines/m1/destroy
        collection, ident = pairs[-2]
    return Call(name, _singular(collection), ident, tuple(value for _, value in pairs if value))


def mutation_call(name: str, field: str) -> Call | None:
    """The resource a GraphQL mutation field of the platform ``name`` deletes (``volumeDelete``)."""
    match = _MUTATION.match(field)
    if not name or match is None:
        return None
    return Call(name, _singular(re.sub(r"(?<=[a-z])(?=[A-Z])", "-", match.group(1))), "", ())


_NOT_FILTERS = frozenset({"select", "order", "limit", "offset", "columns", "on_conflict", "apikey"})


def filtered(url: str) -> bool:
    """Whether a PostgREST URL carries a row filter (``?id=eq.3``), not just options (``?select=id``)."""
    try:
        query = urlsplit(url if "://" in url else "https://" + url).query
    except ValueError:
        return False
    return any(name not in _NOT_FILTERS for name, _ in parse_qsl(query, keep_blank_values=True))


def _singular(word: str) -> str:
    word = word.lower().replace("_", "-")
    if word == "postgres":  # not a plural; the rules below give the other words their singular
        return word
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word
