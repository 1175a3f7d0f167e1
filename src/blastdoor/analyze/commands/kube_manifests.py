"""The manifests ``kubectl apply|delete|replace|create -f FILE`` would send: their kinds, names and
namespaces, read from the working directory.

A manifest file says what a ``-f`` command really touches: ``kubectl delete -f app.yaml`` that
holds a PersistentVolumeClaim or a Namespace deletes data, and the namespaces named inside say
which environment it lands in. Files that are not there, URLs, directories and kustomizations are
not read (the command is judged from its words alone); YAML that does not parse is said to be so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_BYTES = 2_000_000
MAX_DOCUMENTS = 5_000
# Kinds whose deletion loses data: volumes, the things that own them, whole namespaces, and nodes
# (their local volumes). kubectl's own type names for them are derived from these (kube.py).
DATA_KINDS = frozenset({"PersistentVolumeClaim", "PersistentVolume", "StatefulSet", "Namespace",
                        "CustomResourceDefinition", "Secret", "Node"})  # fmt: skip


@dataclass(frozen=True)
class Manifest:
    kind: str
    name: str
    namespace: str


@dataclass(frozen=True)
class Manifests:
    items: tuple[Manifest, ...] = ()
    problem: str = ""  # why the file could not be read as manifests

    @property
    def data(self) -> list[Manifest]:
        return [m for m in self.items if m.kind in DATA_KINDS]

    @property
    def namespaces(self) -> set[str]:
        named = {m.namespace for m in self.items if m.namespace}
        return named | {m.name for m in self.items if m.kind == "Namespace" and m.name}

    def summary(self) -> str:
        if self.problem:
            return self.problem
        counts = Counter(m.kind for m in self.items)
        return ", ".join(f"{count} {kind}" for kind, count in counts.most_common()) or "no resources"


def read(text: str) -> Manifests:
    """The resources in ``text`` (one or more YAML or JSON documents; ``kind: List`` unpacked)."""
    if len(text) > MAX_BYTES:
        return Manifests(problem=f"a manifest file over {MAX_BYTES:,} bytes, not read")
    import yaml

    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return Manifests(problem=f"manifests that do not parse as YAML{where}")
    except RecursionError:
        return Manifests(problem="manifests nested too deeply to read")
    return Manifests(items=tuple(_resources(documents)))


def _resources(documents: list[Any]) -> Iterator[Manifest]:
    """The resources, ``kind: List`` unpacked; YAML aliases can make a list hold itself, or
    multiply what is seen, so each object is visited once and at most MAX_DOCUMENTS are read."""
    pending, seen, budget = list(reversed(documents)), set(), MAX_DOCUMENTS
    while pending and budget > 0:
        document = pending.pop()
        if not isinstance(document, dict) or id(document) in seen:
            continue
        seen.add(id(document))
        budget -= 1
        kind = str(document.get("kind", ""))
        items = document.get("items")
        if kind.endswith("List") and isinstance(items, list):
            pending.extend(reversed(items))
            continue
        meta = document.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        if kind:
            yield Manifest(kind, str(meta.get("name", "")), str(meta.get("namespace", "") or ""))
