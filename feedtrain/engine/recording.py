"""Every SQL statement the assets issue, recorded from a DuckDB run, so tests (and the BigQuery dry run) can compile
exactly what runs: the SQL files *and* the inline statements, with the parameters they were given."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import datetime as dt
import os
import tempfile
from pathlib import Path

from ..driver import materialize_days
from ..ingest import DOOR
from ..partitions import EVENTS_START
from ..warehouse import Warehouse
from .duckdb import DuckDBEngine

D = lambda offset: EVENTS_START + dt.timedelta(days=offset)  # noqa: E731  day `offset` of the simulated history

# Statements the engine issues itself in DuckDB's own terms (its catalog, its hash) are not asset SQL: each other
# engine implements them natively (table_columns, content_hash, transaction). Nor are the door's (``feedtrain/ingest.py``):
# it checks a delivered day in an in-memory DuckDB of its own on every engine.
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
            if self.schema != DOOR and not any(marker in text for marker in _ENGINE_INTERNAL):
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


def warehouses(home: Path, engine: str) -> dict[str, Warehouse]:
    from realgraph_assets.resources import SQL_DIR as RG_SQL
    from recap_assets.resources import SQL_DIR as RECAP_SQL

    return {schema: Warehouse(database=str(home / f"{schema}_warehouse.duckdb"), schema_name=schema,
                              ddl_path=str(sql_dir / "schema.sql"), engine=engine)
            for schema, sql_dir in (("realgraph", RG_SQL), ("recap", RECAP_SQL))}


# The tiny world of the engine tests and the BigQuery dry run: (location, tables or groups, first day, last day), in
# order. Both locations' raw logs, Real Graph's daily aggregates and Recap's labels: the layers whose upstream windows
# fit in a few days (candidates need 31 event days, Recap's features 50).
RUNS = [
    ("realgraph", ["group:realgraph_sources"], D(0), D(3)),
    ("realgraph", ["interaction_days"], D(0), D(3)),
    ("realgraph", ["tweeting_follows"], D(3), D(3)),
    ("recap", ["group:recap_sources"], D(48), D(51)),
    ("recap", ["impressions_labeled"], D(50), D(50)),
]


def build_tiny_world(home, engine: str, instance=None) -> dict[str, Warehouse]:
    """Materialise RUNS on ``engine`` under ``home`` (FEEDTRAIN_HOME must point there); returns each location's
    Warehouse. (The locations are imported here: feedtrain's core does not depend on them.)"""
    from realgraph_assets.definitions import defs as realgraph_defs
    from realgraph_assets.resources import RealGraphSimulator
    from recap_assets.definitions import defs as recap_defs
    from recap_assets.resources import RecapSimulator

    stores = warehouses(home, engine)
    locations = {"realgraph": (realgraph_defs, RealGraphSimulator(preset="tiny", seed=7)),
                 "recap": (recap_defs, RecapSimulator(preset="tiny", seed=11))}
    for schema, names, first, last in RUNS:
        defs, simulator = locations[schema]
        resources = {**defs.resources, "warehouse": stores[schema], "simulator": simulator}
        materialize_days(defs, schema, names, first, last, instance=instance, resources=resources)
    return stores


def tiny_world_statements() -> list[tuple[str, str, object]]:
    """(schema, sql, params) of every statement a tiny world of both locations issues, recorded on DuckDB."""
    with tempfile.TemporaryDirectory() as home:
        os.environ["FEEDTRAIN_HOME"] = home
        with record() as statements:
            build_tiny_world(Path(home), "duckdb")
    return statements
