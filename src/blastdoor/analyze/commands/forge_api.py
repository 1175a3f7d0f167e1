"""``gh api`` and ``glab api`` read one way: the HTTP method, endpoint and body they would send.

Both programs (glab's ``api`` is a port of gh's) take the method from ``-X``/``--method``; without
one the request is a POST when any field (``-f``/``--raw-field``, ``-F``/``--field``) or a body
file (``--input``) is given, and a GET otherwise, as their manuals say. Their options are read as
Go's pflag reads them: ``-XDELETE``, ``-X=DELETE``, ``--method=DELETE`` and ``-X DELETE`` are one
option, letters bundle (``-iX DELETE`` is ``-i -X DELETE``; every single-letter option of ``api``
is listed, so a bundle is read whole), and a valued option takes the next word whatever it is.

An endpoint is a path under the forge's REST API, which ``--hostname`` moves to another host (gh:
``https://api.github.com/`` or ``https://HOST/api/v3/``; glab: ``https://HOST/api/v4/``, gitlab.com
by default), ``graphql`` (both forges' GraphQL endpoint) or a full URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from blastdoor.analyze.commands.getopt import Syntax, split_options
from blastdoor.analyze.invocation import Word

__all__ = ["ApiCall", "api_url", "read_call"]

_METHOD = ("-X", "--method")
_FIELDS = frozenset({"-f", "--raw-field", "-F", "--field"})
_VALUED = frozenset({*_METHOD, *_FIELDS, "--input", "-H", "--header", "--hostname", "-q", "--jq",
    "-t", "--template", "-p", "--preview", "--cache"})  # fmt: skip
_PFLAG = Syntax(dash_values=True, attached=True, short_equals=True, bundles=True)


@dataclass(frozen=True)
class ApiCall:
    """The request an ``api`` subcommand sends."""

    method: str  # upper case
    endpoint: str  # as written ("repos/o/r", "graphql", a full URL); "" when none is given
    body: str | None  # the GraphQL query, or else the first field's value; None without fields
    options: Mapping[str, str] = field(default_factory=dict)  # every option's last value


def read_call(args: Sequence[Word]) -> ApiCall:
    """The request of ``api ARGS`` (``args`` are the words after ``api``)."""
    options, operands = split_options(args, _VALUED, _PFLAG)
    method = next((o.text for o in reversed(options) if o.name in _METHOD), "")
    fields = [o.text for o in options if o.name in _FIELDS]
    sends = bool(fields) or any(o.name == "--input" for o in options)
    values = {key: value for key, _, value in (text.partition("=") for text in fields)}
    return ApiCall(
        method=(method or ("POST" if sends else "GET")).upper(),
        endpoint=operands[0].text if operands else "",
        body=values.get("query", next(iter(values.values()), None)),
        options={o.name: o.text for o in options},
    )


def api_url(call: ApiCall, forge: str) -> str:
    """The URL ``call`` is sent to by ``forge`` (``"gh"`` or ``"glab"``)."""
    if "://" in call.endpoint:
        return call.endpoint
    path = call.endpoint.lstrip("/")
    if forge == "gh":
        host = call.options.get("--hostname", "github.com")
        if host == "github.com":
            return "https://api.github.com/" + path
        return f"https://{host}/api/" + (path if path == "graphql" else "v3/" + path)
    host = call.options.get("--hostname", "gitlab.com")
    return f"https://{host}/api/" + (path if path == "graphql" else "v4/" + path)
