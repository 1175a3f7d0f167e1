"""Keep secrets out of the ledger: every secret becomes ``[redacted:<16 hex>]``.

The marker carries the first 16 hex digits of HMAC-SHA256(install key, secret) (RFC 2104 with
SHA-256, FIPS 180-4), so two uses of one secret still match across entries, while a short password
cannot be recovered by hashing guesses: that needs the per-install key, which never enters the
ledger. Detection has two layers:

1. *Structural* (always, pure regular expressions, linear in the text): URL userinfo passwords
   (RFC 3986, section 3.2.1; the user is kept), ``Authorization`` headers (RFC 9110, section 11.6.2;
   RFC 6750, section 2.1 for ``Bearer``) and secret-named headers such as ``X-API-Key``, flags that
   carry secrets (``--password X``, ``--token=X``, ``-pX`` after ``mysql``/``mariadb``), assignments
   to secret-looking names (``PGPASSWORD=x``, ``"api_key": "x"``), SQL ``PASSWORD 'x'`` /
   ``IDENTIFIED BY 'x'``, PEM private key blocks (RFC 7468) and token shapes that are unambiguous on
   their own (AWS key ids, GitHub, GitLab, Slack, Stripe, Google, OpenAI/Anthropic keys, JWTs).
2. *detect-secrets* (Yelp's maintained scanner) for the rest. Importing it costs ~250 ms (it pulls in
   ``requests``) and this code runs in a per-call agent hook, so it is imported lazily and only when
   the structural pass leaves a *candidate word*: a run of 20 or more base64/url-safe characters that
   mixes letters and digits, is not a path, a UUID, a 40-hex git object id or a ``sha256:`` digest.
   Why 20: detect-secrets' base64 entropy limit is 4.5 bits per character, and a string of n
   characters has at most log2(n) bits, so nothing shorter than 23 characters can pass it; every
   vendor token shape it knows is longer than 20 as well. Only the lines around candidates are
   scanned (at most 256 characters either side), with each plugin's ``analyze_string`` called
   directly: no global settings, no verification requests. Its heuristic filters (templates,
   ``$VAR``, sequences, UUIDs) drop the obvious false positives. Unquoted candidates are also judged
   by its base64 entropy measure, since shell arguments are rarely quoted.

If detect-secrets cannot be imported, every candidate word is redacted (fail closed). The result is
a fixed point: :meth:`Redactor.text` repeats both layers until nothing changes, so redacting
redacted text changes nothing.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from blastdoor.errors import BlastdoorError
from blastdoor.ledger.secret_scan import Span, merge_spans, scanner_spans

KEY_BYTES = 32
MARKER = re.compile(r"\[redacted:[0-9a-f]{16}\]")
MEMO_SIZE = 4096  # redacted texts remembered per redactor (cleared when full)
MEMO_TEXT = 4096  # longer texts are not remembered
_ROUNDS = 4  # both layers are repeated until nothing changes; real text settles in two rounds



class RedactionKeyError(BlastdoorError):
    """The redaction key is not 32 bytes."""


# --- Which names hold secrets -------------------------------------------------------------------

_SECRET_ENDINGS = ("password", "passwd", "passphrase", "secret", "token", "credential", "credentials", "apikey", "pwd")  # fmt: skip
_NOT_SECRET_LAST = frozenset(
    {"file", "path", "dir", "url", "uri", "name", "id", "ids", "arn", "type", "ttl", "host", "port", "user",
     "username", "stdin", "prompt", "env", "length", "count", "size", "header", "endpoint", "region", "prefix",
     "suffix", "field", "mode", "enabled", "required", "expiry", "expires", "expiration", "sock", "format",
     "version", "hint", "policy", "location", "ref", "kind"}
)  # fmt: skip
_NOT_SECRET_KEY_OWNERS = frozenset({"public", "sort", "primary", "foreign", "partition", "cache", "idempotency", "routing"})  # fmt: skip
_WORD_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a variable, flag, header or JSON key named ``name`` holds a secret value."""
    parts = [part.lower() for part in _WORD_PART.findall(name)]
    if (
        not parts
        or parts[0] == "no"
        or parts[-1] in _NOT_SECRET_LAST
        or parts in (["pwd"], ["oldpwd"])
    ):
        return False
    if parts == ["pass"] or any(part.endswith(_SECRET_ENDINGS) for part in parts):
        return True
    return any(part == "key" and parts[i - 1] not in _NOT_SECRET_KEY_OWNERS for i, part in enumerate(parts) if i)  # fmt: skip


