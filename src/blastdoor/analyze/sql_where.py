"""Whether a WHERE clause holds for every row (``1=1``, ``true``, ``id IS NOT NULL``, ``x = x``):
such a DELETE or UPDATE touches the whole table."""

from __future__ import annotations

from typing import Any

from blastdoor.analyze.sql_nodes import column, constant, reference


def always_true(expr: Any) -> bool:
    """Whether a WHERE clause holds for every row (``1=1``, ``true``, ``id IS NOT NULL``)."""
    kind = type(expr).__name__
    if kind == "A_Const":
        value = getattr(expr.val, "boolval", None) if expr.val is not None else None
        ival = getattr(expr.val, "ival", None) if expr.val is not None else None
        sval = str(getattr(expr.val, "sval", "")).lower() if expr.val is not None else ""
        return bool(value) or bool(ival) or sval in ("t", "true", "1", "y", "yes", "on")
    if kind == "TypeCast":
        return always_true(expr.arg)
    if kind == "BoolExpr":
        parts = list(expr.args or ())
        if expr.boolop.name == "OR_EXPR":
            return any(always_true(p) for p in parts)
        if expr.boolop.name == "AND_EXPR":
            return all(always_true(p) for p in parts)
        return always_false(parts[0]) if parts else False
    if kind == "NullTest":
        return expr.nulltesttype.name == "IS_NOT_NULL" and column(expr.arg) == "id"
    if kind == "A_Expr":
        return _trivial_comparison(expr)
    return False


def always_false(expr: Any) -> bool:
    return type(expr).__name__ == "A_Const" and getattr(expr.val, "boolval", True) is False


def _trivial_comparison(expr: Any) -> bool:
    op = str(getattr((expr.name or ("",))[-1], "sval", ""))
    left, right = constant(expr.lexpr), constant(expr.rexpr)
    if expr.kind.name == "AEXPR_LIKE":
        return right == "%"
    if expr.kind.name != "AEXPR_OP":
        return False
    if left is not None and right is not None:
        same = str(left) == str(right)
        return {"=": same, "<>": not same, "!=": not same}.get(op, False)
    if op == "=" and reference(expr.lexpr) and reference(expr.lexpr) == reference(expr.rexpr):
        return True  # x = x; but a.x = b.x is a join condition
    if column(expr.lexpr) == "id" and isinstance(right, int):
        return (
            (op == ">" and right <= 0)
            or (op == ">=" and right <= 1)
            or (op in ("<>", "!=") and right <= 0)
        )
    return False
