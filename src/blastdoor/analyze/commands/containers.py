"""Containers: docker, podman, nerdctl, and docker-compose / ``docker compose``.

The local daemon is a development environment: removing a named container, images, networks and
build caches there is allowed (images and caches are rebuilt or pulled again; a network is recreated
by the next ``compose up``). Deleting volumes (``volume rm``, ``volume prune``, ``system prune
--volumes``, ``compose down -v``), force-removing running containers and removing stopped containers
in bulk (``container prune``, ``system prune``, ``rm $(docker ps -aq)``: their writable layers may
hold data nobody looked at) lose data that may exist nowhere else, so those effects carry the
``container-data`` tag that the infrastructure pack asks about. Stopping or killing every container
(``stop $(docker ps -q)``) and force-removing images that containers may still run from (``rmi -f``)
carry ``disrupts-containers``, also asked. ``run --privileged`` and host mounts are tagged
``privileged``. ``exec CONTAINER CMD`` is
analyzed as CMD. With ``-H``/``--host``, ``--context`` or ``DOCKER_HOST`` naming another machine,
the scope is left to :mod:`blastdoor.scope` with a ``host=`` hint; ``push`` changes a registry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.verbs import Parsed, elsewhere, parse, words
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_GLOBAL_VALUES = words(
    """
    -H --host -c --context --config -l --log-level --tlscacert --tlscert --tlskey --url
    --connection --root --runroot --namespace --storage-driver --address
    """
)
_RUN_VALUES = words(
    """
    -v --volume -e --env -p --publish --name -w --workdir --network --net --entrypoint -u
    --user --env-file --mount -l --label --cpus -m --memory --restart --hostname -h --platform
    --pull --cap-add --cap-drop --device --security-opt --log-driver --log-opt --ulimit --gpus
    --add-host --dns --tmpfs --volumes-from --link --pid --ipc --expose --shm-size --runtime
    --cidfile --network-alias --ip --group-add --cgroupns --userns --uts -a --attach
    --detach-keys --stop-signal --health-cmd --memory-swap --cpuset-cpus --label-file --sysctl
    --stop-timeout --pod --annotation --arch --os --secret --timeout
    """
)
_COMPOSE_VALUES = words(
    """
    -f --file -p --project-name --project-directory --env-file --profile -t --timeout --rmi
    --ansi --parallel
    """
)
_HOST_MOUNTS = (
    "/",
    "/etc",
    "/root",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/home",
    "/var",
    "/usr",
    "/boot",
    "/dev",
    "/proc",
    "/sys",
    "~",
    "$HOME",
)
_READS = words(
    """
    ps images image logs inspect version info stats top events history diff port search ls df
    config help wait manifest
    """
)


def _docker(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    head: list[Word] = []
    while words and words[0].text.startswith("-"):
        head.append(words.pop(0))
        if head[-1].text in _GLOBAL_VALUES and words:
            head.append(words.pop(0))
    where = _where(inv, ctx, parse(head, values=_GLOBAL_VALUES))
    if not words:
        yield effect(
            inv, Verb.READ, Target("docker", ""), f"{inv.name} only shows help", scope=Scope.LOCAL
        )
        return
    command, rest = words[0].text.lower(), words[1:]
    if command == "container" and rest and rest[0].text not in ("prune", "ls", "list"):
        command, rest = rest[0].text.lower(), rest[1:]
    if command == "compose":
        yield from _compose(inv, ctx, rest, where)
    else:
        yield from _command(inv, ctx, command, rest, where)


def _where(inv: Invocation, ctx: Analysis, parsed: Parsed | None) -> tuple[Scope, set[str]]:
    """Local daemon → development; another host or context → unknown, with a ``host=`` hint."""
    host = ""
    if parsed is not None:
        host = parsed.value("-H", "--host", "--url", "--connection")
        context = parsed.value("-c", "--context")
        if context and context not in (
            "default",
            "desktop-linux",
            "colima",
            "rootless",
            "orbstack",
        ):
            host = host or context
    host = host or inv.assignments.get("DOCKER_HOST", "") or ctx.env.get("DOCKER_HOST", "")
    if not host or host.startswith(("unix://", "npipe://")):
        return Scope.DEVELOPMENT, {"docker"}
    return Scope.UNKNOWN, {"docker", "remote", f"host={host}"}


def _command(
    inv: Invocation,
    ctx: Analysis,
    command: str,
    rest: Sequence[Word],
    where: tuple[Scope, set[str]],
) -> Iterator[Effect]:
    scope, tags = where
    if command not in ("run", "create", "exec"):
        rest = _expand(rest)
    parsed = parse(
        rest,
        values={"--filter", "--format", "-t", "--time", "-s", "--signal", "-n", "--name"},
        flags={"-a", "--all", "-f", "--force", "-v", "--volumes", "-q", "--quiet"},
        depth=0,
    )
    opts = set(parsed.options)
    names = [w.text for w in parsed.positionals]
    sub = names[0].lower() if names else ""
    if parsed.help or (command in _READS and not (command == "image" and sub in ("rm", "prune"))):
        yield effect(
            inv,
            Verb.READ,
            Target("docker", command),
            f"{inv.name} {command} only reads",
            scope=scope,
            tags=tags,
        )
    elif command in ("run", "create"):
        yield from _run(inv, ctx, rest, scope, tags)
    elif command == "exec":
        yield from _exec(inv, ctx, rest, scope, tags)
    elif command in ("rm", "rmi") or (command == "image" and sub == "rm"):
        force = bool(opts & {"-f", "--force"})
        kind = "image" if command != "rm" else "container"
        targets = names[1:] if command == "image" else names
        every = kind == "container" and _every_container(parsed.positionals)
        data = kind == "container" and (every or bool(opts & {"-f", "--force", "-v", "--volumes"}))
        extra = {"container-data"} if data else {"regenerable-image"} if kind == "image" else set()
        if kind == "image" and force:
            extra = {"disrupts-containers"}  # removed even while containers run from it
        yield effect(
            inv,
            Verb.DELETE,
            Target(f"docker-{kind}", " ".join(targets)),
            f"remove the {kind}s {'listed by ' if every else ''}{' '.join(targets)}"
            + (" even while running" if force and kind == "container" else "")
            + (" even while containers use them" if force and kind == "image" else ""),
            scope=scope,
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags | extra,
        )
    elif command in (
        "volume",
        "system",
        "network",
        "image",
        "builder",
        "buildx",
        "container",
        "secret",
        "service",
        "stack",
        "swarm",
        "node",
        "config",
        "context",
        "plugin",
        "pod",
        "machine",
    ):
        yield from _group(inv, command, sub, names[1:], opts, scope, tags)
    elif command == "push":
        image = names[0] if names else ""
        yield effect(
            inv,
            Verb.MODIFY,
            Target("container-registry", image),
            f"publish the image {image} to its registry",
            tags=(tags - {"remote"}) | {"publish"},
        )
    elif command in (
        "stop",
        "kill",
        "restart",
        "pause",
        "unpause",
        "start",
        "rename",
        "update",
        "commit",
        "tag",
    ):
        every = command in _HALTS and _every_container(parsed.positionals)
        yield effect(
            inv,
            Verb.MODIFY,
            Target("docker-container", " ".join(names)),
            f"{command} {' '.join(names)}" + (": every container on the daemon" if every else ""),
            scope=scope,
            tags=tags | ({"disrupts-containers"} if every else set()),
        )
    else:
        yield effect(
            inv,
            Verb.EXECUTE,
            Target("docker", command),
            f"{inv.name} {command}",
            scope=scope,
            tags=tags,
        )


_HALTS = frozenset({"stop", "kill", "pause"})
# ``$(docker ps -q)``, ``$(podman ps -aq)``, `` `docker container ls -q` ``: every (running)
# container, listed when the command runs. A filter (``--filter``, ``-f``) picks some of them.
_EVERY_CONTAINER = re.compile(
    r"^(\$\(|`)\s*(sudo\s+)?(docker|podman|nerdctl)\s+(container\s+)?(ps|ls)\b(?![^)`]*(--filter|\s-\w*f))"
)


def _every_container(operands: Sequence[Word]) -> bool:
    """Whether ``operands`` are every container, listed at run time by ``docker ps -q``."""
    return any(w.dynamic and _EVERY_CONTAINER.match(w.text) for w in operands)


def _expand(words: Sequence[Word]) -> list[Word]:
    """``-vf`` → ``-v -f`` (docker accepts bundled one-letter flags)."""
    out: list[Word] = []
    for word in words:
        text = word.text
        if len(text) > 2 and text[0] == "-" and text[1] != "-" and text[1:].isalpha():
            out.extend(Word("-" + letter) for letter in text[1:])
        else:
            out.append(word)
    return out


def _group(
    inv: Invocation,
    group: str,
    sub: str,
    names: Sequence[str],
    opts: set[str],
    scope: Scope,
    tags: set[str],
) -> Iterator[Effect]:
    what = " ".join(names) or ("all unused" if sub == "prune" else "")
    said = f"{inv.name} {group} {sub} {what}".strip()
    if sub in (
        "ls",
        "list",
        "inspect",
        "df",
        "info",
        "show",
        "events",
        "history",
        "top",
        "logs",
        "ps",
        "version",
    ):
        yield effect(
            inv,
            Verb.READ,
            Target(f"docker-{group}", what),
            f"{said} only reads",
            scope=scope,
            tags=tags,
        )
        return
    if sub not in ("rm", "remove", "prune", "delete", "leave", "reset"):
        yield effect(
            inv, Verb.MODIFY, Target(f"docker-{group}", what), said, scope=scope, tags=tags
        )
        return
    extra: set[str] = set()
    if (
        group == "volume"
        or (group == "system" and ("--volumes" in opts or sub == "prune"))
        or (group == "container" and sub == "prune")
        or group == "machine"
        or group == "pod"
    ):
        extra.add("container-data")
    if (
        group in ("service", "stack", "swarm", "secret", "node", "config")
        and scope is Scope.DEVELOPMENT
    ):
        scope = Scope.UNKNOWN  # swarm services and secrets live on a cluster, not only here
    detail = f"{said}: " + (
        "deletes every stopped container and what it wrote"
        if sub == "prune" and group in ("system", "container") and "--volumes" not in opts
        else "deletes volume data for good"
        if "container-data" in extra
        else "removes it"
    )
    yield effect(
        inv,
        Verb.DELETE,
        Target(f"docker-{group}", what),
        detail,
        scope=scope,
        reversibility=Reversibility.IRREVERSIBLE,
        tags=tags | extra,
    )


def _run(
    inv: Invocation, ctx: Analysis, rest: Sequence[Word], scope: Scope, tags: set[str]
) -> Iterator[Effect]:
    parsed = parse(rest, values=_RUN_VALUES, depth=0)
    words = list(rest)
    risky: list[str] = []
    for i, word in enumerate(words):
        text = word.text
        value = words[i + 1].text if i + 1 < len(words) else ""
        if text == "--privileged" or text == "--privileged=true":
            risky.append("--privileged")
        elif text in ("-v", "--volume", "--mount") and _host_mount(value):
            risky.append(f"mounts {value.split(':')[0]}")
        elif text.startswith(
            ("--pid=host", "--cap-add=ALL", "--cap-add=SYS_ADMIN", "--userns=host")
        ) or (text in ("--pid", "--cap-add", "--userns") and value in ("host", "ALL", "SYS_ADMIN")):
            risky.append(text if "=" in text else f"{text} {value}")
    image = parsed.positionals[0].text if parsed.positionals else ""
    extra = {"privileged", "container-escape"} if risky else set()
    detail = f"run the image {image} in a container" + (
        f" with host access ({', '.join(risky)})" if risky else ""
    )
    yield effect(
        inv, Verb.EXECUTE, Target("docker-image", image), detail, scope=scope, tags=tags | extra
    )


def _host_mount(spec: str) -> bool:
    source = spec.split(",")[0].removeprefix("source=").removeprefix("src=").split(":")[0]
    return source.rstrip("/") in {m.rstrip("/") for m in _HOST_MOUNTS} or source == "/"


def _exec(
    inv: Invocation, ctx: Analysis, rest: Sequence[Word], scope: Scope, tags: set[str]
) -> Iterator[Effect]:
    words = list(rest)
    values = {"-e", "--env", "-u", "--user", "-w", "--workdir", "--env-file", "--detach-keys"}
    i = 0
    while i < len(words) and words[i].text.startswith("-"):
        i += 2 if words[i].text in values else 1
    if i >= len(words):
        return
    container, command = words[i].text, words[i + 1 :]
    privileged = any(w.text in ("--privileged", "-u=root", "--user=root") for w in words[:i])
    inner_tags = (
        tags | {"in-container", f"app={container}"} | ({"privileged"} if privileged else set())
    )
    if not command:
        return
    for found in ctx.run_argv(inv, command, via=f"{inv.name} exec {container}"):
        moved = scope if found.scope is Scope.LOCAL else found.scope
        yield replace(found, tags=elsewhere(found.tags) | inner_tags, scope=moved)


def _compose(
    inv: Invocation, ctx: Analysis, rest: Sequence[Word], where: tuple[Scope, set[str]]
) -> Iterator[Effect]:
    scope, tags = where
    parsed = parse(
        rest,
        values=_COMPOSE_VALUES,
        flags={"-v", "--volumes", "-d", "--detach", "--build"},
        depth=0,
    )
    names = [w.text for w in parsed.positionals]
    sub = names[0].lower() if names else ""
    project = parsed.value("-p", "--project-name") or parsed.value("-f", "--file")
    if project:
        tags = tags | {f"app={project}"}
    opts = set(parsed.options)
    if sub in ("down", "rm") and opts & {"-v", "--volumes"}:
        yield effect(
            inv,
            Verb.DELETE,
            Target("compose-project", project or "."),
            "stop the compose project and delete its volumes (their data is lost)",
            scope=scope,
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags | {"container-data"},
        )
    elif sub == "exec" and len(names) > 2:
        service = names[1]
        start = next(i for i, w in enumerate(rest) if w.text == service) + 1
        yield from _exec(inv, ctx, [Word(service), *rest[start:]], scope, tags)
    elif (
        sub in ("ps", "logs", "config", "ls", "top", "images", "version", "port", "events", "")
        or parsed.help
    ):
        yield effect(
            inv,
            Verb.READ,
            Target("compose-project", project or "."),
            f"compose {sub} only reads",
            scope=scope,
            tags=tags,
        )
    else:
        yield effect(
            inv,
            Verb.MODIFY,
            Target("compose-project", project or "."),
            f"compose {sub}",
            scope=scope,
            tags=tags,
        )


def _compose_program(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    yield from _compose(inv, ctx, list(inv.args), _where(inv, ctx, None))


FAMILIES = (
    CommandFamily.of(
        ["docker", "podman", "nerdctl", "docker.exe", "finch", "lima-nerdctl"], _docker
    ),
    CommandFamily.of(["docker-compose", "podman-compose"], _compose_program),
)