# --- Layer 1: structural rules; each yields the (start, end) spans of secret values ---------------

# A value: single-quoted (literal), double-quoted, or a bare shell word. Bounded, so no rule can
# scan far past its anchor.
_VALUE = r"""(?:'(?P<sq>[^'\n]{1,4096})'|"(?P<dq>(?:[^"\\\n]|\\.){1,4096})"|(?P<bare>[^\s'"`;&|<>()]{1,4096}))"""
_QUOTED = r"""(?:'(?P<sq>[^'\n]{1,4096})'|"(?P<dq>(?:[^"\\\n]|\\.){1,4096})")"""
_REFERENCE = re.compile(r"\$(?:\w+|\{[^}]*\}|\([^)]*\))")  # $VAR, ${VAR}, $(cmd): not a secret


def _value(match: re.Match[str], *, allow_dash: bool = True) -> Iterator[Span]:
    for group in ("sq", "dq", "bare"):
        value = match.groupdict().get(group)
        if value is None:
            continue
        if group != "sq" and _REFERENCE.fullmatch(value):
            return  # a shell expansion names the secret without holding it
        if group == "bare" and not allow_dash and value.startswith("-"):
            return  # `--password -h host`: the next word is another flag
        yield match.span(group)


_NAMED = re.compile(r"(?<![\w.\-])(?P<name>[A-Za-z_][\w.\-]{0,127}+)=(?!=)" + _VALUE)
_KEYED = re.compile(
    r"""(?P<q>["']?)(?P<name>[A-Za-z_][\w.\-]{0,127}+)(?P=q)[ \t]*(?::|=)[ \t]*""" + _QUOTED
)
_FLAG = re.compile(r"(?<![\w-])--(?P<name>[A-Za-z0-9][\w-]{0,63}+)(?P<sep>=|[ \t]+)" + _VALUE)
_HEADER = re.compile(r"(?<![\w-])(?P<name>[A-Za-z0-9]++(?:-[A-Za-z0-9]++)++):[ \t]*(?P<value>[^\s'\"][^'\"\r\n]{0,4095})")  # fmt: skip
_AUTHORIZATION = re.compile(
    r"(?i)(?<![\w-])(?:proxy-)?authorization[ \t]*:[ \t]*"
    r"(?:(?:bearer|basic|token|digest|negotiate|ntlm|bot|apikey)[ \t]+)?(?P<value>[^\s'\"][^'\"\r\n]{0,4095})"
)
_BEARER = re.compile(r"\bBearer[ \t]+(?P<value>[A-Za-z0-9\-._~+/]{16,4096}=*)")
_URL_PASSWORD = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]{0,31}://[^\s:/?#\[\]@'\"]{0,256}:(?P<value>[^\s/?#'\"]{1,512})@")  # fmt: skip
_SQL_PASSWORD = re.compile(r"(?i)\b(?:password|identified[ \t]+by)[ \t]*(?:=[ \t]*)?(?:\([ \t]*)?'(?P<sq>(?:[^'\\\n]|\\.|''){1,4096})'")  # fmt: skip
# Flags whose meaning depends on the command: mysql's -pSECRET (elsewhere -p is a port or a path)
# and curl's -u USER:PASSWORD.
_COMMAND = re.compile(
    r"(?<![\w.\-])(?P<command>mysql|mariadb|curl)[\w-]*(?P<args>[^;&|\n]{0,8192})"
)
_GLUED_P = re.compile(r"(?<=\s)-p" + _VALUE)
_CURL_USER = re.compile(r"(?<=\s)(?:-[A-Za-z]*[uU]|--user|--proxy-user)(?:=|[ \t]*)" + _VALUE)
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_TRUNCATED_BODY = re.compile(r"[A-Za-z0-9+/=\\\s:,\-]{1,16384}")

# Token shapes that are secrets by their look alone (each vendor documents its prefix).
_SHAPES = re.compile(
    r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bgh[pousr]_[A-Za-z0-9]{36,255}\b|\bgithub_pat_\w{22,255}"  # GitHub
    r"|\bglpat-[\w-]{20,255}|\bnpm_[A-Za-z0-9]{36}\b|\bpypi-AgE[\w-]{50,}"  # GitLab, npm, PyPI
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,255}|\bxapp-[A-Za-z0-9-]{10,255}"  # Slack
    r"|\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,255}"  # Stripe
    r"|\bAIza[\w-]{35}"  # Google API key
    r"|\bsk-(?:ant-|proj-|svcacct-|admin-)?(?=[\w-]{0,254}\d)[\w-]{24,255}"  # OpenAI, Anthropic
    r"|\beyJ[\w-]{5,8192}\.eyJ[\w-]{5,8192}\.[\w-]{0,8192}"  # JWT (RFC 7519)
)


