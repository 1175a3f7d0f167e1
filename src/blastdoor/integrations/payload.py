"""Reading an agent's hook payload: one JSON object on stdin, bounded, never trusted."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from blastdoor.errors import InputError

MAX_PAYLOAD_BYTES = 8 * 1024 * 1024


def decode(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw``; :class:`InputError` for empty, huge, binary or malformed input."""
    if not raw.strip():
        raise InputError(
            "the hook received no input", hint="the agent must send its hook JSON on stdin"
        )
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise InputError(
            f"the hook input is larger than {MAX_PAYLOAD_BYTES} bytes", hint="Blastdoor refuses it"
        )
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(
            "the hook input is not UTF-8 text", hint="the agent must send JSON"
        ) from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"the hook input is not JSON ({error.msg})", hint="the agent must send JSON"
        ) from None
    if not isinstance(value, dict):
        raise InputError(
            "the hook input is not a JSON object", hint="the agent must send a JSON object"
        )
    return value


def text(payload: Mapping[str, Any], *keys: str) -> str:
    """The first of ``keys`` that holds a string (agents differ in camelCase vs snake_case)."""
    for key in keys:
        value = payload.get(key)
        if isinstance(value, str):
            return value
    return ""


def mapping(payload: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """The first of ``keys`` that holds an object, or a string holding a JSON object."""
    for key in keys:
        value = payload.get(key)
        if isinstance(value, dict):
            return value
        if isinstance(value, str) and value.lstrip().startswith("{"):
            try:
                parsed = json.loads(value)
            except ValueError:
                raise InputError(
                    f"the hook's {key} is not valid JSON", hint="the agent sent a malformed call"
                ) from None
            if isinstance(parsed, dict):
                return parsed
    return {}
