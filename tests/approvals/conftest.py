"""Approval tests share the ledger's store fixtures: SQLite and PostgreSQL."""

from tests.ledger.conftest import database_url, ledger, settings_for

__all__ = ["database_url", "ledger", "settings_for"]
