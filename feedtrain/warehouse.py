"""The embedded warehouse: one DuckDB file per code location, atomic per-partition writes.

DuckDB allows one writing process per file and Dagster runs steps in separate processes, so each location has its own
file (``<location>_warehouse.duckdb``, never named like the schema inside it: DuckDB then fails with "Ambiguous
reference to catalog or schema") and every write of a day is one transaction: delete the day, insert it.  Re-running a
day replaces it; a failure leaves the previous version intact.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from dagster_duckdb_polars import DuckDBPolarsIOManager
from pydantic import Field


def home() -> Path:
    """Where the warehouse files and model artifacts live: ``$FEEDTRAIN_HOME``, by default ``./data``."""
    return Path(os.environ.get("FEEDTRAIN_HOME", "data")).resolve()


def database_path(location: str) -> str:
    return str(home() / f"{location}_warehouse.duckdb")


class Warehouse(dg.ConfigurableResource):
    """A location's DuckDB database: opens a connection (retrying while another process holds the write lock),
    creates the location's schema and tables if needed and makes that schema the default."""

    database: str = Field(description="Path of the DuckDB file.")
    schema_name: str = Field(description="Schema holding this location's tables (and read by its IO manager).")
    ddl_path: str = Field(description="SQL file with the CREATE TABLE IF NOT EXISTS statements of the schema.")

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with DuckDBResource(database=self.database).get_connection() as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema_name}")
            conn.execute(f"USE {self.schema_name}")
            conn.execute(Path(self.ddl_path).read_text())
            yield conn


def io_manager(warehouse: Warehouse) -> DuckDBPolarsIOManager:
    """Loads partitioned tables as polars frames for Python steps (model training) from the same file and schema."""
    return DuckDBPolarsIOManager(database=warehouse.database, schema=warehouse.schema_name)


def stage(conn: duckdb.DuckDBPyConnection, name: str, sql: str, params: dict | None = None) -> int:
    """Compute a query into a temporary table (nothing stored yet) and return its row count."""
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", params or {})
    return conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]


@contextlib.contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Everything inside commits together, or (on any exception) not at all."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def replace_partitions(conn: duckdb.DuckDBPyConnection, day: dt.date, staged_by_table: dict[str, str]) -> None:
    """Replace day ``day`` of several tables at once: all of them change, or none does."""
    with transaction(conn):
        for table, staged in staged_by_table.items():
            conn.execute(f"DELETE FROM {table} WHERE ds = ?", [day])
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {staged}")


def present_days(conn: duckdb.DuckDBPyConnection, table: str, days: Sequence[dt.date]) -> set[dt.date]:
    rows = conn.execute(f"SELECT DISTINCT ds FROM {table} WHERE ds BETWEEN ? AND ?", [min(days), max(days)]).fetchall()
    return {r[0] for r in rows}


def preview(conn: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None, limit: int = 10) -> dg.MetadataValue:
    """A few rows as a Markdown table for the UI."""
    df = conn.execute(f"SELECT * FROM ({sql}) LIMIT {limit}", params or {}).pl()
    return dg.MetadataValue.md(markdown_table(df))


def markdown_table(df) -> str:
    cols = df.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.iter_rows():
        lines.append("| " + " | ".join(_fmt(v) for v in row) + " |")
    return "\n".join(lines)


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
