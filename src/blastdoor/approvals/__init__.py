"""Out-of-band approvals: a held action waits for signed grants from people, then runs once.

Data flow: :mod:`.request` names the exact action (its digest); :mod:`.book` keeps requests and
grants beside the ledger; :mod:`.keys` enrolls approvers and signs with keys whose passphrase only
:mod:`.terminal` may read; :mod:`.grant` builds and checks signatures; :mod:`.gate` is what an
integration calls on a ``hold``; :mod:`.notify` tells a webhook about new requests.
"""
