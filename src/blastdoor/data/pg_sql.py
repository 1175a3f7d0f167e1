"""The SQL that ``blastdoor data enable`` installs on PostgreSQL, in one place.

Everything lives in the schema ``blastdoor_history``, owned by the role that enables it (a
superuser: event triggers need one); ``PUBLIC`` gets nothing, so an application role can neither
read nor rewrite history. Functions that write it are ``SECURITY DEFINER`` with a fixed
``search_path``, so a caller cannot slip its own ``to_jsonb`` in front of the catalog's.

Capture is per statement, through transition tables: one ``INSERT ... SELECT`` per statement,
whatever its row count, so a million-row ``DELETE`` costs one set-based copy, not a million
function calls. An ``UPDATE`` pairs old and new rows by primary key; a row whose key changed is
recorded as a delete and an insert, which undo handles like any other pair.
"""

from __future__ import annotations

SCHEMA = "blastdoor_history"
VERSION = 1
TRIGGER_PREFIX = "blastdoor_history_"
TRIGGERS = ("i", "u", "d", "t")  # insert, update, delete (after, per statement), truncate (before)

_FIXED = "SECURITY DEFINER SET search_path = pg_catalog, pg_temp"

# the run, session, approval request, ledger entry and snapshot the broker set for this transaction
TAGS = """
    run text := coalesce(nullif(current_setting('blastdoor.run_id', true), ''), 'unknown');
    ses text := coalesce(current_setting('blastdoor.session_id', true), '');
    req text := coalesce(current_setting('blastdoor.request', true), '');
    ent text := coalesce(current_setting('blastdoor.entry', true), '');
    snap text := coalesce(current_setting('blastdoor.snapshot_id', true), '');
    xid bigint := pg_current_xact_id()::text::bigint;
    ts timestamptz := clock_timestamp();"""

COLUMNS = ("txid, at, role, relid, table_schema, table_name, op, old_row, new_row, "
           "run_id, session_id, request, entry, snapshot_id")  # fmt: skip
PREFIX = "xid, ts, session_user, TG_RELID, TG_TABLE_SCHEMA, TG_TABLE_NAME"
SUFFIX = "run, ses, req, ent, snap"

