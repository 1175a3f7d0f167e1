"""Reading pglast's nodes: the name of an object reference, a constant's value, a column
reference, and every node under another."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def descendants(node: Any) -> Iterator[Any]:
    from pglast.ast import Node

    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Node):
            yield current
            stack.extend(getattr(current, slot, None) for slot in getattr(current, "__slots__", ()))
        elif isinstance(current, (tuple, list)):
            stack.extend(current)


def name_of(node: Any) -> str:
    """A readable name for a RangeVar, a qualified name list, or any other object reference."""
    if node is None:
        return ""
    if isinstance(node, (tuple, list)):
        return ".".join(filter(None, (name_of(part) for part in node)))
    for attr in ("sval", "relname", "rolename", "priv_name"):
        value = getattr(node, attr, None)
        if isinstance(value, str):
            schema = getattr(node, "schemaname", None) if attr == "relname" else None
            return f"{schema}.{value}" if schema else value
    for attr in ("objname", "names", "rel", "relation"):
        if getattr(node, attr, None) is not None:
            return name_of(getattr(node, attr))
    kind = getattr(node, "roletype", None)  # PUBLIC, CURRENT_USER, SESSION_USER ...
    return kind.name.removeprefix("ROLESPEC_").lower() if kind is not None else "?"


def column(expr: Any) -> str:
    if type(expr).__name__ != "ColumnRef":
        return ""
    return str(getattr(expr.fields[-1], "sval", "")).lower()


def reference(expr: Any) -> str:
    """A column reference as written, qualifiers included (``t.x``), lowercased."""
    if type(expr).__name__ != "ColumnRef":
        return ""
    return ".".join(str(getattr(part, "sval", "*")) for part in expr.fields).lower()


def constant(expr: Any) -> object:
    if type(expr).__name__ == "TypeCast":
        expr = expr.arg
    if type(expr).__name__ != "A_Const" or expr.val is None:
        return None
    for attr in ("ival", "sval", "fval", "boolval"):
        if hasattr(expr.val, attr):
            return getattr(expr.val, attr)
    return None
