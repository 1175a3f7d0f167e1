"""Reading SQLite history: row images back into values, ``data history``, and rebuilding a
table that was dropped (SQLite cannot refuse the DROP, but its history still holds every row).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from blastdoor.data.errors import DataError
from blastdoor.data.history import SAMPLES, History, sample, tally
from blastdoor.data.selection import Selection
from blastdoor.data.sqlite import install, schema
from blastdoor.data.sqlite.schema import PREFIX, quote
from blastdoor.data.target import Target


def decode(value: Any) -> Any:
    """A value from a row image as SQLite held it: tagged reals and blobs back to float and bytes."""
    if isinstance(value, dict) and len(value) == 1:
        if isinstance(value.get("$blob"), str):
            return bytes.fromhex(value["$blob"])
        if isinstance(value.get("$real"), str):
            return float(value["$real"])
    return value


_IMAGES = json.JSONDecoder(object_hook=decode)


def row(text: str | None) -> dict[str, Any] | None:
    """A stored image (JSON text) as a dict of column -> value, or None for no row."""
    return None if text is None else _IMAGES.decode(text)


def key_of(image: dict[str, Any], keys: Sequence[str]) -> tuple[Any, ...]:
    """The key columns' values of ``image``: what tells its row apart."""
    return (image.get(keys[0]),) if len(keys) == 1 else tuple(map(image.get, keys))


def history(target: Target, selection: Selection) -> History:
    where, params = selection.where("c", sqlite=True)
    db = install.connect(target)
    try:
        install.require(db, target)
        tables = tally((name, op, count, json.loads(runs), first, last) for name, op, count, runs, first, last in db.execute(
            f"SELECT c.table_name, c.op, count(*), json_group_array(DISTINCT c.run_id), min(c.at), max(c.at) "
            f"FROM {PREFIX}changes c WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2", params))  # fmt: skip
        for name, entry in tables.items():
            found = db.execute(f"SELECT c.id, c.op, c.txid, c.run_id, c.old_row, c.new_row FROM {PREFIX}changes c "
                               f"WHERE {where} AND c.table_name = ? ORDER BY c.id LIMIT ?", [*params, name, SAMPLES])  # fmt: skip
            entry.samples = [sample(r[0], r[1], r[2], r[3], _shown(r[4]), _shown(r[5])) for r in found]
    except sqlite3.Error as error:
        raise DataError(f"could not read history on {target.label}: {error}", hint="check the file and its permissions") from None
    finally:
        db.close()
    return History(selection, list(tables.values()))


def _shown(text: str | None) -> dict[str, Any] | None:
    image = row(text)
    return None if image is None else schema.printable(image)


def replay(db: sqlite3.Connection, table: str, keys: Sequence[str], *,
           through: int | None = None) -> Iterator[tuple[int, tuple[Any, ...], str | None, str | None]]:  # fmt: skip
    """The history of ``table`` as ``(change id, key, old image, new image)`` in order: first its
    baseline rows (id 0, no old image), then every change up to ``through``. Keys are read in SQL
    (``json_extract``), so a caller parses only the images it keeps; tagged key values (a real that
    needs 17 digits, a blob) stay in their JSON form."""
    paths = [schema.json_path(key) for key in keys]

    def key_sql(column: str) -> str:
        return ", ".join(f"json_extract({column}, {path})" for path in paths)

    for image, *key in db.execute(f"SELECT row_image, {key_sql('row_image')} FROM {PREFIX}baseline "
                                  "WHERE table_name = ? ORDER BY id", (table,)):  # fmt: skip
        yield 0, tuple(key), None, image
    bound = 2**62 if through is None else through
    for change, old, new, *key in db.execute(f"SELECT id, old_row, new_row, {key_sql('coalesce(old_row, new_row)')} "
                                             f"FROM {PREFIX}changes WHERE table_name = ? AND id <= ? ORDER BY id",
                                             (table, bound)):  # fmt: skip
        yield change, tuple(key), old, new


def latest(db: sqlite3.Connection, table: str, keys: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of ``table`` as history last saw them: its baseline with every change since replayed."""
    rows: dict[tuple[Any, ...], str] = {}
    for _change, key, old, new in replay(db, table, keys):
        if old is not None:
            rows.pop(key, None)
        if new is not None:
            rows[key] = new
    return [image for text in rows.values() if (image := row(text)) is not None]


def restore(target: Target, table: str) -> int:
    """Create the dropped tracked ``table`` again, with the rows history last saw, and record it
    again; the number of rows put back."""
    with install.transaction(target, f"restore {table}", hint="nothing was changed") as db:
        install.require(db, target)
        tracked = db.execute(f"SELECT key_columns, create_sql FROM {PREFIX}tracked WHERE table_name = ?", (table,)).fetchone()
        if tracked is None:
            raise DataError(f"{table} is not under row history here", hint="see blastdoor data history --since 30d for the tables it knows")
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
            raise DataError(f"{table} exists; restore rebuilds a table that was dropped",
                            hint="to put rows back, use blastdoor data undo --run RUN (or --since TIME)")  # fmt: skip
        rows = latest(db, table, json.loads(tracked[0]))
        db.execute(tracked[1])
        now = install.describe(db, table)
        insert_rows(db, table, now.writable, rows)
        install.track_again(db, now)
    return len(rows)


def insert_rows(db: sqlite3.Connection, table: str, columns: Sequence[str], images: Iterable[dict[str, Any]]) -> None:
    """Insert the rows; a column an image does not hold (added after it was recorded) gets its default."""
    groups: dict[tuple[str, ...], list[list[Any]]] = {}
    for image in images:
        present = tuple(c for c in columns if c in image)
        groups.setdefault(present, []).append([image[c] for c in present])
    for present, rows in groups.items():
        names = ", ".join(quote(c) for c in present)
        marks = ", ".join("?" for _ in present)
        db.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)
