"""Portable "insert unless the key exists" for rows that concurrent requests may both create.

A plain INSERT of a row another request is inserting at the same moment fails with a
duplicate key (a 500 if nobody expects it). MariaDB/MySQL and SQLite each have their own
spelling of "insert, or leave the existing row alone"; callers then read the row with a
locking read and decide from what is really there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def insert_if_missing(db: Session | Connection, table: Table, values: dict[str, Any]) -> None:
    """Insert `values` into `table` unless a row with the same key exists (not committed).

    On SQLite this write takes the database write lock, which serialises what follows in
    the transaction. On MariaDB it is not INSERT IGNORE, which would also swallow a
    foreign-key error; the no-op update of an existing row takes its exclusive lock at once,
    so two transactions never hold shared locks they both want to upgrade (a deadlock).
    """
    dialect = db.get_bind().dialect if isinstance(db, Session) else db.dialect
    if dialect.name == "sqlite":
        statement = sqlite_insert(table).values(values).on_conflict_do_nothing()
    else:
        first_key = next(iter(table.primary_key.columns))
        statement = mysql_insert(table).values(values).on_duplicate_key_update({first_key.name: first_key})
    db.execute(statement)
