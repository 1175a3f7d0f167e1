"""Where secrets flow: what a pipeline stage hands to the next, and when that is exfiltration.

A stage that reads a secret (``cat .env``, ``printenv``, ``gcloud auth print-access-token``,
``echo $AWS_SECRET_ACCESS_KEY``) writes it to its standard output; every later stage reads it. A
stage that sends data to another machine (``nc``, ``curl -d @-``, ``ssh host 'cat > x'``) while its
input carries a secret exfiltrates that secret, whatever the family of the program says about it.
"""

from __future__ import annotations

from collections.abc import Sequence

from blastdoor.analyze.commands.secrets import is_secret_variable
from blastdoor.analyze.invocation import Invocation, Stdin, Word, effect
from blastdoor.analyze.listing_filters import ENVIRONMENT, narrows_listing
from blastdoor.model import Effect, Scope, Target, Verb

# A credential-use effect that only prints a secret the shell already holds (``echo $TOKEN``,
# ``printenv TOKEN``): captured by ``$(...)``, it reaches the command around it, not the agent.
PRINTS_SECRET = "prints-secret"
# Programs that take what they read on standard input and print none of it back: digests and
# counts, and credential consumers (``docker login --password-stdin``, ``gh auth login
# --with-token``, ``gpg --import``, the clipboard).
_SINKS = frozenset({
    "md5sum", "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum", "shasum",
    "cksum", "sum", "wc", "chpasswd", "xclip", "xsel", "pbcopy", "wl-copy", "clip",
})  # fmt: skip
_SINK_OPTIONS = frozenset({
    "--password-stdin", "--passwd-stdin", "--with-token", "--token-stdin", "--passphrase-fd",
    "--password-from-stdin", "--secret-stdin", "--import",
})  # fmt: skip
_REMOTE_TAGS = frozenset({"remote", "http"})
_REMOTE_KINDS = frozenset({"host", "http-resource"})


def secret_label(found: Effect) -> str:
    """A phrase naming the secret a credential-use effect reads."""
    if found.target.kind == "secret-file":
        return f"the secrets in {found.target.name}"
    if found.target.kind == "environment":
        return ENVIRONMENT
    return f"the secret from {found.target.name or found.target.kind}"


def secret_words(words: Sequence[Word]) -> str:
    """A phrase naming the secret variables expanded in ``words``, or ``""``."""
    names = sorted({name for word in words for name in word.variables if is_secret_variable(name)})
    return ", ".join(f"${name}" for name in names)


def carried(
    output: Stdin, feed: Stdin, produced: Sequence[Effect], *, default: str = "", made_by: str = ""
) -> Stdin:
    """What the next stage reads after a stage that read ``feed``, wrote ``output`` and had the
    effects ``produced``: a secret read in the stage, or passed through it, stays in the stream.
    ``default`` names the stream when ``output`` has no source; ``made_by`` is the shell text that
    wrote it (the pipeline up to this stage)."""
    read = next((secret_label(e) for e in produced if e.verb is Verb.CREDENTIAL_USE), "")
    secret = read or output.secret or feed.secret
    if secret == output.secret and output.source and output.made_by == made_by:
        return output  # the same stream (frozen): no need for a copy
    return Stdin(text=output.text, source=output.source or default, secret=secret, made_by=made_by)


def _remote(found: Effect) -> bool:
    return bool(found.tags & _REMOTE_TAGS) or found.target.kind in _REMOTE_KINDS


def _where(found: Effect) -> str:
    hosts = [tag.split("=", 1)[1] for tag in found.tags if tag.startswith("host=")]
    return hosts[0] if hosts else found.target.name


def exfiltration(inv: Invocation, stdin: Stdin, produced: Sequence[Effect]) -> list[Effect]:
    """An ``exfiltrate`` effect when a program fed a secret sends data to another machine."""
    if not stdin.secret or any(e.verb is Verb.EXFILTRATE for e in produced):
        return []
    sending = next((e for e in produced if e.verb is not Verb.READ and _remote(e)), None)
    if sending is None:
        return []
    return [
        effect(
            inv,
            Verb.EXFILTRATE,
            Target("secret", stdin.secret),
            f"send {stdin.secret} (piped in) to {_where(sending)}",
            scope=Scope.LOCAL,
            tags={"secret", "remote"},
        )
    ]


def keeps_secret(inv: Invocation) -> bool:
    """Whether ``inv`` consumes what it reads on standard input without printing it back, or
    prints only harmless parts of a listing of every variable (``env | grep ^PATH=``)."""
    options = {w.text.split("=", 1)[0] for w in inv.args}
    return (
        inv.name in _SINKS
        or bool(options & _SINK_OPTIONS)
        or (inv.name in ("ssh-add", "vault") and "-" in options)
        or (inv.stdin.secret == ENVIRONMENT and narrows_listing(inv))
    )


def secret_read(inv: Invocation, secret: str) -> Effect:
    """Reading ``secret`` on standard input (``grep KEY < .env``)."""
    return effect(
        inv,
        Verb.CREDENTIAL_USE,
        Target("secret", secret),
        f"read {secret}",
        scope=Scope.LOCAL,
        tags={"secret"},
    )
