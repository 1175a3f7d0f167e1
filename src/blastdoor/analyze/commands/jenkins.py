"""Jenkins' command-line client: ``java -jar jenkins-cli.jar -s URL COMMAND ...``.

The client is a jar, so the program is ``java``: a ``-jar`` whose file is ``jenkins-cli*.jar`` is
read as a Jenkins command line, any other ``java`` is an ordinary program. Jenkins commands are
``verb-noun`` (``delete-job``, ``create-node``, ``get-job``) and go through the shared
:func:`~blastdoor.analyze.commands.saas.cli_effects`: ``delete-*`` deletes (irreversible),
``build``, ``create-*``, ``update-*``, restarts and ``groovy`` scripts change the controller,
``get-*``/``list-*``/``who-am-i`` read. The server (``-s URL``) is a ``url=`` hint, so its host
names the environment as for any URL.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import replace

from blastdoor.analyze.commands import CommandFamily
from blastdoor.analyze.commands.generic import ordinary_program
from blastdoor.analyze.commands.saas import Cli, analyzer
from blastdoor.analyze.commands.verbs import words
from blastdoor.analyze.invocation import Analysis, Invocation, Word
from blastdoor.model import Effect

_M, _R = "modify", "read"
_JENKINS = Cli(
    kind="jenkins",
    values=words("-s -auth -i -user -logger -bearer -jar"),
    flags=words("-http -ssh -remoting -webSocket -noCertificateCheck -noKeyAuth -strictHostKey"),
    hints={"s": "url"},
    verbs={
        "build": _M, "groovy": _M, "groovysh": _M, "safe-restart": _M, "restart": _M,
        "shutdown": _M, "safe-shutdown": _M, "quiet-down": _M, "cancel-quiet-down": _M,
        "reload-configuration": _M, "reload-job": _M, "offline-node": _M, "online-node": _M,
        "connect-node": _M, "disconnect-node": _M, "install-plugin": _M, "stop-builds": _M,
        "keep-build": _M, "set-build-description": _M, "set-build-display-name": _M,
        "console": _R, "who-am-i": _R, "version": _R, "help": _R,
    },
    depth=1,
)  # fmt: skip


_jenkins_cli = analyzer(_JENKINS)


def _java(inv: Invocation, ctx: Analysis) -> Iterator[Effect]:
    args = list(inv.args)
    for i, word in enumerate(args[:-1]):
        if word.text == "-jar":
            if posixpath.basename(args[i + 1].text).lower().startswith("jenkins-cli"):
                client = replace(inv, words=(Word("jenkins-cli"), *args[i + 2 :]))
                yield from _jenkins_cli(client, ctx)
                return
            break
    yield ordinary_program(inv)


FAMILIES = (
    CommandFamily.of(["jenkins-cli"], _jenkins_cli),
    CommandFamily.of(["java"], _java),
)
