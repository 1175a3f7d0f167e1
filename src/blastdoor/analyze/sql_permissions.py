"""PostgreSQL statements about roles and privileges: GRANT and REVOKE, GRANT of roles, CREATE/ALTER
ROLE and SET ROLE. Superuser-like powers escalate; the rest change permissions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from blastdoor.analyze.sql import Finding, finding
from blastdoor.analyze.sql_nodes import constant, name_of
from blastdoor.model import Reversibility, Verb

_REV, _GONE = Reversibility.REVERSIBLE, Reversibility.IRREVERSIBLE


_POWERFUL_ROLES = re.compile(
    r"^(postgres|rds_superuser|azure_pg_admin|cloudsqlsuperuser|pg_read_server_files"
    r"|pg_write_server_files|pg_execute_server_program|pg_signal_backend|root|admin|dba)$"
)
_POWERFUL_OPTIONS = frozenset({"superuser", "createrole", "bypassrls", "replication"})


_RLS_BYPASS_ROLES = re.compile(r"^(service_role|supabase_admin|supabase_auth_admin|postgres|rds_superuser|"
                               r"cloudsqlsuperuser|azure_pg_admin|neon_superuser|admin|root)$")  # fmt: skip


def set_findings(node: Any) -> Iterator[Finding]:
    """``SET [LOCAL] ROLE r`` / ``SET SESSION AUTHORIZATION r``: a role that bypasses row-level
    security (Supabase's ``service_role``, a superuser) is an escalation; anything else is a setting."""
    name = str(node.name or "").lower()
    values = [str(constant(arg) or "") for arg in node.args or ()]
    role = (values[0] if values else "").lower()
    if name in ("role", "session_authorization") and _RLS_BYPASS_ROLES.match(role):
        yield finding(Verb.ESCALATE, f"act as the role {role}, which bypasses row-level security", _REV,
                 {"permissions", "rls-bypass"})  # fmt: skip
    else:
        yield finding(Verb.EXECUTE, f"run SET {name or 'statement'}")


def grant_findings(node: Any) -> Iterator[Finding]:
    who = ", ".join(name_of(g) for g in node.grantees or ())
    if not node.is_grant:
        yield finding(Verb.MODIFY, f"revoke privileges from {who}", _REV, {"permissions"})
        return
    privileges = (
        "all privileges"
        if node.privileges is None
        else ", ".join(name_of(p) for p in node.privileges)
    )
    scope = (
        "every object in a schema"
        if node.targtype.name == "ACL_TARGET_ALL_IN_SCHEMA"
        else ", ".join(name_of(o) for o in node.objects or ())
    )
    detail = f"grant {privileges} on {scope} to {who}"
    if node.grant_option and node.privileges is None:
        yield finding(Verb.ESCALATE, detail + " WITH GRANT OPTION", _REV, {"permissions"})
    else:
        yield finding(Verb.MODIFY, detail, _REV, {"permissions"})


def grant_role_findings(node: Any) -> Iterator[Finding]:
    roles = [name_of(r) for r in node.granted_roles or ()]
    who = ", ".join(name_of(g) for g in node.grantee_roles or ())
    if node.is_grant and any(_POWERFUL_ROLES.match(r.lower()) for r in roles):
        yield finding(
            Verb.ESCALATE, f"give {who} the powerful role {', '.join(roles)}", _REV, {"permissions"}
        )
    else:
        action = "grant" if node.is_grant else "revoke"
        yield finding(
            Verb.MODIFY, f"{action} the role {', '.join(roles)} for {who}", _REV, {"permissions"}
        )


def role_findings(node: Any) -> Iterator[Finding]:
    name = node.role if isinstance(node.role, str) else name_of(node.role)
    powers = [
        o.defname
        for o in node.options or ()
        if o.defname in _POWERFUL_OPTIONS and getattr(o.arg, "boolval", True) is not False
    ]
    creating = type(node).__name__ == "CreateRoleStmt"
    if powers:
        yield finding(
            Verb.ESCALATE,
            f"give the role {name} {', '.join(p.upper() for p in powers)}",
            _REV,
            {"permissions"},
        )
    elif creating:
        yield finding(Verb.CREATE, f"create the role {name}")
    else:
        yield finding(Verb.MODIFY, f"change the role {name}", _REV, {"permissions"})