INSTALL = f"""
CREATE SCHEMA {SCHEMA};
REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC;

CREATE TABLE {SCHEMA}.meta (
    database_id text PRIMARY KEY,
    guard_key text NOT NULL,
    version integer NOT NULL,
    enabled_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    sealed_below bigint NOT NULL DEFAULT 0
);
CREATE TABLE {SCHEMA}.tracked (
    relid oid PRIMARY KEY,
    table_schema text NOT NULL,
    table_name text NOT NULL,
    key_columns text[] NOT NULL,
    enabled_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE {SCHEMA}.changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid bigint NOT NULL,
    at timestamptz NOT NULL,
    role text NOT NULL,
    relid oid NOT NULL,
    table_schema text NOT NULL,
    table_name text NOT NULL,
    op text NOT NULL,
    old_row jsonb,
    new_row jsonb,
    run_id text NOT NULL,
    session_id text NOT NULL,
    request text NOT NULL,
    entry text NOT NULL,
    snapshot_id text NOT NULL
);
CREATE INDEX changes_run ON {SCHEMA}.changes (run_id);
CREATE INDEX changes_txid ON {SCHEMA}.changes (txid);
CREATE INDEX changes_at ON {SCHEMA}.changes USING brin (at);
CREATE TABLE {SCHEMA}.baseline (
    relid oid NOT NULL,
    table_schema text NOT NULL,
    table_name text NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    row_image jsonb NOT NULL
);
CREATE TABLE {SCHEMA}.undone (
    change_id bigint PRIMARY KEY,
    undo_id text NOT NULL
);
CREATE TABLE {SCHEMA}.seals (
    seq bigint PRIMARY KEY,
    change_id bigint NOT NULL UNIQUE,
    row_sha256 bytea NOT NULL,
    chain bytea NOT NULL
);

CREATE FUNCTION {SCHEMA}.database_id() RETURNS text LANGUAGE sql STABLE {_FIXED}
AS $$ SELECT database_id FROM {SCHEMA}.meta LIMIT 1 $$;
GRANT USAGE ON SCHEMA {SCHEMA} TO PUBLIC;
GRANT EXECUTE ON FUNCTION {SCHEMA}.database_id() TO PUBLIC;

CREATE FUNCTION {SCHEMA}.capture_truncate() RETURNS trigger LANGUAGE plpgsql {_FIXED} AS $fn$
DECLARE{TAGS}
BEGIN
    EXECUTE format('INSERT INTO {SCHEMA}.changes ({COLUMNS}) '
                   'SELECT $1, $2, session_user, $3, $4, $5, ''T'', to_jsonb(r), NULL, $6, $7, $8, $9, $10 '
                   'FROM %I.%I r', TG_TABLE_SCHEMA, TG_TABLE_NAME)
    USING xid, ts, TG_RELID, TG_TABLE_SCHEMA, TG_TABLE_NAME, run, ses, req, ent, snap;
    RETURN NULL;
END $fn$;

-- a DROP of a tracked table (or of one of its columns) is refused unless the broker saved it first
-- and proved so with a token only it and this schema can compute
CREATE FUNCTION {SCHEMA}.authorized() RETURNS boolean LANGUAGE plpgsql {_FIXED} AS $fn$
DECLARE
    snap text := coalesce(current_setting('blastdoor.snapshot_id', true), '');
    token text := coalesce(current_setting('blastdoor.snapshot_token', true), '');
    secret text;
BEGIN
    IF snap !~ '^s-[0-9a-f]{{12}}$' OR token = '' THEN
        RETURN false;
    END IF;
    SELECT guard_key INTO secret FROM {SCHEMA}.meta LIMIT 1;
    RETURN token = encode(sha256(convert_to(secret || ':' || pg_current_xact_id()::text || ':' || snap, 'UTF8')), 'hex');
END $fn$;

CREATE FUNCTION {SCHEMA}.guard_drop() RETURNS event_trigger LANGUAGE plpgsql {_FIXED} AS $fn$
DECLARE
    hit text;
BEGIN
    SELECT string_agg(DISTINCT d.object_identity, ', ') INTO hit
    FROM pg_event_trigger_dropped_objects() d JOIN {SCHEMA}.tracked t ON t.relid = d.objid
    WHERE d.object_type IN ('table', 'table column');
    IF hit IS NULL THEN
        RETURN;
    END IF;
    IF NOT {SCHEMA}.authorized() THEN
        RAISE EXCEPTION 'blastdoor: % is under row history; dropping it needs the broker, which saves it first (blastdoor sql --profile NAME)', hit
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM {SCHEMA}.tracked t USING pg_event_trigger_dropped_objects() d
    WHERE d.object_type = 'table' AND t.relid = d.objid;
END $fn$;

-- after any DDL: the capture triggers of every tracked table are still there and always enabled
-- (ENABLE ALWAYS also fires under session_replication_role = replica); renames are followed
CREATE FUNCTION {SCHEMA}.guard_triggers() RETURNS event_trigger LANGUAGE plpgsql {_FIXED} AS $fn$
DECLARE
    hit text;
BEGIN
    SELECT string_agg(format('%I.%I', t.table_schema, t.table_name), ', ') INTO hit
    FROM {SCHEMA}.tracked t
    WHERE (SELECT count(*) FROM pg_trigger g
           WHERE g.tgrelid = t.relid AND g.tgname LIKE '{TRIGGER_PREFIX}%' AND g.tgenabled = 'A') < {len(TRIGGERS)};
    IF hit IS NOT NULL THEN
        RAISE EXCEPTION 'blastdoor: the row history triggers on % would be dropped or disabled; only blastdoor data disable removes them', hit
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE {SCHEMA}.tracked t SET table_schema = n.nspname, table_name = c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = t.relid AND (t.table_schema, t.table_name) IS DISTINCT FROM (n.nspname::text, c.relname::text);
END $fn$;
"""

