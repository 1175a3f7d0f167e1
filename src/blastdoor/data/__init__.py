"""Row history and undo: every change to a tracked production table, traced to the agent run that
made it, and any run put back in one transaction.

Data flow (PostgreSQL)::

    data enable  -> install.py   schema blastdoor_history: changes, tracked, baseline, seals, meta;
                                 per-table statement triggers (transition tables) and a DDL guard
    app writes   -> triggers     one history row per changed row, tagged with the broker's run id
    data seal    -> seal.py      finished transactions' rows hash-chained; the head anchored in the ledger
    data verify  -> seal.py      sealed rows re-hashed; the chain and the ledger anchors compared
    data history -> history.py   what a selection (run / since / txid) changed
    data undo    -> undo.py      per row, the image before the selection put back; conflicts refused

SQLite has the same commands, built from what SQLite has, in ``data/sqlite/``.

``target.py`` turns ``--dsn`` or ``--profile`` into a connection; ``selection.py`` is the one reading
of ``--run / --since / --txid``.
"""
