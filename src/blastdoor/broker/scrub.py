"""Take a profile's secrets out of what a brokered program prints, in the forms they leak in.

For each secret value the needles are the value itself, its URL-encodings (RFC 3986 percent-encoding,
and ``+`` for spaces as in HTML forms), its hex form, and its base64 forms (RFC 4648, standard and
URL-safe alphabets). Base64 is matched also *inside* a longer encoded text, such as the
``user:password`` of an HTTP Basic header: a secret starting at byte offset 0, 1 or 2 of a 3-byte
group gives one of three encodings, and the characters that depend only on the secret's own bits
are the same wherever the group boundary falls. Values shorter than :data:`MIN_ENCODED` bytes are
only matched as they are (their encodings would match ordinary text).

Output is a stream: :meth:`Scrubber.feed` holds back the last ``longest needle - 1`` bytes, so a
secret split across two reads is still caught.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MIN_ENCODED = 8
MIN_CORE = 8  # base64 characters: a shorter core would match ordinary text


def needles(secret: bytes) -> set[bytes]:
    """Every form of ``secret`` to remove."""
    found = {secret}
    if len(secret) < MIN_ENCODED:
        return found
    text = secret.decode("utf-8", "surrogateescape")
    found |= {quote(text, safe="").encode("utf-8", "surrogateescape"),
              quote_plus(text, safe="").encode("utf-8", "surrogateescape"),
              binascii.hexlify(secret), binascii.hexlify(secret).upper()}  # fmt: skip
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        found.add(encode(secret))
        for offset in range(3):
            core = _core(encode(b"\0" * offset + secret), offset, len(secret))
            if len(core) >= MIN_CORE:
                found.add(core)
    return found


def _core(encoded: bytes, offset: int, size: int) -> bytes:
    """The characters of ``encoded`` whose six bits all come from the secret (not from the
    ``offset`` bytes before it, nor from padding or whatever follows it)."""
    first = -(-8 * offset // 6)  # ceil: the first character starting on the secret's bits
    last = (8 * (offset + size)) // 6  # characters before this index end inside the secret
    return encoded[first:last]


class Scrubber:
    """Replaces every needle with ``[secret removed: NAME]``; streaming-safe."""

    def __init__(self, secrets: Iterable[tuple[str, str]]) -> None:
        self._names: dict[bytes, bytes] = {}
        for name, value in secrets:
            if not value:
                continue
            for needle in needles(value.encode("utf-8", "surrogateescape")):
                self._names.setdefault(needle, f"[secret removed: {name}]".encode())
        ordered = sorted(self._names, key=len, reverse=True)
        self._pattern = re.compile(b"|".join(re.escape(n) for n in ordered)) if ordered else None
        self._hold = max((len(n) for n in ordered), default=1) - 1
        self._pending = b""

    def text(self, value: str) -> str:
        """One whole string, scrubbed (for error messages and ledger fields)."""
        if self._pattern is None:
            return value
        return self._replace(value.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")

    def value(self, item: Any) -> Any:
        """A JSON-shaped value with every string in it scrubbed (a ledger payload)."""
        if isinstance(item, str):
            return self.text(item)
        if isinstance(item, dict):
            return {key: self.value(inner) for key, inner in item.items()}
        if isinstance(item, list | tuple):
            return [self.value(inner) for inner in item]
        return item

    def feed(self, chunk: bytes) -> bytes:
        """Scrubbed output that is safe to pass on now; the tail waits for the next chunk."""
        if self._pattern is None:
            return chunk
        data = self._pending + chunk
        cut = len(data) - self._partial(data)
        for match in self._pattern.finditer(data):
            if match.start() < cut < match.end():
                cut = match.end()  # never split a needle that has fully arrived
        self._pending = data[cut:]
        return self._replace(data[:cut])

    def _partial(self, data: bytes) -> int:
        """How long the end of ``data`` is that could still become a secret: the longest tail that
        begins some needle. Only that much waits, so a line without one passes on at once."""
        for size in range(min(self._hold, len(data)), 0, -1):
            tail = data[-size:]
            if any(needle.startswith(tail) for needle in self._names):
                return size
        return 0

    def flush(self) -> bytes:
        rest, self._pending = self._pending, b""
        return self._replace(rest)

    def _replace(self, data: bytes) -> bytes:
        assert self._pattern is not None
        return self._pattern.sub(lambda m: self._names[m.group(0)], data)
