"""kubectl and helm: deletes and changes in a cluster, reads, and commands run inside pods."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("kubectl delete namespace payments", "hold"),
        ("kubectl --context prod-eu delete deployment api", "hold"),
        ("kubectl -n staging delete pods --all", "ask"),
        ("kubectl delete pvc data-postgres-0 -n dev", "hold"),  # a namespace is not the cluster
        ("kubectl --context dev delete pvc data-postgres-0 -n dev", "allow"),
        ("kubectl delete -f k8s/prod/app.yaml", "hold"),
        ("kubectl delete ns review --dry-run=client", "allow"),
        ("kubectl apply -f app.yaml --prune -l app=web", "hold"),
        ("kubectl replace --force -f app.yaml", "hold"),
        ("kubectl apply -f app.yaml", "ask"),
        ("kubectl scale deploy/web --replicas=0", "ask"),
        ("kubectl drain node-7 --ignore-daemonsets", "ask"),
        ("kubectl get secret db-creds -o yaml", "ask"),
        ("kubectl describe secret db-creds", "allow"),
        ("kubectl get pods -A", "allow"),
        ("kubectl logs -f deploy/web", "allow"),
        ("kubectl rollout status deploy/web", "allow"),
        ("kubectl rollout", "allow"),
        ("kubectl config use-context minikube", "allow"),
        ("kubectl create clusterrolebinding me --clusterrole=cluster-admin --user=agent", "deny"),
        ("helm uninstall checkout -n prod", "hold"),
        ("helm upgrade --install web ./chart", "ask"),
        ("helm list -A", "allow"),
        ("helm template web ./chart", "allow"),
    ],
)
def test_kube_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


def test_exec_runs_the_inner_command_in_the_cluster() -> None:
    decision = decide("kubectl --context prod exec -it api-0 -- rm -rf /srv/data")
    assert decision.kind.value == "hold"
    assert any("context=prod" in found.tags for found in decision.effects)
    assert decide("kubectl exec api-0 -- ls /srv").kind.value == "allow"


MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: shop-production}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: orders-data, namespace: shop-production}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop-production}
"""


def test_manifests_behind_f_say_what_and_where(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(MANIFESTS)
    (tmp_path / "dev.yaml").write_text("apiVersion: v1\nkind: List\nitems:\n- kind: ConfigMap\n  metadata: {name: c, namespace: dev}\n")
    (tmp_path / "broken.yaml").write_text("kind: [unclosed\n")
    deleted = decide("kubectl delete -f app.yaml", cwd=str(tmp_path))
    assert deleted.kind.value == "hold"
    (effect,) = deleted.effects
    assert {"k8s-data", "namespace=shop-production"} <= effect.tags and effect.scope.value == "production"
    assert "1 Namespace, 1 PersistentVolumeClaim, 1 Deployment" in effect.detail
    applied = decide("kubectl apply -f app.yaml", cwd=str(tmp_path)).effects[0]
    assert "k8s-data" not in applied.tags and applied.scope.value == "production"
    pruned = decide("kubectl apply --prune -l app=web -f app.yaml", cwd=str(tmp_path)).effects[0]
    assert "k8s-data" in pruned.tags and "prune" in pruned.tags
    # a ConfigMap in namespace dev: the namespace does not say which cluster; the context does
    assert decide("kubectl delete -f dev.yaml", cwd=str(tmp_path)).kind.value == "hold"
    assert decide("kubectl --context kind-dev delete -f dev.yaml", cwd=str(tmp_path)).kind.value == "allow"
    broken = decide("kubectl delete -f broken.yaml", cwd=str(tmp_path))
    assert "do not parse as YAML at line 2" in broken.effects[0].detail and broken.kind.value != "allow"
    assert decide("kubectl delete -f missing.yaml", cwd=str(tmp_path)).kind.value != "allow"


def test_every_f_is_read_and_hostile_yaml_is_cheap(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(MANIFESTS)
    (tmp_path / "ok.yaml").write_text("kind: ConfigMap\nmetadata: {name: c}\n")
    (tmp_path / "loop.yaml").write_text("&a {kind: List, items: [*a]}\n")
    both = decide("kubectl delete -f ok.yaml -f app.yaml", cwd=str(tmp_path)).effects[0]
    assert "k8s-data" in both.tags and "namespace=shop-production" in both.tags
    looped = decide("kubectl delete -f loop.yaml", cwd=str(tmp_path))
    assert "no resources" in looped.effects[0].detail


@pytest.mark.parametrize(
    "command",
    [
        "helm create web-chart",  # a chart skeleton in this folder
        "kubectl apply view-last-applied -f app.yaml",
        "kubectl annotate pods web --list",
        "kubectl label deployment web --list",
    ],
)
def test_local_scaffolds_and_listings_pass(command: str) -> None:
    assert decide(command).kind.value == "allow"
