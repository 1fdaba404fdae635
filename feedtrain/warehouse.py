"""The warehouse resource: one database per code location, reached through an engine (``feedtrain/engine``).

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

from . import ledger
from .engine import DuckDBEngine, Engine


def home() -> Path:
    """Where the warehouse files and model artifacts live: ``$FEEDTRAIN_HOME``, by default ``./data``."""
    return Path(os.environ.get("FEEDTRAIN_HOME", "data")).resolve()


def database_path(location: str) -> str:
    return str(home() / f"{location}_warehouse.duckdb")


class Warehouse(dg.ConfigurableResource):
    """A location's DuckDB database: opens a connection (retrying while another process holds the write lock),
    creates the location's schema and tables if needed and makes that schema the default."""

    schema_name: str = Field(description="Schema holding this location's tables (and read by its IO manager).")
    ddl_path: str = Field(description="SQL file with the CREATE TABLE IF NOT EXISTS statements of the schema.")
    home: str | None = Field(None, description="FEEDTRAIN_HOME: the directory of the warehouse files "
                             "(<schema>_warehouse.duckdb).")
    database: str | None = Field(None, description="Path of the DuckDB file, if not <home>/<schema>_warehouse.duckdb.")

    @property
    def path(self) -> str:
        if self.database:
            return self.database
        return str(Path(self.home or home()).resolve() / f"{self.schema_name}_warehouse.duckdb")

    @contextlib.contextmanager
    def connect(self) -> Iterator[Engine]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with DuckDBResource(database=self.path).get_connection() as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema_name}")
            conn.execute(f"USE {self.schema_name}")
            conn.execute(ledger.DDL)
            conn.execute(Path(self.ddl_path).read_text())
            yield DuckDBEngine(conn, self.schema_name)


def io_manager(warehouse: Warehouse) -> DuckDBPolarsIOManager:
    """Loads partitioned tables as polars frames for Python steps (model training) from the same file and schema."""
    # Built with the definitions, so its path is resolved at import (FEEDTRAIN_HOME), unlike the warehouse's.
    database = warehouse.database or database_path(warehouse.schema_name)
    return DuckDBPolarsIOManager(database=database, schema=warehouse.schema_name)


def stage(conn: Engine, name: str, sql: str, params: dict | None = None) -> int:
    """Compute a query into a staging relation (nothing stored yet) and return its row count."""
    return conn.stage(name, sql, params)


@contextlib.contextmanager
def transaction(conn: Engine) -> Iterator[Engine]:
    """Everything inside commits together, or (on any exception) not at all."""
    with conn.transaction():
        yield conn


def replace_partitions(conn: Engine, day: dt.date, staged_by_table: dict[str, str],
                       inputs: dict[str, dict[dt.date, str]] | None = None) -> dict[str, str]:
    """Replace day ``day`` of several tables at once, with their ledger rows: all of them change, or none does."""
    return conn.replace_days(day, staged_by_table, inputs)


def present_days(conn: Engine, table: str, days: Sequence[dt.date]) -> set[dt.date]:
    return conn.present_days(table, days)


def preview(conn: Engine, sql: str, params: dict | None = None, limit: int = 10) -> dg.MetadataValue:
    """A few rows as a Markdown table for the UI."""
    df = conn.polars(f"SELECT * FROM ({sql}) LIMIT {limit}", params or {})
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
