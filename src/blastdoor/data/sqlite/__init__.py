"""Row history on SQLite: the same commands as on PostgreSQL, built from what SQLite has.

SQLite has no schemas, roles, session settings, transaction ids or DDL triggers, so:

- history lives in the database file itself, in tables named ``_blastdoor_*``; anyone who can
  write the file can write them, which sealing (anchored in the ledger) detects but cannot stop;
- per-row ``AFTER`` triggers copy each row's old and new image as JSON (reals with all 17
  digits, blobs as hex, so undo puts back exactly what was there);
- attribution comes from the one-row table ``_blastdoor_context``, which a tagged writer fills
  inside its transaction and empties before committing (``install.tagged``); SQLite allows one
  writer at a time, so the row belongs to that transaction alone; writes without it are "unknown"
  and have no transaction id;
- a ``DROP TABLE`` cannot be refused, but baseline and history keep enough to rebuild the table
  (``restore``), and ``verify`` reports history triggers that were dropped.

Modules: ``schema.py`` (the SQL), ``install.py`` (connect, enable, disable, tagging),
``changes.py`` (reading history, row images, history and restore), ``undo.py``, ``seal.py``.
"""
