"""The warehouse resource: one database per code location, reached through an engine (``feedtrain/engine``).

The engine is chosen here and nowhere else: ``engine`` in the resource config, by default ``$FEEDTRAIN_ENGINE``
(``duckdb``, the zero-setup default; ``spark``; ``bigquery``). Asset code only sees the ``Engine`` interface.

DuckDB allows one writing process per file and Dagster runs steps in separate processes, so each location has its own
file (``<location>_warehouse.duckdb``, never named like the schema inside it: DuckDB then fails with "Ambiguous
reference to catalog or schema") and every write of a day is one transaction: delete the day, insert it.  Re-running a
day replaces it; a failure leaves the previous version intact.
"""

from __future__ import annotations

import contextlib
import functools
import datetime as dt
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from . import ledger
from .engine import DuckDBEngine, Engine


def home() -> Path:
    """Where the warehouse files and model artifacts live: ``$FEEDTRAIN_HOME``, by default ``./data``."""
    return Path(os.environ.get("FEEDTRAIN_HOME", "data")).resolve()


def database_path(location: str) -> str:
    return str(home() / f"{location}_warehouse.duckdb")


ENGINES = ("duckdb", "spark", "bigquery")


def engine_settings() -> dict:
    """The engine fields of a location's Warehouse from the environment (``dg.EnvVar``, so the UI shows where each
    came from): ``FEEDTRAIN_ENGINE``, ``FEEDTRAIN_SPARK_REMOTE``, ``FEEDTRAIN_SPARK_MASTER``,
    ``FEEDTRAIN_BIGQUERY_PROJECT``, ``FEEDTRAIN_BIGQUERY_LOCATION``, ``FEEDTRAIN_DUCKDB_MEMORY_LIMIT``; unset ones keep
    the defaults."""
    names = {"engine": "FEEDTRAIN_ENGINE", "spark_remote": "FEEDTRAIN_SPARK_REMOTE",
             "spark_master": "FEEDTRAIN_SPARK_MASTER", "bigquery_project": "FEEDTRAIN_BIGQUERY_PROJECT",
             "bigquery_location": "FEEDTRAIN_BIGQUERY_LOCATION", "duckdb_memory_limit": "FEEDTRAIN_DUCKDB_MEMORY_LIMIT"}
    return {field: dg.EnvVar(var) for field, var in names.items() if os.environ.get(var)}


def engine_kind() -> str:
    """The configured engine (``$FEEDTRAIN_ENGINE``, the default of ``Warehouse.engine``; else ``duckdb``), shown as
    the warehouse assets' kind tag in the UI. Read when the definitions load (a kind is part of the definition)."""
    return os.environ.get("FEEDTRAIN_ENGINE") or "duckdb"


class Warehouse(dg.ConfigurableResource):
    """A location's warehouse: opens a connection on the configured engine, creates the location's schema and tables
    if needed and makes that schema the default. DuckDB: one file per location (retrying while another process holds
    the write lock); Spark: Parquet tables under ``<FEEDTRAIN_HOME>/spark``; BigQuery: dataset ``schema_name``."""

    schema_name: str = Field(description="Schema holding this location's tables.")
    ddl_path: str = Field(description="SQL file with the CREATE TABLE IF NOT EXISTS statements of the schema.")
    home: str | None = Field(None, description="FEEDTRAIN_HOME: the directory of the warehouse files "
                             "(<schema>_warehouse.duckdb; Spark tables in spark/).")
    database: str | None = Field(None, description="Path of the DuckDB file, if not <home>/<schema>_warehouse.duckdb.")
    engine: str = Field("duckdb", description="duckdb (default), spark or bigquery; env FEEDTRAIN_ENGINE.")
    spark_master: str = Field("local[2]", description="Spark master of a classic session (local[2], yarn, "
                              "spark://host:7077); env FEEDTRAIN_SPARK_MASTER.")
    spark_remote: str = Field("", description="Spark Connect instead: sc://host:15002, or local[2] for a local Connect "
                              "server; env FEEDTRAIN_SPARK_REMOTE.")
    bigquery_project: str = Field("", description="GCP project of the BigQuery engine; env FEEDTRAIN_BIGQUERY_PROJECT.")
    bigquery_location: str = Field("", description="BigQuery location (US, EU, ...); env FEEDTRAIN_BIGQUERY_LOCATION.")
    duckdb_memory_limit: str = Field(
        "", description="DuckDB's memory_limit (e.g. 3GB): queries spill to <file>.tmp beyond it instead of growing. "
        "Empty keeps DuckDB's default, 80 % of RAM. A bench-size Recap day peaks at 5.4 GiB without a limit and at "
        "3.2 GiB with 3GB, ~1.35x slower (bench/RESULTS.md); env FEEDTRAIN_DUCKDB_MEMORY_LIMIT.")

    @property
    def path(self) -> str:
        if self.database:
            return self.database
        return str(Path(self.home or home()).resolve() / f"{self.schema_name}_warehouse.duckdb")

    @contextlib.contextmanager
    def connect(self) -> Iterator[Engine]:
        if self.engine not in ENGINES:
            raise ValueError(f"warehouse engine {self.engine!r} is not one of {ENGINES} (FEEDTRAIN_ENGINE)")
        ddl = Path(self.ddl_path).read_text()
        if self.engine == "spark":
            from .engine import spark

            yield spark.SparkEngine(spark.session(self.spark_master, self.spark_remote), self.schema_name,
                                    Path(self.path).parent / "spark", ddl)
            return
        if self.engine == "bigquery":
            from .engine import bigquery

            with bigquery.connect(self.bigquery_project, self.bigquery_location, self.schema_name, ddl) as engine:
                yield engine
            return
        memory_limit = self.duckdb_memory_limit.strip()
        if memory_limit and not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", memory_limit):  # before any file is made
            raise ValueError(f"Warehouse.duckdb_memory_limit (FEEDTRAIN_DUCKDB_MEMORY_LIMIT) "
                             f"{self.duckdb_memory_limit!r} is not a size such as 512MB, 3GB or 4GiB")
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with DuckDBResource(database=self.path).get_connection() as conn:
            if memory_limit:
                conn.execute(f"SET memory_limit = '{memory_limit}'")
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema_name}")
            conn.execute(f"USE {self.schema_name}")
            conn.execute(ledger.DDL)
            conn.execute(ddl)
            engine = DuckDBEngine(conn, self.schema_name)
            add_new_columns(engine, ddl)
            yield engine


@functools.lru_cache(maxsize=8)
def _ddl_columns(ddl: str) -> dict[str, list[tuple[str, str]]]:
    """{table: [(column, type)]} the DDL creates, read from a scratch in-memory DuckDB (milliseconds, exact types)."""
    import duckdb

    with duckdb.connect() as scratch:
        scratch.execute(ddl)
        tables: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in scratch.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() "
                                                   "WHERE NOT internal ORDER BY table_name, column_index").fetchall():
            tables.setdefault(table, []).append((column, kind))
    return tables


def add_new_columns(conn: Engine, ddl: str) -> None:
    """A warehouse made by an older feedtrain gains the columns the DDL has since added (a new feature, say): the
    days stored before hold NULL in them, show as stale by code version in the UI, and the null_rates check of an
    asset that reads them warns until they are rebuilt. A column the DDL no longer has stays, unused."""
    for table, columns in _ddl_columns(ddl).items():
        conn.add_columns(table, columns)


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