# Each rule first asks whether the text holds what its patterns cannot match without (a literal
# with no other case, so the test is exact even where a pattern ignores case): most text holds
# none of it, and ``in`` costs a small fraction of a regex scan. tests/ledger/test_redact.py checks
# that no pattern matches text that lacks its literal.


def _named_spans(text: str) -> Iterator[Span]:
    if "=" not in text and ":" not in text:
        return
    for match in _NAMED.finditer(text) if "=" in text else ():
        if is_secret_name(match["name"]):
            yield from _value(match)
    for match in _KEYED.finditer(text) if "'" in text or '"' in text else ():
        if is_secret_name(match["name"]):
            yield from _value(match)


def _flag_spans(text: str) -> Iterator[Span]:
    for match in _FLAG.finditer(text) if "--" in text else ():
        if is_secret_name(match["name"]):
            yield from _value(match, allow_dash=match["sep"] == "=")
    if "mysql" not in text and "mariadb" not in text and "curl" not in text:
        return
    for command in _COMMAND.finditer(text):
        curl = command["command"] == "curl"
        for match in (_CURL_USER if curl else _GLUED_P).finditer(text, *command.span("args")):
            for start, end in _value(match):
                if not curl:
                    yield start, end
                elif (colon := text.find(":", start, end)) >= 0:
                    yield colon + 1, end  # curl -u USER:PASSWORD keeps the user


def _trimmed(match: re.Match[str]) -> Iterator[Span]:
    value = match["value"].rstrip()
    if not _REFERENCE.fullmatch(value):
        yield match.start("value"), match.start("value") + len(value)


def _header_spans(text: str) -> Iterator[Span]:
    if ":" in text:
        for match in _AUTHORIZATION.finditer(text):
            yield from _trimmed(match)
        for match in _HEADER.finditer(text):
            if is_secret_name(match["name"]):
                yield from _trimmed(match)
    for match in _BEARER.finditer(text) if "Bearer" in text else ():
        yield from _trimmed(match)
    for match in _URL_PASSWORD.finditer(text) if "://" in text and "@" in text else ():
        yield from _trimmed(match)
    for match in _SQL_PASSWORD.finditer(text) if "'" in text else ():
        yield from _value(match)


def _pem_spans(text: str) -> Iterator[Span]:
    """RFC 7468 private key blocks: the body between BEGIN and END (both lines kept)."""
    if "PRIVATE KEY" not in text:
        return
    ends = [match.start() for match in _PEM_END.finditer(text)]
    i, covered = 0, 0
    for begin in _PEM_BEGIN.finditer(text):
        if begin.start() < covered:
            continue
        while i < len(ends) and ends[i] < begin.end():
            i += 1
        if i < len(ends):
            yield begin.end(), ends[i]
            covered = ends[i]
        elif body := _PEM_TRUNCATED_BODY.match(text, begin.end()):
            yield body.span()  # no END line: a truncated key is still a key
            covered = body.end()


def _shape_spans(text: str) -> Iterator[Span]:
    for match in _SHAPES.finditer(text):
        yield match.span()


_STRUCTURAL: tuple[Callable[[str], Iterator[Span]], ...] = (_pem_spans, _named_spans, _flag_spans, _header_spans, _shape_spans)  # fmt: skip


# --- Putting spans together -------------------------------------------------------------------------


def _outside_markers(text: str, spans: list[Span]) -> Iterator[Span]:
    """The parts of ``spans`` not already inside a marker, so markers are never re-redacted."""
    markers = [match.span() for match in MARKER.finditer(text)]
    ends = [end for _, end in markers]
    for start, end in spans:
        i = bisect.bisect_right(ends, start)
        while i < len(markers) and markers[i][0] < end:
            if start < markers[i][0] and text[start : markers[i][0]].strip():
                yield start, markers[i][0]
            start, i = max(start, markers[i][1]), i + 1
        if start < end and text[start:end].strip():
            yield start, end


# Shorter than every token shape above (the shortest, an AWS key id, is 20 characters) and without
# the spaces, "=", ":" or "@" that every context rule needs, and not a glued flag such as -pSECRET.
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.,/+-]{0,18}")


