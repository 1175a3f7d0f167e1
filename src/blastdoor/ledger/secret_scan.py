"""Layer 2 of redaction (ledger/redact.py): detect-secrets, behind a cheap gate.

The structural pass leaves *candidate words* (runs of 20 or more base64/url-safe characters mixing
letters and digits, not a path, UUID, git object id or digest); only the lines around them are
handed to detect-secrets' plugins, imported on first need. Without detect-secrets every candidate
is reported (fail closed). See redact.py's docstring for why 20 and why the window.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any

Span = tuple[int, int]

_WORD = re.compile(r"[A-Za-z0-9+/=_\-]{20,}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_GIT_OBJECT = re.compile(r"[0-9a-fA-F]{40}")
_NAME_LIKE = re.compile(r"[a-z0-9_\-]*")
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"[0-9]")
_WINDOW = 256


def _candidates(text: str) -> Iterator[re.Match[str]]:
    """Words that could plausibly be a secret the structural pass does not know (see above)."""
    for match in _WORD.finditer(text):
        word, before = match[0], text[max(0, match.start() - 7) : match.start()]
        name, sep, value = word.rpartition("=")
        if sep and value and _NAME_LIKE.fullmatch(name.lower()):
            word, before = value, name[-7:] + "="  # ``key=value``: the value is what may be secret
        if not (_LETTER.search(word) and _DIGIT.search(word)):
            continue
        if _UUID.fullmatch(word) or _GIT_OBJECT.fullmatch(word) or before.endswith(("sha1:", "sha256:", "sha512:")):  # fmt: skip
            continue
        if "/" in word and (word[0] == "/" or before[-1:] in (".", "~", "/", ":") or all(_NAME_LIKE.fullmatch(s) for s in word.split("/"))):  # fmt: skip
            continue  # a path or the path part of a URL
        yield match


def _entropy(word: str) -> float:
    """Shannon entropy in bits per character: detect-secrets' measure for a word within its charset."""
    return -sum(n / len(word) * math.log2(n / len(word)) for n in Counter(word).values())


class _Scanner:
    """detect-secrets' plugins, built once per process on first need."""

    def __init__(self) -> None:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.filters import heuristic
        from detect_secrets.plugins import high_entropy_strings, keyword

        skip = {"PrivateKeyDetector", "IPPublicDetector"}  # PEM is structural; an IP is no secret
        classes: Iterable[type[Any]] = get_mapping_from_secret_type_to_class().values()
        plugins = [cls() for cls in classes if cls.__name__ not in skip]
        # The keyword detector reports only the first match of a string, so it reads line by line,
        # and only lines that name one of its keywords.
        self.per_line = [p for p in plugins if isinstance(p, keyword.KeywordDetector)]
        self.per_chunk = [p for p in plugins if p not in self.per_line]
        self.keywords = re.compile("|".join(keyword.DENYLIST), re.IGNORECASE)
        self.base64_limit = float(high_entropy_strings.Base64HighEntropyString().entropy_limit)
        self.entropy_type: Any = high_entropy_strings.HighEntropyStringsPlugin
        self.filters: tuple[Callable[[str], object], ...] = (
            heuristic.is_templated_secret,
            heuristic.is_prefixed_with_dollar_sign,
            heuristic.is_sequential_string,
            heuristic.is_potential_uuid,
            heuristic.is_not_alphanumeric_string,
            _GIT_OBJECT.fullmatch,
        )

    def secrets(self, chunk: str) -> set[str]:
        found = [(p, v) for p in self.per_chunk for v in p.analyze_string(chunk)]
        for line in filter(self.keywords.search, chunk.split("\n")):
            found += [(p, v) for p in self.per_line for v in p.analyze_string(line)]
        return {value for plugin, value in found if self._keep(plugin, value)}

    def _keep(self, plugin: Any, value: object) -> bool:
        if not isinstance(value, str) or not value or any(drop(value) for drop in self.filters):
            return False
        # entropy plugins yield every quoted string: the measure is applied here, as detect-secrets does
        return not isinstance(plugin, self.entropy_type) or bool(plugin.calculate_shannon_entropy(value) > plugin.entropy_limit)  # fmt: skip


@cache
def _scanner() -> _Scanner | None:
    try:
        return _Scanner()
    except Exception:  # not installed or broken: the caller fails closed
        return None


def scanner_spans(text: str) -> Iterator[Span]:
    words = list(_candidates(text))
    if not words:
        return  # the common case: detect-secrets is never imported
    scanner = _scanner()
    if scanner is None:
        yield from (word.span() for word in words)
        return
    windows: list[Span] = []
    for word in words:
        if _entropy(word[0]) > scanner.base64_limit:
            yield word.span()  # an unquoted random word: detect-secrets' eager ad-hoc check
            continue
        line_start = text.rfind("\n", 0, word.start()) + 1
        line_end = text.find("\n", word.end())
        line_end = len(text) if line_end < 0 else line_end
        windows.append(
            (max(line_start, word.start() - _WINDOW), min(line_end, word.end() + _WINDOW))
        )
    for start, end in merge_spans(windows, gap=1):
        chunk = text[start:end]
        try:
            values = scanner.secrets(chunk)
        except Exception:  # a plugin that fails on odd input: fail closed on this chunk's words
            yield from ((start + w.start(), start + w.end()) for w in _candidates(chunk))
            continue
        for value in values:
            at = chunk.find(value)
            while at >= 0:
                yield start + at, start + at + len(value)
                at = chunk.find(value, at + len(value))


def merge_spans(spans: Iterable[Span], gap: int = 0) -> list[Span]:
    """Sorted, non-empty spans with overlapping ones (or ones at most ``gap`` apart) joined."""
    merged: list[Span] = []
    for start, end in sorted(span for span in spans if span[0] < span[1]):
        if merged and start < merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
