"""Kubernetes: kubectl (and oc, ``k``, ``k3s kubectl``, ``microk8s kubectl``) and helm.

``delete`` (namespaces, volumes, ``--all``), ``apply --prune`` and ``replace --force`` delete;
``apply``, ``scale``, ``drain``, ``patch``, ``rollout undo``, ``helm upgrade`` change the cluster;
``get``, ``describe``, ``logs``, ``diff``, ``--dry-run=client|server`` only read, except that
``get secret -o yaml`` prints secret values. ``exec POD -- CMD`` runs CMD inside the cluster: it is
analyzed like any command and tagged with the cluster's context and namespace. ``--context`` and
``--namespace`` become ``context=``/``namespace=`` hints for :mod:`blastdoor.scope`. A manifest
file behind ``-f`` is read (``kube_manifests.py``): its kinds go into the detail, its namespaces are
scope hints, and deleting a kind that holds data (volumes, stateful sets, namespaces) is ``k8s-data``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from blastdoor.analyze.commands import CommandFamily, kube_manifests
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.commands.remote import resource_families
from blastdoor.analyze.commands.verbs import Parsed, elsewhere, hint_tags, parse, words
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Reversibility, Scope, Target, Verb

_VALUES = words(
    """
    --context --namespace -n --kubeconfig --cluster --user -s --server --token -l --selector -f
    --filename -o --output -c --container --field-selector --grace-period --replicas --timeout
    -p --patch --type --for --image --as --as-group --request-timeout -L --sort-by --template
    -k --kustomize --revision --to-revision --kube-context --set --values --version
    --prune-allowlist
    """
)
_FLAGS = words(
    """
    -A --all-namespaces --all --force --now --wait -it -ti --stdin --tty --ignore-daemonsets
    --delete-emptydir-data --prune --atomic --install --raw --recursive -R --overwrite --local
    """
)
_READS = words(
    """
    get describe logs log top explain version api-resources api-versions cluster-info diff
    events wait completion options help kustomize plugin whoami status history list ls template
    lint show inspect search env verify can-i auth get-contexts current-context view alpha test
    """
)
_LOCAL = words(
    """
    config proxy port-forward attach repo plugin pull package dependency dep registry project
    login logout whoami completion create-context use-context new-project create-app
    """
)
# kubectl's names for the data kinds (singular, plural, short), OpenShift projects, and "all"
_DATA_TYPES = words("pv pvc sts ns crd crds project projects all") | {
    name for kind in kube_manifests.DATA_KINDS for name in (kind.lower(), kind.lower() + "s")
}
# Commands that only print their help unless given one of these subcommands.
_NEEDS_SUB = {
    "rollout": frozenset({"undo", "restart", "pause", "resume"}),
    "set": frozenset({"env", "image", "resources", "selector", "serviceaccount", "subject"}),
    "certificate": frozenset({"approve", "deny"}),
}
_ROLE_TYPES = frozenset({"clusterrolebinding", "rolebinding", "clusterrole", "role"})


def _kubectl(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    words = list(inv.args)
    command: list[Word] = []
    if any(w.text == "--" for w in words):
        cut = next(i for i, w in enumerate(words) if w.text == "--")
        words, command = words[:cut], words[cut + 1 :]
    parsed = parse(words, values=_VALUES, flags=_FLAGS, depth=0)
    tags = hint_tags(
        inv, ctx, parsed, extra={"n": "namespace", "kubeconfig": "context", "s": "host"}
    )
    tags.add("kubernetes")
    positional = [w.text for w in parsed.positionals]
    verb = positional[0].lower() if positional else ""
    operands = positional[1:]
    shows = (verb == "apply" and operands[:1] == ["view-last-applied"]) or (
        verb in ("annotate", "label") and parsed.has("--list")
    )
    if not verb or parsed.help or shows or (parsed.dry_run and parsed.value("--dry-run") != "none"):
        yield effect(
            inv,
            Verb.READ,
            Target("kubernetes", verb),
            f"kubectl {verb} only shows help, a dry run or what is set",
            tags=tags,
        )
    elif verb in ("exec", "run", "debug") and command:
        yield from _exec(inv, ctx, verb, operands, command, tags)
    else:
        yield from _verb(inv, ctx, verb, operands, parsed, tags)


def _exec(
    inv: Invocation,
    ctx: Analysis,
    verb: str,
    operands: Sequence[str],
    command: list[Word],
    tags: set[str],
) -> Iterator[Effect]:
    pod = operands[0] if operands else "a pod"
    if verb != "exec":
        yield effect(
            inv,
            Verb.MODIFY,
            Target("kubernetes", f"pod/{pod}"),
            f"start the pod {pod} in the cluster",
            tags=tags,
        )
    remote = tags | {"remote", "in-cluster"}
    for found in ctx.run_argv(inv, command, via=f"kubectl {verb} {pod}"):
        scope = Scope.UNKNOWN if found.scope is Scope.LOCAL else found.scope
        yield replace(found, tags=elsewhere(found.tags) | remote, scope=scope)


def _verb(
    inv: Invocation,
    ctx: Analysis,
    verb: str,
    operands: Sequence[str],
    parsed: Parsed,
    tags: set[str],
) -> Iterator[Effect]:
    kind = operands[0].lower() if operands else ""
    names = operands[1:] if "/" not in kind else operands
    if parsed.value("-f", "--filename") and verb in ("delete", "apply", "replace", "create"):
        what, tags = _manifests(ctx, _filenames(inv), verb, parsed, tags)
    else:
        what = _what(kind, names, parsed.value("-f", "--filename", "-k", "--kustomize"), parsed)
    target = Target("kubernetes", what)
    said = f"kubectl {verb} {what}".strip()
    if verb == "delete":
        yield _delete(inv, kind, what, parsed, tags)
    elif verb == "get" and kind.split("/")[0] in ("secret", "secrets") and _prints_values(parsed):
        yield effect(
            inv,
            Verb.CREDENTIAL_USE,
            target,
            f"{said} prints the secret's values",
            tags=tags | {"secret"},
        )
    elif verb == "config" and kind == "view" and parsed.has("--raw"):
        yield effect(
            inv,
            Verb.CREDENTIAL_USE,
            Target("kubeconfig", "raw"),
            "print the kubeconfig with its tokens",
            scope=Scope.LOCAL,
            tags={"secret"},
        )
    elif verb in ("cp",) and len(operands) >= 2:
        up = ":" in operands[-1]
        yield effect(
            inv,
            Verb.MODIFY if up else Verb.READ,
            Target("kubernetes", operands[-1 if up else 0]),
            f"copy files {'into' if up else 'out of'} a pod",
            tags=tags,
        )
    elif verb in _READS or (verb in _NEEDS_SUB and kind not in _NEEDS_SUB[verb]):
        yield effect(inv, Verb.READ, target, f"{said} only reads", tags=tags)
    elif verb in _LOCAL:
        yield effect(
            inv,
            Verb.EXECUTE,
            Target("kubeconfig", kind),
            f"{said} acts on this machine",
            scope=Scope.LOCAL,
        )
    elif verb == "create" and kind in _ROLE_TYPES | {"token"}:
        verb_kind = Verb.CREDENTIAL_USE if kind == "token" else Verb.ESCALATE
        yield effect(
            inv, verb_kind, target, f"{said} grants access to the cluster", tags=tags | {"rbac"}
        )
    else:
        yield _change(inv, verb, what, parsed, tags)


def _what(kind: str, names: Sequence[str], files: str, parsed: Parsed) -> str:
    if files:
        return files
    if kind in ("ns", "namespace", "namespaces", "project", "projects") and names:
        return " ".join(names)
    selector = parsed.value("-l", "--selector", "--field-selector")
    if parsed.has("--all", "-A", "--all-namespaces"):
        return f"{kind} (all)".strip()
    return "/".join(
        p for p in (kind, " ".join(names) or (f"-l {selector}" if selector else "")) if p
    )


def _filenames(inv: Invocation) -> list[str]:
    """Every ``-f`` / ``--filename`` value: kubectl takes several."""
    found, words = [], [w.text for w in inv.args]
    for i, word in enumerate(words):
        if word in ("-f", "--filename") and i + 1 < len(words):
            found.append(words[i + 1])
        elif word.startswith(("--filename=", "-f=")):
            found.append(word.split("=", 1)[1])
    return found


def _manifests(ctx: Analysis, paths: list[str], verb: str, parsed: Parsed, tags: set[str]) -> tuple[str, set[str]]:
    """What the manifest files say: their kinds for the detail, their namespaces as scope hints,
    and ``k8s-data`` when the command would delete a kind that holds data."""
    deleting = verb == "delete" or parsed.has("--prune") or (verb == "replace" and parsed.has("--force"))
    said = []
    for path in paths[:50]:
        text = None if path == "-" or "://" in path else ctx.read_file(path)
        if text is None:
            said.append(path)
            continue
        found = kube_manifests.read(text)
        tags = tags | {f"namespace={name}" for name in sorted(found.namespaces)[:20]}
        if deleting and found.data:
            tags |= {"k8s-data"}
        said.append(f"{path} ({found.summary()})")
    return ", ".join(said), tags


def _delete(inv: Invocation, kind: str, what: str, parsed: Parsed, tags: set[str]) -> Effect:
    extra = set()
    base = kind.split("/")[0]
    if base in _DATA_TYPES:
        extra.add("k8s-data")
    if parsed.has("--all", "-A", "--all-namespaces") or not what:
        extra.add("all")
    if base in ("ns", "namespace", "namespaces", "project", "projects"):
        tags = tags | {f"namespace={name}" for name in what.split()}
        detail = f"delete the namespace {what} and everything in it"
    else:
        detail = f"delete {what or 'resources'} from the cluster"
    if parsed.has("--force") or parsed.value("--grace-period") == "0":
        extra.add("force")
    return effect(
        inv,
        Verb.DELETE,
        Target("kubernetes", what or kind),
        detail,
        reversibility=Reversibility.IRREVERSIBLE,
        tags=tags | extra,
    )


def _prints_values(parsed: Parsed) -> bool:
    output = parsed.value("-o", "--output").lower()
    return output.startswith(
        ("yaml", "json", "jsonpath", "go-template", "template", "custom-columns")
    )


def _change(inv: Invocation, verb: str, what: str, parsed: Parsed, tags: set[str]) -> Effect:
    target = Target("kubernetes", what)
    if verb == "apply" and parsed.has("--prune"):
        return effect(
            inv,
            Verb.DELETE,
            target,
            f"apply {what} and delete every resource not in it",
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags | {"prune"},
        )
    forced = parsed.has("--force") and verb in ("apply", "replace", "upgrade")
    if verb == "scale" and parsed.value("--replicas") == "0":
        tags = tags | {"scale-to-zero"}
    detail = f"kubectl {verb} {what}".strip() + " changes the cluster"
    if forced:
        detail += " (forced: resources are deleted and recreated)"
    return effect(
        inv,
        Verb.MODIFY,
        target,
        detail,
        reversibility=Reversibility.IRREVERSIBLE if forced else Reversibility.REVERSIBLE,
        tags=tags | ({"force"} if forced else set()),
    )


def _embedded(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    """``k3s kubectl ...``, ``microk8s kubectl ...``, ``minikube kubectl -- ...``."""
    words = list(inv.args)
    if words and words[0].text in ("kubectl", "helm", "helm3", "ctr", "crictl"):
        rest = [w for w in words[1:]]
        if rest and rest[0].text == "--":
            rest = rest[1:]
        yield from ctx.run_argv(inv, [Word(words[0].text), *rest], via=inv.name)
        return
    yield ordinary_program(inv)


def _helm(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    parsed = parse(inv.args, values=_VALUES, flags=_FLAGS, depth=0)
    tags = hint_tags(
        inv,
        ctx,
        parsed,
        extra={"n": "namespace", "kubeconfig": "context", "kube-context": "context"},
    )
    tags.add("kubernetes")
    positional = [w.text for w in parsed.positionals]
    verb = positional[0].lower() if positional else ""
    release = positional[1] if len(positional) > 1 else ""
    target = Target("helm-release", release)
    if not verb or parsed.help or parsed.dry_run or verb in _READS or verb == "get":
        yield effect(
            inv,
            Verb.READ,
            target,
            f"helm {verb} {release} only reads".replace("  ", " "),
            tags=tags,
        )
    elif verb in ("uninstall", "delete", "del", "un"):
        yield effect(
            inv,
            Verb.DELETE,
            target,
            f"uninstall the release {release} and delete its resources",
            reversibility=Reversibility.IRREVERSIBLE,
            tags=tags,
        )
    elif verb in _LOCAL or verb == "create":  # helm create writes a chart skeleton here
        yield effect(
            inv,
            Verb.EXECUTE,
            Target("helm", verb),
            f"helm {verb} acts on this machine",
            scope=Scope.LOCAL,
        )
    else:
        forced = parsed.has("--force")
        yield effect(
            inv,
            Verb.MODIFY,
            target,
            f"helm {verb} {release} changes the cluster",
            reversibility=Reversibility.IRREVERSIBLE if forced else Reversibility.REVERSIBLE,
            tags=tags | ({"force"} if forced else set()),
        )


FAMILIES = resource_families(
    CommandFamily.of(["kubectl", "oc", "k", "kubecolor", "kubectl.exe"], _kubectl),
    CommandFamily.of(["helm", "helm3"], _helm),
    CommandFamily.of(["k3s", "microk8s"], _embedded),
)