class Redactor:
    """Replaces secrets by ``[redacted:<hmac>]`` markers in text, env maps and JSON payloads.

    Never raises on a ``str``; redacting an already redacted value changes nothing.
    """

    __slots__ = ("_key", "_keys", "_memo")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
            size = len(key) if isinstance(key, bytes | bytearray) else type(key).__name__
            raise RedactionKeyError(
                f"the redaction key must be {KEY_BYTES} bytes, got {size}",
                hint="remove the damaged redaction.key from Blastdoor's keys folder only if the ledger is new",
            )
        self._key = bytes(key)
        self._memo: dict[str, str] = {}  # text -> redacted text: entries repeat most of their strings
        self._keys: dict[str, tuple[str, bool]] = {}  # JSON key -> redacted key, whether its value goes whole

    def __repr__(self) -> str:
        return "Redactor(key=<hidden>)"

    def marker(self, secret: str) -> str:
        """``[redacted:<first 16 hex of HMAC-SHA256(key, secret)>]`` (RFC 2104)."""
        data = secret.encode("utf-8", "surrogatepass")
        return f"[redacted:{hmac.new(self._key, data, hashlib.sha256).hexdigest()[:16]}]"

    def text(self, value: str) -> str:
        """``value`` with every secret the two layers find replaced by its marker."""
        known = self._memo.get(value)
        if known is None:
            # one short word: no flag, assignment, URL, header or token shape fits in it
            known = value if _PLAIN_WORD.fullmatch(value) else self._redacted(value)
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            if len(value) <= MEMO_TEXT:
                self._memo[value] = known
        return known

    def _redacted(self, value: str) -> str:
        for _ in range(_ROUNDS):
            redacted = self._replace(self._replace(value, _STRUCTURAL), (scanner_spans,))
            if redacted == value:
                break
            value = redacted
        return value

    def _replace(self, text: str, rules: Iterable[Callable[[str], Iterator[Span]]]) -> str:
        spans = merge_spans(span for rule in rules for span in rule(text))
        pieces, at = [], 0
        for start, end in _outside_markers(text, spans):
            pieces += [text[at:start], self.marker(text[start:end])]
            at = end
        return "".join([*pieces, text[at:]])

    def env(self, values: Mapping[str, str]) -> dict[str, str]:
        """An environment with secret-named variables redacted whole and the rest redacted as text."""
        return {name: self._whole_text(value) if is_secret_name(name) else self.text(value) for name, value in values.items()}  # fmt: skip

    def payload(self, value: Any) -> Any:
        """A JSON-like value with every string redacted; values under secret-named keys go whole."""
        kind = type(value)  # exact types first: entries are plain JSON, and an ABC's test is slow
        if kind is str:
            known = self._memo.get(value)  # most strings are remembered: no call for them
            return self.text(value) if known is None else known
        if kind is dict:
            return self._mapping(value)
        if kind is list:
            return [self.payload(item) for item in value]
        if kind is int or kind is bool or value is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return self._mapping(value)
        if isinstance(value, list | tuple):
            return [self.payload(item) for item in value]
        return value

    def _mapping(self, value: Mapping[Any, Any]) -> dict[Any, Any]:
        found: dict[Any, Any] = {}
        for key, item in value.items():
            if type(key) is not str and not isinstance(key, str):
                found[key] = self.payload(item)
                continue
            redacted, secret = self._keys.get(key) or self._key_of(key)
            found[redacted] = self._whole(item) if secret else self.payload(item)
        return found

    def _key_of(self, key: str) -> tuple[str, bool]:
        """A JSON key redacted, and whether its value goes whole (remembered: keys repeat)."""
        redacted = self.text(key)
        # the redacted key is judged too: a marker can split off a name like TOKEN on a later pass
        decided = redacted, is_secret_name(key) or is_secret_name(redacted)
        if len(self._keys) >= MEMO_SIZE:
            self._keys.clear()
        if len(key) <= MEMO_TEXT:
            self._keys[key] = decided
        return decided

    def _whole(self, value: Any) -> Any:
        """The marker for a value under a secret name (None, booleans and markers stay)."""
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            return self._whole_text(value)
        if isinstance(value, int | float):
            return self.marker(str(value))
        return self.marker(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str))

    def _whole_text(self, value: str) -> str:
        return value if value == "" or MARKER.fullmatch(value) else self.marker(value)
