"""HTTP clients: curl, wget, HTTPie (``http``/``https``) and xh.

Each command line is read into a method, a URL, headers and a body and judged by
:func:`blastdoor.analyze.http.analyze_request`. A body or upload read from a secret file
(``-d @.env``, ``-T ~/.ssh/id_rsa``, ``file@~/.aws/credentials``) exfiltrates it. An
``Authorization`` header or ``-u user:pass`` tags the effect ``credential`` with a ``credential=``
hint naming the variable (never the value). A download to a file is a local file write; a download
piped into a shell is judged by the shell family.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from blastdoor.analyze import paths
from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.filesystem import write_effect
from blastdoor.analyze.commands.getopt import bundle
from blastdoor.analyze.http import analyze_request
from blastdoor.analyze.invocation import Analysis, Invocation, Word, effect
from blastdoor.model import Effect, Scope, Target, Verb

_SECRET_VAR = re.compile(
    r"\$\{?([A-Z0-9_]*(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_KEY|ACCESS_KEY)"
    r"[A-Z0-9_]*)\}?",
    re.IGNORECASE,
)


@dataclass
class Request:
    """What a client command line would send."""

    method: str = ""
    urls: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: list[str] = field(default_factory=list)
    uploads: list[Word] = field(default_factory=list)  # files whose content is sent
    outputs: list[Word] = field(default_factory=list)  # local files written
    credentials: list[str] = field(
        default_factory=list
    )  # where a credential comes from (never its value)
    offline: bool = False
    reads_stdin: bool = False  # headers or options read from standard input (-H @-, -K -)


def _credential_source(text: str) -> str:
    found = _SECRET_VAR.search(text) or re.search(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", text)
    return found.group(1) if found else "literal token"


def _header(request: Request, text: str) -> None:
    if text.startswith("@"):  # curl -H @FILE: one header per line of FILE (or of stdin for @-)
        if text == "@-":
            request.reads_stdin = True
        else:
            request.uploads.append(Word(text[1:]))
        return
    name, _, value = text.partition(":")
    request.headers[name.strip()] = value.strip()
    if name.strip().lower() in (
        "authorization",
        "x-api-key",
        "api-key",
        "private-token",
        "x-auth-token",
        "cookie",
        "proxy-authorization",
    ) or _SECRET_VAR.search(value):
        request.credentials.append(_credential_source(value))


_STDIN = "\0stdin"


def _data(request: Request, text: str, *, raw: bool = False) -> None:
    """A body part; ``@file`` sends the file, ``@-`` sends standard input."""
    if not raw and text.startswith("@"):
        if text == "@-":
            request.body.append(_STDIN)
        else:
            request.uploads.append(Word(text[1:]))
        return
    if _SECRET_VAR.search(text):
        request.credentials.append(_credential_source(text))
    request.body.append(text)


_CURL_VALUES = frozenset("ACDEFHKPQTUXYbcdemortuwxyz")
_CURL_LONG_VALUES = frozenset({"--request", "--data", "--data-raw", "--data-binary",
    "--data-ascii", "--data-urlencode", "--json", "--form", "--form-string", "--header", "--user",
    "--output", "--upload-file", "--url", "--user-agent", "--cookie", "--cookie-jar", "--referer",
    "--cert", "--key", "--cacert", "--max-time", "--connect-timeout", "--write-out", "--proxy",
    "--range", "--retry", "--resolve", "--limit-rate", "--config", "--oauth2-bearer",
    "--aws-sigv4", "--variable", "--url-query", "--dump-header", "--output-dir", "--continue-at",
    "--proxy-user", "--max-filesize", "--interface", "--dns-servers", "--retry-delay",
    "--retry-max-time", "--speed-limit", "--speed-time", "--time-cond", "--trace",
    "--trace-ascii", "--stderr", "--quote", "--ftp-port", "--netrc-file", "--unix-socket",
    "--abstract-unix-socket", "--connect-to", "--local-port", "--expand-data", "--expand-url",
    "--expand-header", "--tls-max", "--ciphers", "--pinnedpubkey", "--preproxy", "--socks5",
    "--socks5-hostname", "--mail-from", "--mail-rcpt", "--login-options", "--sasl-authzid",
    "--delegation", "--hostpubmd5"})  # fmt: skip
_CURL_SHORT_LONG = {
    "X": "--request",
    "d": "--data",
    "F": "--form",
    "H": "--header",
    "u": "--user",
    "o": "--output",
    "T": "--upload-file",
    "K": "--config",
    "U": "--proxy-user",
}


def _curl_options(inv: Invocation) -> Iterator[tuple[str, Word | None]]:
    """``(option, value)`` pairs in long form, and ``("", url)`` for operands."""
    words = list(inv.args)
    i = 0
    while i < len(words):
        text = words[i].text
        if text.startswith("--") and len(text) > 2:
            name, eq, value = text.partition("=")
            if eq:
                yield name, Word(value, words[i].dynamic)
            elif name in _CURL_LONG_VALUES and i + 1 < len(words):
                yield name, words[i + 1]
                i += 1
            else:
                yield name, None
        elif text.startswith("-") and len(text) > 1:
            letters, i = bundle(words, i, _CURL_VALUES)
            for letter, found in letters:
                valued = letter in _CURL_VALUES
                yield (_CURL_SHORT_LONG.get(letter, "-" + letter) if valued else "-" + letter), found
        else:
            yield "", words[i]
        i += 1


def _curl(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    request = Request()
    get = False
    for name, value in _curl_options(inv):
        text = value.text if value is not None else ""
        if name == "":
            request.urls.append(text)
        elif name in ("--help", "--version", "-h", "-V", "--manual", "-M"):
            return
        elif name == "--url":
            request.urls.append(text)
        elif name == "--request":
            request.method = text.upper()
        elif name in ("--data", "--data-binary", "--data-ascii", "--json", "--data-urlencode"):
            _data(
                request,
                text.split("=", 1)[1] if name == "--data-urlencode" and "=@" in text else text,
            )
        elif name == "--data-raw":
            _data(request, text, raw=True)
        elif name in ("--form", "--form-string"):
            _, _, val = text.partition("=")
            _data(request, val if val.startswith(("@", "<")) and name == "--form" else text)
            if val.startswith("<"):
                request.uploads.append(Word(val[1:]))
        elif name == "--upload-file":
            request.uploads.append(value or Word(""))
            request.method = request.method or "PUT"
        elif name == "--header":
            _header(request, text)
        elif name == "--config" and text == "-":
            request.reads_stdin = True
        elif name in ("--user", "--oauth2-bearer", "--proxy-user", "--aws-sigv4"):
            request.credentials.append(
                _credential_source(text) if "$" in text else "literal credential"
            )
        elif name in ("--output",):
            request.outputs.append(value or Word(""))
        elif name in ("-I", "--head"):
            request.method = request.method or "HEAD"
        elif name in ("-G", "--get"):
            get = True
    if request.body and not request.method:
        request.method = "GET" if get else "POST"
    yield from request_effects(inv, ctx, request)


def request_effects(inv: Invocation, ctx: Analysis, request: Request) -> Iterator[Effect]:
    """The effects of a parsed request: exfiltration, the request itself, local files written."""
    from_stdin = _STDIN in request.body
    body = "\n".join(b for b in request.body if b != _STDIN)
    if from_stdin:
        body += inv.stdin.text or ""
    where = ", ".join(request.urls) or "a remote server"
    for word in request.uploads:
        if paths.is_secret_path(word.text):
            info = paths.path_info(word, ctx)
            yield effect(
                inv,
                Verb.EXFILTRATE,
                Target("secret-file", info.resolved),
                f"send the secrets in {word.text} to {where}",
                scope=Scope.LOCAL,
                tags={"secret", "upload"},
            )
    if (from_stdin or request.reads_stdin) and inv.stdin.secret:
        yield effect(
            inv,
            Verb.EXFILTRATE,
            Target("secret", inv.stdin.secret),
            f"send {inv.stdin.secret} (read on standard input) to {where}",
            scope=Scope.LOCAL,
            tags={"secret"},
        )
    tags = (
        {"credential", *(f"credential={c}" for c in request.credentials)}
        if request.credentials
        else set()
    )
    sends = bool(body or request.uploads or from_stdin)
    method = request.method or ("POST" if sends else "GET")
    if not request.offline:
        for url in request.urls:
            for found in analyze_request(
                method, url, request.headers, body or None, evidence=inv.evidence
            ):
                yield replace(found, tags=found.tags | tags) if tags else found
    for word in request.outputs:
        if word.text and word.text != "-":
            written = write_effect(inv, ctx, word, how="download into", overwrite=True)
            if written is not None:
                yield written


_WGET_VALUES = frozenset({"-O", "--output-document", "-o", "--output-file", "-a",
    "--append-output", "-P", "--directory-prefix", "-U", "--user-agent", "-e", "--execute", "-i",
    "--input-file", "-t", "--tries", "-T", "--timeout", "-w", "--wait", "-l", "--level", "-A",
    "--accept", "-R", "--reject", "-D", "--domains", "-Q", "--quota", "--header", "--post-data",
    "--post-file", "--body-data", "--body-file", "--method", "--user", "--password",
    "--http-user", "--http-password", "--load-cookies", "--save-cookies", "--limit-rate",
    "--referer", "--ca-certificate", "--certificate", "--private-key", "-B", "--base",
    "--bind-address", "--restrict-file-names", "--proxy-user", "--proxy-password", "-X",
    "--exclude-directories"})  # fmt: skip


def _wget(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    request = Request()
    words = list(inv.args)
    i = 0
    while i < len(words):
        text = words[i].text
        name, eq, value = text.partition("=") if text.startswith("--") else (text, "", "")
        if not eq and name in _WGET_VALUES and i + 1 < len(words):
            value, i = words[i + 1].text, i + 1
        elif not eq and text[:2] in _WGET_VALUES and len(text) > 2 and not text.startswith("--"):
            name, value = text[:2], text[2:]
        if name in ("--help", "-h", "--version", "-V"):
            return
        if not text.startswith("-"):
            request.urls.append(text)
        elif name in ("--post-data", "--body-data"):
            _data(request, value, raw=True)
        elif name in ("--post-file", "--body-file"):
            request.uploads.append(Word(value))
        elif name == "--method":
            request.method = value.upper()
        elif name == "--header":
            _header(request, value)
        elif name in ("--password", "--http-password", "--user", "--http-user"):
            request.credentials.append(
                _credential_source(value) if "$" in value else "literal credential"
            )
        elif name in ("-O", "--output-document") and value != "-":
            request.outputs.append(Word(value))
        i += 1
    if request.body and not request.method:
        request.method = "POST"
    yield from request_effects(inv, ctx, request)


_HTTPIE_VALUES = frozenset({"-a", "--auth", "-A", "--auth-type", "-o", "--output", "-p",
    "--print", "--session", "--session-read-only", "--verify", "--cert", "--cert-key",
    "--timeout", "--proxy", "--pretty", "-s", "--style", "--raw", "--max-redirects", "--ssl",
    "--ciphers", "--boundary", "--format-options", "-P", "--history-print", "--unsorted",
    "--response-charset", "--response-mime", "--default-scheme", "--max-headers", "--path-as-is",
})  # fmt: skip
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def _httpie(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    request = Request()
    words = list(inv.args)
    operands: list[Word] = []
    i = 0
    while i < len(words):
        text = words[i].text
        if text in ("--help", "--version", "-h" if inv.name.startswith("xh") else "--manual"):
            return
        if text in ("--offline",):
            request.offline = True
        elif text in _HTTPIE_VALUES and i + 1 < len(words):
            if text in ("-a", "--auth"):
                request.credentials.append(
                    _credential_source(words[i + 1].text)
                    if "$" in words[i + 1].text
                    else "literal credential"
                )
            elif text in ("-o", "--output"):
                request.outputs.append(words[i + 1])
            elif text == "--raw":
                _data(request, words[i + 1].text, raw=True)
            i += 1
        elif not text.startswith("-") or (not operands and text.startswith(":")):
            operands.append(words[i])
        i += 1
    if len(operands) > 1 and operands[0].text.upper() in _METHODS:
        request.method = operands.pop(0).text
    if operands:
        url = operands.pop(0).text
        request.urls.append("localhost" + url if url.startswith(":") else url)
    for item in operands:
        _httpie_item(request, item.text)
    if inv.stdin.text is not None or (
        inv.stdin.source and "--ignore-stdin" not in {w.text for w in words}
    ):
        request.body.append(_STDIN)
    yield from request_effects(inv, ctx, request)


def _httpie_item(request: Request, text: str) -> None:
    """One HTTPie request item: ``H:v``, ``key=value``, ``key:=json``, ``key==q``, ``f@file``."""
    match = re.match(r"^([^:=@]*)(:=@|=@|==|:=|=|@|:)(.*)$", text)
    if match is None:
        return
    _, sep, value = match.groups()
    if sep == ":":
        _header(request, text)
    elif sep in ("@", "=@", ":=@"):
        request.uploads.append(Word(value))
    elif sep in ("=", ":="):
        _data(request, value, raw=True)


FAMILIES = (
    CommandFamily.of(["curl"], _curl),
    CommandFamily.of(["wget", "wget2"], _wget),
    CommandFamily.of(["http", "https", "xh", "xhs"], _httpie),
)