GUARD = f"""
CREATE EVENT TRIGGER {TRIGGER_PREFIX}drop ON sql_drop EXECUTE FUNCTION {SCHEMA}.guard_drop();
CREATE EVENT TRIGGER {TRIGGER_PREFIX}ddl ON ddl_command_end EXECUTE FUNCTION {SCHEMA}.guard_triggers();
ALTER EVENT TRIGGER {TRIGGER_PREFIX}drop ENABLE ALWAYS;
ALTER EVENT TRIGGER {TRIGGER_PREFIX}ddl ENABLE ALWAYS;
"""

UNGUARD = f"""
DROP EVENT TRIGGER IF EXISTS {TRIGGER_PREFIX}drop;
DROP EVENT TRIGGER IF EXISTS {TRIGGER_PREFIX}ddl;
"""


def capture_function(name: str, keys: list[str]) -> str:
    """The body of one table's capture function; ``keys`` are its quoted primary key columns."""
    insert = f"INSERT INTO {SCHEMA}.changes ({COLUMNS})"
    if keys:
        first = keys[0]
        joined = " AND ".join(f"o.{key} = n.{key}" for key in keys)
        update = (f"{insert} SELECT {PREFIX}, "
                  f"CASE WHEN o.{first} IS NULL THEN 'I' WHEN n.{first} IS NULL THEN 'D' ELSE 'U' END, "
                  f"CASE WHEN o.{first} IS NULL THEN NULL ELSE to_jsonb(o) END, "
                  f"CASE WHEN n.{first} IS NULL THEN NULL ELSE to_jsonb(n) END, {SUFFIX} "
                  f"FROM blastdoor_old o FULL JOIN blastdoor_new n ON {joined};")  # fmt: skip
    else:  # nothing pairs the rows: the old images as deletes, the new as inserts
        update = (f"{insert} SELECT {PREFIX}, 'D', to_jsonb(o), NULL, {SUFFIX} FROM blastdoor_old o; "
                  f"{insert} SELECT {PREFIX}, 'I', NULL, to_jsonb(n), {SUFFIX} FROM blastdoor_new n;")  # fmt: skip
    return f"""
CREATE OR REPLACE FUNCTION {SCHEMA}.{name}() RETURNS trigger LANGUAGE plpgsql {_FIXED} AS $fn$
DECLARE{TAGS}
BEGIN
    IF TG_OP = 'INSERT' THEN
        {insert} SELECT {PREFIX}, 'I', NULL, to_jsonb(n), {SUFFIX} FROM blastdoor_new n;
    ELSIF TG_OP = 'DELETE' THEN
        {insert} SELECT {PREFIX}, 'D', to_jsonb(o), NULL, {SUFFIX} FROM blastdoor_old o;
    ELSE
        {update}
    END IF;
    RETURN NULL;
END $fn$;
"""


def table_triggers(table: str, function: str) -> str:
    """The four triggers on ``table`` (already quoted), each enabled ALWAYS."""
    p = TRIGGER_PREFIX
    run = f"FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.{function}()"
    return f"""
CREATE TRIGGER {p}i AFTER INSERT ON {table} REFERENCING NEW TABLE AS blastdoor_new {run};
CREATE TRIGGER {p}u AFTER UPDATE ON {table} REFERENCING OLD TABLE AS blastdoor_old NEW TABLE AS blastdoor_new {run};
CREATE TRIGGER {p}d AFTER DELETE ON {table} REFERENCING OLD TABLE AS blastdoor_old {run};
CREATE TRIGGER {p}t BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.capture_truncate();
ALTER TABLE {table} ENABLE ALWAYS TRIGGER {p}i, ENABLE ALWAYS TRIGGER {p}u,
    ENABLE ALWAYS TRIGGER {p}d, ENABLE ALWAYS TRIGGER {p}t;
"""
