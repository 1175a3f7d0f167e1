"""kubectl and helm: deletes and changes in a cluster, reads, and commands run inside pods."""

from __future__ import annotations

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("kubectl delete namespace payments", "hold"),
        ("kubectl --context prod-eu delete deployment api", "hold"),
        ("kubectl -n staging delete pods --all", "ask"),
        ("kubectl delete pvc data-postgres-0 -n dev", "allow"),
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
