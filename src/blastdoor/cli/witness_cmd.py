"""``blastdoor witness serve``: keep copies of other ledgers' checkpoints, out of their agents' reach."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from blastdoor.errors import InputError


def register(commands: Any) -> None:
    witness = commands.add_parser("witness", help="an HTTP witness for ledgers on other machines")
    actions = witness.add_subparsers(dest="witness_action", metavar="ACTION", required=True)
    serve = actions.add_parser("serve", help="serve checkpoints, refusing any that rewrite history",
                               description="Keep the newest signed checkpoint of each ledger whose key is given, "
                               "accepting a new one only when its consistency proof shows it extends the one held. "
                               "Point a ledger at it with witnesses = [\"http://HOST:PORT/ORIGIN\"]; the URLs are "
                               "printed on start.")  # fmt: skip
    serve.add_argument("--key", action="append", required=True, metavar="PUB",
                       help="a ledger's public key (its keys/install.ed25519.pub; repeatable)")  # fmt: skip
    serve.add_argument("--dir", required=True, help="where the checkpoints are kept (append-only files)")
    serve.add_argument("--listen", default="127.0.0.1:8470", metavar="HOST:PORT",
                       help="address to listen on (default 127.0.0.1:8470)")  # fmt: skip
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from blastdoor.ledger.checkpoint import PublicKey
    from blastdoor.ledger.witness_server import Witness, serve

    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InputError(f"--listen {args.listen!r} is not HOST:PORT", hint="e.g. --listen 0.0.0.0:8470")
    keys = [PublicKey.load(Path(path)) for path in args.key]
    witness = Witness(Path(args.dir).expanduser(), keys)
    try:
        server = serve(witness, host.strip("[]"), int(port))
    except OSError as error:
        raise InputError(f"cannot listen on {args.listen}: {error.strerror or error}",
                         hint="pick a free port, or an address this machine has") from None  # fmt: skip
    bound = f"http://{args.listen.rpartition(':')[0]}:{server.server_address[1]}"
    for path in witness.paths():
        print(f"witness for {path.strip('/').replace('_', '/', 1)}: {bound}{path}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("witness stopped", file=sys.stderr)
    return 0
