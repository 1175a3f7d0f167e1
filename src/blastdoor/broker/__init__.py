"""The credential broker: production authority the agent never holds.

Data flow of one brokered call (``blastdoor exec|sql --profile NAME``)::

    profile (vault.py, encrypted) ─┐
    argv or SQL ─► judging.py: analyze → scope from the profile → policy → purpose → approvals
                                   │ allow
                                   ▼
              engines/: the database's engine (PostgreSQL, MySQL / MariaDB, SQLite) saves what
              the statement destroys (snapshot.py keeps the manifests), then runs it
              ·  exec_run.py: the program, with only its profile's secrets added
                                   │
                                   ▼
              scrub.py on everything the child prints  ·  ledger: decision, snapshot, outcome

The agent asks; the broker decides, holds the secret, and writes the record.
"""
