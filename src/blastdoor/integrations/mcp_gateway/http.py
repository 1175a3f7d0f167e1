"""A remote MCP server over streamable HTTP, seen by the client as a local stdio server.

Each message the client sends is POSTed to the server's one endpoint (MCP's streamable HTTP
transport); the answer is either one JSON message or a ``text/event-stream`` of them, and each is
put on the gateway's queue as if the server had written it. The ``Mcp-Session-Id`` the server
hands out and the negotiated protocol version go back on every later request; for the per-request
envelope (protocol 2026-07-28) the ``Mcp-Method`` and ``Mcp-Name`` headers mirror the body, as the
transport requires. Each POST runs on its own thread so a slow tool call holds up nothing else.
Standard library only (``urllib``).

Not carried: the optional GET stream for messages the server starts on its own (notifications
between requests) and resuming a broken stream.
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from typing import IO, Any

from blastdoor.errors import GatewayError
from blastdoor.integrations.mcp_gateway.gateway import MAX_LINE_BYTES, PROTOCOL_VERSION_META_KEY
from blastdoor.integrations.mcp_gateway.stdio import SERVER, SERVER_DONE, Event

NAME_PARAMETER = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
REQUEST_TIMEOUT_SECONDS = 600.0
INTERNAL_ERROR = -32603
_HEADER_SAFE = re.compile(r"^[\x20-\x7E]*$")


class RemoteServer:
    """One streamable-HTTP MCP endpoint."""

    def __init__(self, url: str, *, headers: Mapping[str, str] | None = None) -> None:
        if not re.match(r"^https?://[^/\s]+", url):
            raise GatewayError(f"not an http(s) URL: {url[:200]}",
                               hint="give the MCP server's endpoint, e.g. https://host/mcp")  # fmt: skip
        self.url = url
        self.headers = dict(headers or {})
        self._events: queue.Queue[Event] | None = None
        self._lock = threading.Lock()
        self._session = ""
        self._version = ""
        self._busy: set[threading.Thread] = set()

    def start(self, events: queue.Queue[Event]) -> None:
        self._events = events

    def send(self, line: bytes) -> None:
        thread = threading.Thread(
            target=self._post, args=(line,), daemon=True, name="blastdoor-mcp-post"
        )
        with self._lock:
            self._busy.add(thread)
        thread.start()

    def close(self) -> None:
        """The client hung up: end the session once the calls in flight are answered."""

        def finish() -> None:
            for thread in list(self._busy):
                thread.join(REQUEST_TIMEOUT_SECONDS)
            if self._session:
                request = urllib.request.Request(self.url, method="DELETE", headers=self._common())
                # Ending the session is a courtesy; the server expires it anyway.
                with contextlib.suppress(OSError, ValueError):
                    urllib.request.urlopen(request, timeout=10).close()
            self._put(SERVER_DONE, b"")

        threading.Thread(target=finish, daemon=True, name="blastdoor-mcp-close").start()

    def wait(self, timeout: float) -> int:
        return 0

    # one POST -----------------------------------------------------------------------------------
    def _post(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        call_id = message.get("id") if isinstance(message, dict) and "method" in message else None
        headers = self._common() | {"Content-Type": "application/json",
                                    "Accept": "application/json, text/event-stream"}  # fmt: skip
        headers |= _envelope_headers(message)
        request = urllib.request.Request(self.url, data=line, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                session = response.headers.get("Mcp-Session-Id")
                if session:
                    with self._lock:
                        self._session = session
                kind = response.headers.get("Content-Type", "")
                if response.status == 202:
                    return
                if kind.startswith("text/event-stream"):
                    for data in _events(response):
                        self._deliver(data)
                else:
                    self._deliver(response.read(MAX_LINE_BYTES + 1))
        except urllib.error.HTTPError as error:
            body = error.read(2000).decode("utf-8", "replace").strip()
            if _is_jsonrpc(body):
                self._deliver(body.encode())
            elif call_id is not None:
                self._fail(
                    call_id,
                    f"the MCP server at {self.url} answered HTTP {error.code}: {body[:300]}",
                )
        except (OSError, ValueError) as error:
            if call_id is not None:
                self._fail(call_id, f"cannot reach the MCP server at {self.url}: {error}")
        finally:
            with self._lock:
                self._busy.discard(threading.current_thread())

    def _deliver(self, data: bytes) -> None:
        data = data.strip()
        if not data or len(data) > MAX_LINE_BYTES:
            return
        try:
            message = json.loads(data)
        except ValueError:
            return
        result = message.get("result") if isinstance(message, dict) else None
        if isinstance(result, dict) and isinstance(result.get("protocolVersion"), str):
            with self._lock:
                self._version = result["protocolVersion"]  # the initialize answer
        self._put(
            SERVER, json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        )

    def _fail(self, call_id: Any, text: str) -> None:
        error = {
            "jsonrpc": "2.0",
            "id": call_id,
            "error": {"code": INTERNAL_ERROR, "message": text},
        }
        self._put(SERVER, json.dumps(error).encode() + b"\n")

    def _put(self, kind: str, line: bytes) -> None:
        assert self._events is not None
        self._events.put((kind, line))

    def _common(self) -> dict[str, str]:
        headers = dict(self.headers)
        with self._lock:
            if self._session:
                headers["Mcp-Session-Id"] = self._session
            if self._version:
                headers["MCP-Protocol-Version"] = self._version
        return headers


def _envelope_headers(message: Any) -> dict[str, str]:
    """The routing headers of the per-request envelope, mirroring the body."""
    if not isinstance(message, dict) or not isinstance(message.get("params"), dict):
        return {}
    params = message["params"]
    meta = params.get("_meta")
    if not isinstance(meta, dict) or not isinstance(meta.get(PROTOCOL_VERSION_META_KEY), str):
        return {}
    headers = {"MCP-Protocol-Version": meta[PROTOCOL_VERSION_META_KEY],
               "Mcp-Method": str(message.get("method", ""))}  # fmt: skip
    name = params.get(NAME_PARAMETER.get(str(message.get("method")), ""))
    if isinstance(name, str):
        headers["Mcp-Name"] = _header_value(name)
    return headers


def _header_value(value: str) -> str:
    """A value that survives as an HTTP header: verbatim when plain, else the base64 sentinel."""
    if _HEADER_SAFE.match(value) and value == value.strip() and not value.startswith("=?base64?"):
        return value
    return "=?base64?" + base64.b64encode(value.encode()).decode("ascii") + "?="


def _events(stream: IO[bytes]) -> Iterator[bytes]:
    """The data of each ``message`` event in a server-sent-events stream."""
    data: list[bytes] = []
    kind = b"message"
    size = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line or not line.strip(b"\r\n"):
            if data and kind == b"message":
                yield b"\n".join(data)
            data, kind, size = [], b"message", 0
            if not line:
                return
            continue
        field, _, value = line.rstrip(b"\r\n").partition(b":")
        value = value[1:] if value.startswith(b" ") else value
        if field == b"data":
            size += len(value)
            if size <= MAX_LINE_BYTES:
                data.append(value)
        elif field == b"event":
            kind = value


def _is_jsonrpc(body: str) -> bool:
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("jsonrpc") == "2.0"
