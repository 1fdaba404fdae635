"""Every SQL statement the assets issue, recorded from a DuckDB run, so tests (and the BigQuery dry run) can compile
exactly what runs: the SQL files *and* the inline statements, with the parameters they were given."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .duckdb import DuckDBEngine

# Statements the engine issues itself in DuckDB's own terms (its catalog, its hash) are not asset SQL: each other
# engine implements them natively (table_columns, content_hash, transaction).
_ENGINE_INTERNAL = ("duckdb_functions()", "duckdb_columns()", "BEGIN TRANSACTION", "COMMIT", "ROLLBACK", "sum(hash(r))")


@contextlib.contextmanager
def record() -> Iterator[list[tuple[str, str, object]]]:
    """While active, every statement given to a DuckDB engine is appended as (schema, sql, params)."""
    seen: list[tuple[str, str, object]] = []
    originals = {name: getattr(DuckDBEngine, name) for name in ("execute", "arrow", "rows", "stage")}

    def wrap(name):
        original = originals[name]

        def recorded(self, *args, **kwargs):
            text = args[1] if name == "stage" else args[0]
            params = (args[2] if len(args) > 2 else kwargs.get("params")) if name == "stage" else \
                (args[1] if len(args) > 1 else kwargs.get("params"))
            if not any(marker in text for marker in _ENGINE_INTERNAL):
                seen.append((self.schema, text, params))
            return original(self, *args, **kwargs)
        return recorded

    for name in originals:
        setattr(DuckDBEngine, name, wrap(name))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(DuckDBEngine, name, original)
