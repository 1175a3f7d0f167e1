"""``blastdoor mcp-proxy -- SERVER...`` and ``blastdoor mcp pins|trust|forget``."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Any

from blastdoor.cli.common import settings
from blastdoor.errors import GatewayError
from blastdoor.ledger.entry import person_entry


def register(commands: Any) -> None:
    proxy = commands.add_parser(
        "mcp-proxy",
        help="run an MCP server behind Blastdoor: every tools/call judged and recorded",
        description=(
            "Put this in an MCP client's server list in place of the server's own command: "
            "blastdoor mcp-proxy --name github -- npx -y @modelcontextprotocol/server-github. "
            "For a remote server: blastdoor mcp-proxy --name linear --url https://mcp.linear.app/mcp"
        ),
    )
    proxy.add_argument(
        "--name", help="the server's name in policy and the ledger (default: its command or URL)"
    )
    proxy.add_argument(
        "--url", help="a remote server's streamable-HTTP endpoint instead of a command"
    )
    proxy.add_argument("--header", action="append", default=[], metavar="NAME:VALUE",
                       help="an HTTP header for the remote server (repeatable)")  # fmt: skip
    proxy.add_argument("server", nargs=argparse.REMAINDER, help="-- then the server's command")
    proxy.set_defaults(handler=_proxy)

    mcp = commands.add_parser("mcp", help="the MCP gateway's tool pins")
    actions = mcp.add_subparsers(dest="mcp_action", metavar="ACTION", required=True)
    pins = actions.add_parser("pins", help="list pinned tools and those waiting for review")
    pins.add_argument("--server", help="only this server")
    pins.set_defaults(handler=_pins)
    trust = actions.add_parser("trust", help="accept the changed or flagged tools of a server")
    trust.add_argument("server")
    trust.add_argument("tools", nargs="*", help="only these tools (default: all waiting)")
    trust.set_defaults(handler=_trust)
    forget = actions.add_parser("forget", help="drop a server's pins; its tools are pinned afresh")
    forget.add_argument("server")
    forget.set_defaults(handler=_forget)


def _proxy(args: argparse.Namespace) -> int:
    from blastdoor.integrations.mcp_gateway.gateway import Gateway
    from blastdoor.integrations.mcp_gateway.pins import PinStore
    from blastdoor.integrations.mcp_gateway.stdio import ChildServer, Upstream, serve
    from blastdoor.integrations.service import Runtime

    command = args.server[1:] if args.server[:1] == ["--"] else args.server
    if bool(command) == bool(args.url):
        raise GatewayError("give either the server's command after -- or --url, not both or neither",
                           hint="blastdoor mcp-proxy --name NAME -- COMMAND ARGS...")  # fmt: skip
    upstream: Upstream
    if args.url:
        from blastdoor.integrations.mcp_gateway.http import RemoteServer

        upstream = RemoteServer(args.url, headers=_headers(args.header))
        identity = args.name or args.url
    else:
        upstream = ChildServer(command)
        identity = args.name or shlex.join(command)
    resolved = settings(args)
    runtime = Runtime(resolved)
    gateway = Gateway(server=identity[:300], runtime=runtime, pins=PinStore(resolved.mcp_pins),
                      env=dict(os.environ), cwd=os.getcwd())  # fmt: skip
    try:
        return serve(gateway, upstream)
    finally:
        runtime.close()


def _headers(given: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in given:
        name, colon, value = item.partition(":")
        if not colon or not name.strip():
            raise GatewayError(f"not a header: {item[:100]!r}", hint="write --header 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


def _store(args: argparse.Namespace) -> Any:
    from blastdoor.integrations.mcp_gateway.pins import PinStore

    return PinStore(settings(args).mcp_pins)


def _pins(args: argparse.Namespace) -> int:
    state = _store(args).entries()
    servers = [args.server] if args.server else sorted(state)
    if not state:
        print(
            "no MCP tools pinned yet: they are pinned the first time a client lists them through blastdoor mcp-proxy"
        )
    for server in servers:
        pins = state.get(server)
        if pins is None:
            print(f"no pins for MCP server {server}")
            continue
        print(f"{server}: {len(pins['pinned'])} pinned, {len(pins['pending'])} waiting for review")
        for name, record in sorted(pins["pending"].items()):
            signs = f" ({', '.join(record.get('signs', []))})" if record.get("signs") else ""
            print(
                f"  ! {name}: {record.get('why', 'changed')}{signs}  {record.get('digest', '')[:19]}"
            )
            print(f"      now: {_one_line(record.get('description', ''))}")
            before = pins["pinned"].get(name)
            if before:
                print(f"      was: {_one_line(before.get('description', ''))}")
        for name, record in sorted(pins["pinned"].items()):
            print(f"    {name}  {record.get('digest', '')[:19]}  since {record.get('seen', '')}")
    return 0


def _one_line(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= 160 else flat[:157] + "..."


def _trust(args: argparse.Namespace) -> int:
    accepted = _store(args).trust(args.server, args.tools)
    if not accepted:
        print(f"nothing waiting for review for MCP server {args.server}", file=sys.stderr)
        return 1
    _record(args, "mcp-trust", {"server": args.server, "tools": accepted})
    print(f"trusted {', '.join(accepted)} of {args.server}")
    return 0


def _forget(args: argparse.Namespace) -> int:
    if not _store(args).forget(args.server):
        print(f"no pins for MCP server {args.server}", file=sys.stderr)
        return 1
    _record(args, "mcp-forget", {"server": args.server})
    print(f"forgot the pins of {args.server}; its tools are pinned afresh on next sight")
    return 0


def _record(args: argparse.Namespace, kind: str, fields: dict[str, Any]) -> None:
    from blastdoor.ledger.ledger import Ledger

    with Ledger.open(settings(args)) as ledger:
        ledger.record(person_entry(kind, **fields))
