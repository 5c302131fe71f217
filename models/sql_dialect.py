"""The few SQL spellings that differ between MariaDB/MySQL and SQLite, for set-based SQL text.

Shared by the batch's SQL (jobs/pipeline.py) and the SQL forms of the rules that live in
models/ (the §9 bracket price in models/money/pricing.py, the daily counts in
models/figures/daily_counts.py), so each rule is spelled once for both databases.
"""

from __future__ import annotations

from sqlalchemy import Connection


class Dialect:
    """The few spellings that differ between MariaDB/MySQL and SQLite."""

    def __init__(self, conn: Connection) -> None:
        self.mysql = conn.dialect.name in ("mysql", "mariadb")

    @classmethod
    def of(cls, mysql: bool) -> Dialect:
        """The spellings of MariaDB/MySQL (True) or SQLite (False), for statements built once
        per dialect and kept."""
        dialect = cls.__new__(cls)
        dialect.mysql = mysql
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
