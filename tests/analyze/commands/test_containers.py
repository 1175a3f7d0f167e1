"""docker, podman and compose: local clean-ups pass, lost volumes and host access are asked."""

from __future__ import annotations

import pytest

from tests.conftest import decide


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("docker ps -a", "allow"),
        ("docker rm old-container", "allow"),
        ("docker rmi node:18", "allow"),
        ("docker image prune -a", "allow"),
        ("docker system prune", "ask"),  # removes every stopped container and what it wrote
        ("docker container prune -f", "ask"),
        ("docker rm $(docker ps -aq)", "ask"),
        ("docker stop $(docker ps -q)", "ask"),  # every running container
        ("podman kill `podman ps -q`", "ask"),
        ("docker stop $(docker ps -q --filter name=web)", "allow"),
        ("docker stop web", "allow"),
        ("docker rmi -f node:18", "ask"),  # even while containers run from it
        ("docker builder prune --all -f", "allow"),
        ("docker network rm backend", "allow"),
        ("docker run --rm -it ubuntu bash", "allow"),
        ("docker compose up -d", "allow"),
        ("docker compose down", "allow"),
        ("docker volume rm pgdata", "ask"),
        ("docker volume prune -f", "ask"),
        ("docker system prune -a --volumes", "ask"),
        ("docker compose down -v", "ask"),
        ("docker-compose down --volumes", "ask"),
        ("docker rm -fv db", "ask"),
        ("docker run --privileged alpine", "ask"),
        ("docker run -v /:/host alpine", "ask"),
        ("podman run -v /var/run/docker.sock:/var/run/docker.sock img", "ask"),
        ("docker push registry.example.com/team/app:1.2", "hold"),
        ("docker -H ssh://deploy@prod-web-1 volume rm data", "hold"),
    ],
)
def test_container_decisions(command: str, expected: str) -> None:
    assert decide(command).kind.value == expected


def test_exec_runs_the_inner_command() -> None:
    assert decide("docker exec web ls /app").kind.value == "allow"
    found = decide("docker exec -it db psql -c 'select 1'").effects
    assert all("in-container" in effect.tags for effect in found)


def test_remote_daemon_from_docker_host() -> None:
    assert (
        decide("docker rm web", env={"DOCKER_HOST": "tcp://prod-swarm:2376"}).kind.value == "hold"
    )
