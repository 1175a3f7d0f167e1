"""What the package managers do to a package registry: publish and unpublish a version, and change
what a published package says about itself (deprecation notices, dist-tags, owners, access).

Publishing cannot be taken back (a version number, once used, is gone for good); unpublishing
removes what other projects install. Both are tagged ``publish``. The other changes are reversible
(``npm deprecate PKG ""`` lifts a notice) but reach everyone who installs the package, on a
registry whose environment Blastdoor cannot tell: a ``modify`` of unknown scope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence

from blastdoor.analyze.commands.verbs import join_path
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

__all__ = ["package_json", "publish", "registry_change"]

# subcommand → (the actions that change the registry, or empty for "always", what it changes)
_CHANGES: dict[str, tuple[frozenset[str], str]] = {
    "deprecate": (frozenset(), "mark {pkg} as deprecated for everyone who installs it"),
    "undeprecate": (frozenset(), "lift the deprecation notice of {pkg}"),
    "dist-tag": (
        frozenset({"add", "rm", "set"}),
        "move a dist-tag of {pkg}, which changes the version everyone installs",
    ),
    "tag": (
        frozenset({"add", "remove"}),
        "move a dist-tag of {pkg}, which changes the version everyone installs",
    ),
    "owner": (frozenset({"add", "rm"}), "change who may publish {pkg}"),
    "access": (
        frozenset({"set", "grant", "revoke", "public", "restricted"}),
        "change who may read or publish {pkg}",
    ),
}
REGISTRY_COMMANDS = frozenset(_CHANGES)


def package_json(ctx: Analysis, path: str) -> dict[str, object] | None:
    """package.json (or any JSON file with ``//`` comment lines) as a dict, None when unreadable."""
    text = ctx.read_file(path)
    if text is None:
        return None
    try:
        data = json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.M))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _target(ctx: Analysis, tool: str, directory: str, package: str) -> Target:
    """The package named on the line, else the one package.json in ``directory`` names."""
    if package:
        return Target("package-registry", package)
    data = (
        package_json(ctx, join_path(directory, "package.json"))
        if tool in ("npm", "yarn", "pnpm", "bun")
        else None
    )
    name = str(data.get("name", "")) if data else ""
    return Target("package-registry", name or f"the package in this folder ({tool})")


def publish(
    inv: Invocation,
    ctx: Analysis,
    tool: str,
    *,
    unpublish: bool,
    dry: bool,
    directory: str = "",
    package: str = "",
) -> Effect:
    """``npm publish``, ``npm unpublish [PKG]``, ``poetry publish``, ``uv publish`` ..."""
    target = _target(ctx, tool, directory, package)
    if dry:
        return effect(inv, Verb.READ, target, f"show what {tool} would publish", scope=Scope.LOCAL)
    verb, what = (
        (Verb.DELETE, f"remove {target.name} from the public registry")
        if unpublish
        else (
            Verb.MODIFY,
            f"publish {target.name} to the public registry; a published version cannot be replaced",
        )
    )
    return effect(
        inv, verb, target, what, reversibility=Reversibility.IRREVERSIBLE, tags={"publish"}
    )


def registry_change(
    inv: Invocation, ctx: Analysis, tool: str, command: str, args: Sequence[Word], directory: str
) -> Iterator[Effect]:
    """``npm deprecate PKG MSG``, ``npm dist-tag add PKG@1.2.3 latest``, ``npm owner rm USER PKG``,
    ``yarn npm tag add``: a change to what the registry serves; listing is a read."""
    actions, what = _CHANGES[command]
    operands = [w.text for w in args if not w.text.startswith("-")]
    action = operands[0] if actions and operands else ""
    if (actions and action not in actions) or not operands:
        yield effect(
            inv,
            Verb.READ,
            Target("package-registry", tool),
            f"read the registry ({tool} {command})",
            scope=Scope.LOCAL,
        )
        return
    # deprecate PKG; dist-tag add PKG@1.2 TAG; owner add USER PKG; access grant PERM TEAM PKG
    low = 1 if actions else 0  # the words before the package: the action (add, rm, grant ...)
    position = {"owner": 2, "access": len(operands) - 1}.get(command, low)
    chosen = operands[position] if low <= position < len(operands) else ""
    package = re.sub(r"(?<=.)@[^/@]*$", "", chosen)
    target = _target(ctx, tool, directory, package)
    yield effect(
        inv,
        Verb.MODIFY,
        target,
        what.format(pkg=target.name),
        tags={"package-registry"},
    )
