"""The engine interface: the only way asset code talks to a warehouse.

Asset code stages queries, reads scalars/rows/Arrow tables, registers frames and replaces whole days; it never sees
``duckdb`` or ``pyspark``. Each implementation (DuckDB today: ``duckdb.py``) maps these calls onto its warehouse:

- ``stage(name, sql)`` computes a query into a staging relation (nothing stored yet) and returns its row count;
- ``replace_days(day, {table: staged}, inputs)`` is the one write path for daily tables: after the gate passes,
  every listed table's day is replaced *and* its ledger row written (``feedtrain/ledger.py``) as one unit, so a day
  is either committed whole or not at all;
- ``replace_rows(table, staged, keys)`` is the write path for keyed side tables (evaluations, champion decisions):
  rows of ``table`` whose key matches a staged row are replaced, in one unit;
- ``farm_fingerprint(VARCHAR) -> BIGINT`` (BigQuery's FARM_FINGERPRINT) and ``fingerprint_uniform(VARCHAR) -> DOUBLE``
  (a deterministic U[0, 1) from the same hash) are SQL functions on every engine.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence

import polars as pl
import pyarrow as pa

from .. import ledger


class Engine(abc.ABC):
    """A connection to one location's warehouse (one schema)."""

    dialect: str = ""
    schema: str = ""

    # -- reading -----------------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def execute(self, sql: str, params: dict | Sequence | None = None) -> None:
        """Run a statement whose result is not needed (DDL, a staged helper table)."""

    @abc.abstractmethod
    def arrow(self, sql: str, params: dict | Sequence | None = None) -> pa.Table:
        """The result of a query as an Arrow table."""

    def rows(self, sql: str, params: dict | Sequence | None = None) -> list[tuple]:
        table = self.arrow(sql, params)
        return list(zip(*(c.to_pylist() for c in table.columns))) if table.num_columns else []

    def scalar(self, sql: str, params: dict | Sequence | None = None):
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def polars(self, sql: str, params: dict | Sequence | None = None) -> pl.DataFrame:
        return pl.from_arrow(self.arrow(sql, params))

    @abc.abstractmethod
    def register(self, name: str, table: pa.Table | pl.DataFrame) -> None:
        """Make an in-memory table queryable by ``name`` for this connection."""

    @abc.abstractmethod
    def table_columns(self, table: str) -> list[tuple[str, str]]:
        """(name, type) of a stored or staged table's columns, in order; [] if there is no such table."""

    def column_comments(self, table: str) -> dict[str, str]:
        """Column comments of a stored table where the engine keeps them (DuckDB: from the DDL)."""
        return {}

    def stage(self, name: str, sql: str, params: dict | Sequence | None = None) -> int:
        """Compute a query into the staging relation ``name`` (nothing stored yet) and return its row count."""
        self.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", params)
        return self.scalar(f"SELECT count(*) FROM {name}")

    # -- writing -----------------------------------------------------------------------------------------------------
    @abc.abstractmethod
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together, or (on any exception) not at all."""

    def replace_days(self, day: dt.date, staged_by_table: dict[str, str],
                     inputs: dict[str, dict[dt.date, str]] | None = None) -> dict[str, str]:
        """Replace day ``day`` of several tables with their staged rows, and record each in the ledger with the
        versions of the upstream days it was built from, all in one transaction. Returns each table's new version."""
        versions = {t: ledger.content_version(self, staged) for t, staged in staged_by_table.items()}
        rows = {t: self.scalar(f"SELECT count(*) FROM {staged}") for t, staged in staged_by_table.items()}
        with self.transaction():
            for table, staged in staged_by_table.items():
                self.execute(f"DELETE FROM {table} WHERE ds = ?", [day])
                self.execute(f"INSERT INTO {table} ({self._column_list(table, staged)}) "
                             f"SELECT {self._column_list(table, staged)} FROM {staged}")
                ledger.record(self, table, day, rows[table], versions[table], inputs or {})
        return versions

    def replace_rows(self, table: str, staged: str, keys: Sequence[str]) -> None:
        """Replace the rows of ``table`` whose ``keys`` match a row of ``staged`` with the staged rows, in one unit."""
        match = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        with self.transaction():
            self.execute(f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM {staged} s WHERE {match})")
            self.execute(f"INSERT INTO {table} ({self._column_list(table, staged)}) "
                         f"SELECT {self._column_list(table, staged)} FROM {staged}")

    def load_days(self, table: str, frame: pa.Table | pl.DataFrame, days: Sequence[dt.date] | None = None) -> list[dt.date]:
        """Commit each of ``days`` (default: the days ``frame`` has rows for) of ``table`` with ``frame``'s rows of
        that day, as if it had been built here: its rows written and its ledger row recorded (a day without rows is
        present and empty), with no upstream inputs (the days are taken as given: rows of another warehouse, e.g. a
        DuckDB world moved to Spark). Only days this warehouse does not record: a day in its ledger is refused, so
        nothing built here is overwritten. Creates ``table`` in the frame's shape if it does not exist. Returns the
        days loaded."""
        self.register("load_days_rows", frame)
        if days is None:
            days = [d for (d,) in self.rows("SELECT DISTINCT ds FROM load_days_rows")]
        days = sorted(set(days))
        self.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM load_days_rows LIMIT 0")
        held = self._held(table, days)
        if held:
            raise ValueError(f"{self.schema}.{table}: load_days refuses days it already holds: {held[:5]}")
        for day in days:  # the portable path; engines with a per-statement cost write all days at once
            self.stage("load_day", "SELECT * FROM load_days_rows WHERE ds = ?", [day])
            self.replace_days(day, {table: "load_day"})
        return days

    def _held(self, table: str, days: Sequence[dt.date]) -> list[dt.date]:
        """Those of ``days`` the ledger records for ``table`` (present or not)."""
        if not days:
            return []
        return sorted(d for (d,) in self.rows("SELECT ds FROM feedtrain_ledger WHERE table_name = ? AND ds BETWEEN ? "
                                              "AND ?", [table, min(days), max(days)]) if d in set(days))

    def add_columns(self, table: str, columns: Sequence[tuple[str, str]]) -> None:
        """Add to the stored ``table`` each (name, type) of ``columns`` it lacks: the rows stored before hold NULL in
        them. The one way a table's shape grows (a new feature, head, variant or registry column); nothing is ever
        dropped or retyped, so no stored day is lost."""
        have = {c for c, _ in self.table_columns(table)}
        for name, kind in columns:
            if name not in have:
                self.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def _column_list(self, table: str, staged: str) -> str:
        """The stored table's columns, matched by name (portable spelling of DuckDB's ``INSERT ... BY NAME``)."""
        have = [c for c, _ in self.table_columns(staged)]
        want = [c for c, _ in self.table_columns(table)]
        missing = [c for c in want if c not in have]
        if missing:
            raise ValueError(f"{self.schema}.{table}: the rows to write lack column(s) {missing} (they have {have})")
        return ", ".join(want)

    # -- the ledger --------------------------------------------------------------------------------------------------
    def present_days(self, table: str, days: Sequence[dt.date]) -> set[dt.date]:
        """Days of ``table`` committed whole (ledger row and matching row count)."""
        return ledger.present_days(self, table, days)
