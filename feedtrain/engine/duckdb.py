"""The embedded default engine: one DuckDB file per location, the hash functions as vectorised Arrow UDFs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
from duckdb.sqltypes import BIGINT, DOUBLE, VARCHAR

from .. import hashing
from .base import Engine


def _farm_fingerprint(keys: pa.Array) -> pa.Array:
    return pa.array(hashing.fingerprint64(keys), pa.int64())


def _fingerprint_uniform(keys: pa.Array) -> pa.Array:
    return pa.array(hashing.uniform_of_fingerprints(hashing.fingerprint64(keys)), pa.float64())


def register_functions(conn: duckdb.DuckDBPyConnection) -> None:
    """``farm_fingerprint`` and ``fingerprint_uniform`` as SQL functions (NULL in, NULL out)."""
    have = {r[0] for r in conn.execute("SELECT function_name FROM duckdb_functions() WHERE function_name IN "
                                       "('farm_fingerprint', 'fingerprint_uniform')").fetchall()}
    if "farm_fingerprint" not in have:
        conn.create_function("farm_fingerprint", _farm_fingerprint, [VARCHAR], BIGINT, type="arrow",
                             side_effects=False)
    if "fingerprint_uniform" not in have:
        conn.create_function("fingerprint_uniform", _fingerprint_uniform, [VARCHAR], DOUBLE, type="arrow",
                             side_effects=False)


class DuckDBEngine(Engine):
    dialect = "duckdb"

    def __init__(self, conn: duckdb.DuckDBPyConnection, schema: str):
        self.conn, self.schema = conn, schema
        register_functions(conn)

    def execute(self, sql: str, params: dict | Sequence | None = None):
        # Returns DuckDB's result for call sites not yet moved to rows()/arrow()/scalar(); portable code ignores it.
        return self.conn.execute(sql, params or [])

    def arrow(self, sql: str, params: dict | Sequence | None = None) -> pa.Table:
        return self.conn.execute(sql, params or []).to_arrow_table()

    def rows(self, sql: str, params: dict | Sequence | None = None) -> list[tuple]:
        return self.conn.execute(sql, params or []).fetchall()

    def register(self, name: str, table: pa.Table | pl.DataFrame) -> None:
        self.conn.register(name, table.to_arrow() if isinstance(table, pl.DataFrame) else table)

    def table_columns(self, table: str) -> list[tuple[str, str]]:
        try:
            rel = self.conn.sql(f"SELECT * FROM {table} LIMIT 0")
        except duckdb.CatalogException:
            return []
        return [(name, str(t)) for name, t in zip(rel.columns, rel.types)]

    def content_hash(self, relation: str) -> str:
        n, h = self.conn.execute(f"SELECT count(*), coalesce(sum(hash(r)), 0) FROM {relation} r").fetchone()
        return f"{n}-{int(h) % 2**64:016x}"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def __getattr__(self, name):
        # Transitional: DuckDB connection methods (executemany, sql, ...) for code not yet on the portable interface.
        return getattr(self.conn, name)
