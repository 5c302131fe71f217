"""The few SQL spellings that differ between MariaDB/MySQL and SQLite, for set-based SQL text.

Shared by the batch's SQL (jobs/pipeline.py) and the SQL forms of the rules that live in
models/ (the §9 bracket price in models/money/pricing.py, the daily counts in
models/figures/daily_counts.py), so each rule is spelled once for both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement


class Dialect:
    """The few spellings that differ between MariaDB/MySQL and SQLite."""

    def __init__(self, conn: Connection) -> None:
        self.mysql = conn.dialect.name in ("mysql", "mariadb")
        # MariaDB's own spellings (SET STATEMENT …) where MySQL has none or ignores the setting.
        self.mariadb = self.mysql and bool(getattr(conn.dialect, "is_mariadb", False))

    @classmethod
    def of(cls, mysql: bool) -> Dialect:
        """The spellings of MariaDB/MySQL (True: those both understand) or SQLite (False), for
        statements built once per dialect and kept."""
        dialect = cls.__new__(cls)
        dialect.mysql = mysql
        dialect.mariadb = False
        return dialect

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.mysql else f"MAX({a}, {b})"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.mysql else f"MIN({a}, {b})"

    def idiv(self, a: str, b: str | int) -> str:
        # Both operands are non-negative integers: DIV and SQLite's integer `/` truncate exactly.
        return f"({a}) DIV {b}" if self.mysql else f"({a}) / {b}"

    def hour_start(self, instant: str) -> str:
        """SQL: the start of the (stored, UTC) hour of a timestamp column, as 'YYYY-MM-DD HH:00:00'."""
        if self.mysql:
            return f"DATE_FORMAT({instant}, '%Y-%m-%d %H:00:00')"
        return f"strftime('%Y-%m-%d %H:00:00', {instant})"

    def add_on_conflict(self, key: str, columns: tuple[str, ...], table: str) -> str:
        """Upsert tail that adds the inserted values to an existing row's."""
        if self.mysql:
            return "ON DUPLICATE KEY UPDATE " + ", ".join(f"{table}.{c} = {table}.{c} + VALUES({c})" for c in columns)
        return f"ON CONFLICT ({key}) DO UPDATE SET " + ", ".join(f"{c} = {c} + excluded.{c}" for c in columns)

    def temp_table(self, name: str, columns: str) -> str:
        if self.mysql:
            return f"CREATE TEMPORARY TABLE {name} ({columns}) ENGINE=MEMORY"
        return f"CREATE TEMP TABLE {name} ({columns})"

    def drop_temp(self, name: str) -> str:
        return f"DROP TEMPORARY TABLE IF EXISTS {name}" if self.mysql else f"DROP TABLE IF EXISTS temp.{name}"


class _PerDialectSql(ColumnElement[Any]):
    """SQL text built for the dialect it is compiled for (see `per_dialect`)."""

    inherit_cache = False

    def __init__(self, build: Callable[[Dialect], str]) -> None:
        self.build = build


@compiles(_PerDialectSql)
def _compile_mysql(element: _PerDialectSql, compiler: Any, **kw: Any) -> str:
    return element.build(Dialect.of(True))


@compiles(_PerDialectSql, "sqlite")
def _compile_sqlite(element: _PerDialectSql, compiler: Any, **kw: Any) -> str:
    return element.build(Dialect.of(False))


def per_dialect(build: Callable[[Dialect], str]) -> ColumnElement[Any]:
    """A rule's SQL form as a clause (for a model's `Computed` column): the same builder the
    batch's SQL text uses, compiled with the spellings of the database the DDL is for."""
    return _PerDialectSql(build)
