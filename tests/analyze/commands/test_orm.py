"""ORM and migration tools: resets and drops are held, status reads pass."""

from __future__ import annotations

import pytest

from blastdoor.judge import judge
from blastdoor.model import Action
from blastdoor.policy import load


def decide(command: str, **context: object) -> str:
    return judge(Action.shell(command, **context), load(), files=lambda _p: None).kind.value


@pytest.mark.parametrize(
    "command",
    [
        "prisma migrate reset --force",
        "prisma db push --accept-data-loss",
        "rails db:drop",
        "bin/rails db:schema:load",
        "RAILS_ENV=production rake db:rollback",
        "django-admin flush --noinput",
        "manage.py migrate billing zero",
        "alembic downgrade base",
        "sequelize db:migrate:undo:all",
        "typeorm schema:drop",
        "flyway clean",
        "liquibase drop-all",
        "artisan migrate:fresh",
        "mix ecto.reset",
        "knex migrate:rollback --all",
    ],
)
def test_resets_are_held(command: str) -> None:
    assert decide(command) == "hold"


@pytest.mark.parametrize(
    "command",
    [
        "prisma migrate status",
        "rails db:migrate:status",
        "alembic history",
        "alembic upgrade head --sql",
    ],
)
def test_status_reads(command: str) -> None:
    assert decide(command) == "allow"


def test_context_decides_the_scope() -> None:
    assert decide("rails db:reset", env={"RAILS_ENV": "development"}) == "allow"
    assert (
        decide(
            "prisma migrate reset", env={"DATABASE_URL": "postgres://u:p@db.staging.example/app"}
        )
        == "ask"
    )
    assert decide("prisma migrate deploy") == "ask"
    assert decide("RAILS_ENV=production rails db:migrate") == "hold"


def test_skipping_the_environment_check_is_flagged() -> None:
    decision = judge(Action.shell("DISABLE_DATABASE_ENVIRONMENT_CHECK=1 rails db:drop"), load())
    assert any("bypasses-checks" in e.tags for e in decision.effects)


def test_restoring_a_backup_over_the_database_is_held() -> None:
    assert decide("rake db:restore") == "hold"
    assert decide("gitlab-rake gitlab:backup:restore BACKUP=1700000000") == "hold"
    assert decide("python manage.py dbrestore") == "hold"
    assert decide("RAILS_ENV=development rake db:restore") == "allow"
    assert decide("gitlab-rake gitlab:backup:create") == "allow"


@pytest.mark.parametrize(
    ("command", "decision"),
    [
        ("dbmate drop", "hold"),
        ("dbmate --url postgres://app@db.internal/shop rollback", "hold"),
        ("dbmate up", "ask"),
        ("dbmate new add_users", "allow"),
        ('goose postgres "host=db.internal dbname=shop" reset', "hold"),
        ("goose sqlite3 ./dev.db down", "allow"),
        ("migrate -path db/migrations -database postgres://db.internal/app drop -f", "hold"),
        ("migrate -path db/migrations -database postgres://localhost/app down -all", "ask"),  # data on this machine
        ("sqitch revert -y db:pg://db.internal/shop", "hold"),
        ("sqitch status", "allow"),
        ("atlas schema apply --url mysql://root@db.internal/app --to file://schema.hcl", "hold"),
        ("atlas migrate lint --dev-url docker://mysql/8", "allow"),
        ("atlas clusters delete orders-cluster --force", "hold"),
        ("atlas clusters list", "allow"),
        ("sqlx database reset", "hold"),
        ("diesel migration revert --all", "hold"),
        ("diesel print-schema", "allow"),
    ],
)
def test_migration_tools_beyond_the_orms(command: str, decision: str) -> None:
    assert decide(command) == decision
