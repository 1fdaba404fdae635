"""Every SQL statement the assets issue, recorded from a DuckDB run, so tests (and the BigQuery dry run) can compile
exactly what runs: the SQL files *and* the inline statements, with the parameters they were given."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import datetime as dt
import os
import tempfile
import time
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

# Every layer of both chains on the tiny worlds, down to the champions (``bench/spark_chain.py``): Real Graph's model
# days D(36), D(37) (7 labeled days each, their holdouts D(37), D(38) labeled from D(39)); Recap's first model day
# D(70) (features over 50 days, 14 training + 7 validation days, labels of D(70) from D(71)). Unpartitioned assets
# (the champions) have no days (None).
CHAIN_RUNS = [
    ("realgraph", ["group:realgraph_sources", "interaction_days"], D(0), D(39)),
    ("realgraph", ["tweeting_follows"], D(30), D(38)),
    ("realgraph", ["candidates", "candidates_sampled"], D(30), D(38)),
    ("realgraph", ["labeled_candidates", "labeled_candidates_explicit"], D(30), D(38)),
    ("realgraph", ["train", "train_explicit"], D(36), D(37)),
    ("realgraph", ["boosted_trees", "light_ranker", "boosted_trees_explicit", "light_ranker_explicit"], D(36), D(37)),
    ("realgraph", ["champion", "champion_explicit"], None, None),
    ("recap", ["group:recap_sources"], D(0), D(71)),
    ("recap", ["impression_features"], D(50), D(70)),
    ("recap", ["impressions_labeled", "group:recap_training"], D(50), D(70)),
    ("recap", ["group:recap_models"], D(70), D(70)),
    ("recap", ["champion"], None, None),
]


def location_resources(home: Path, engine: str) -> dict[str, tuple]:
    """Each location's (definitions, resources) for a world on ``engine`` under ``home``: the tiny simulators, the
    warehouse and the model store there. (The locations are imported here: feedtrain's core does not depend on them.)"""
    from realgraph_assets.definitions import defs as realgraph_defs
    from realgraph_assets.resources import RealGraphSimulator
    from recap_assets.definitions import defs as recap_defs
    from recap_assets.resources import RecapSimulator

    from ..modelstore import ModelStore

    stores = warehouses(home, engine)
    simulators = {"realgraph": RealGraphSimulator(preset="tiny", seed=7), "recap": RecapSimulator(preset="tiny", seed=11)}
    return {schema: (defs, {**defs.resources, "warehouse": stores[schema], "simulator": simulators[schema],
                            "model_store": ModelStore(location=schema, root=str(home / "models"))})
            for schema, defs in (("realgraph", realgraph_defs), ("recap", recap_defs))}


def build_world(home, engine: str, runs=RUNS, instance=None, log=None) -> dict[str, Warehouse]:
    """Materialise ``runs`` on ``engine`` under ``home`` (FEEDTRAIN_HOME must point there), each as one run through
    the real assets; returns each location's Warehouse."""
    import dagster as dg

    from ..driver import select

    locations = location_resources(Path(home), engine)
    for schema, names, first, last in runs:
        defs, resources = locations[schema]
        started = time.perf_counter()
        if first is None:
            dg.materialize(defs.assets, selection=select(schema, names), instance=instance, resources=resources,
                           run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        else:
            materialize_days(defs, schema, names, first, last, instance=instance, resources=resources,
                             log_level="WARNING")
        if log:
            log(f"{engine}: {schema} {', '.join(names)} {first or ''}..{last or ''}: "
                f"{time.perf_counter() - started:.0f} s")
    return {schema: resources["warehouse"] for schema, (_, resources) in locations.items()}


def build_tiny_world(home, engine: str, instance=None) -> dict[str, Warehouse]:
    """Materialise ``RUNS`` (the tiny world of the engine tests) on ``engine`` under ``home``."""
    return build_world(home, engine, RUNS, instance)


# Columns holding ledger versions, or hashes of files that record them: each engine hashes rows its own way, so these
# differ between engines by design (docs/scaling_out.md) and are not compared.
PER_ENGINE_COLUMNS = {"inputs", "artifact_sha256"}
SIDE_TABLES = ("model_evaluations", "ranking_evaluations", "champion_decisions")  # keyed rows, outside the ledger
FLOAT_RTOL = 1e-9


def compare_worlds(a: dict[str, Warehouse], b: dict[str, Warehouse],
                   rtol: float = FLOAT_RTOL) -> list[tuple[str, str, int, int]]:
    """Assert that two warehouses per location hold the same tables: every table in the ledger and every side table,
    the same days with the same row counts, the same rows (sorted; floats within ``rtol``, relative; everything else
    exactly; ``PER_ENGINE_COLUMNS`` skipped). Returns (schema, table, days, rows) of each table compared."""
    import numpy as np

    compared = []
    for schema in a:
        tables = _tables(a[schema])
        other = _tables(b[schema])
        assert tables == other, f"{schema}: tables written differ: {sorted(set(tables) ^ set(other))}"
        for table in tables:
            with a[schema].connect() as conn:
                columns = [c for c, _ in conn.table_columns(table) if c not in PER_ENGINE_COLUMNS]
                by_day = "GROUP BY ds ORDER BY ds" if "ds" in columns else ""
                counts = conn.rows(f"SELECT {'ds, ' if by_day else ''}count(*) FROM {table} {by_day}")
            with b[schema].connect() as conn:
                assert conn.rows(f"SELECT {'ds, ' if by_day else ''}count(*) FROM {table} {by_day}") == counts, \
                    f"{schema}.{table}: rows per day differ"
            x_frame, y_frame = _sorted_frame(a[schema], table, columns), _sorted_frame(b[schema], table, columns)
            for column in columns:
                x, y = x_frame[column], y_frame[column]
                if x.dtype.is_float() or y.dtype.is_float():
                    equal = np.allclose(x.cast(float).to_numpy(), y.cast(float).to_numpy(), rtol=rtol, atol=0,
                                        equal_nan=True)
                    worst = (x - y.cast(x.dtype)).abs().max()
                    assert equal, f"{schema}.{table}.{column}: floats differ beyond rtol {rtol} (max |diff| {worst})"
                else:
                    assert x.cast(y.dtype).to_list() == y.to_list(), f"{schema}.{table}.{column}: values differ"
            compared.append((schema, table, len(counts), x_frame.height))
    return compared


def _tables(store: Warehouse) -> list[str]:
    with store.connect() as conn:
        written = [t for (t,) in conn.rows("SELECT DISTINCT table_name FROM feedtrain_ledger ORDER BY 1")]
        return written + [t for t in SIDE_TABLES if conn.table_columns(t) and conn.scalar(f"SELECT count(*) FROM {t}")]


def _sorted_frame(store: Warehouse, table: str, columns: list[str]):
    """The table's rows sorted by its exact columns first, then its floats (which may differ in the last bits)."""
    with store.connect() as conn:
        frame = conn.polars(f"SELECT {', '.join(columns)} FROM {table}")
    exact = [c for c in columns if not frame[c].dtype.is_nested() and not frame[c].dtype.is_float()]
    floats = [c for c in columns if frame[c].dtype.is_float()]
    return frame.sort(exact + floats, nulls_last=True) if exact + floats else frame


def tiny_world_statements() -> list[tuple[str, str, object]]:
    """(schema, sql, params) of every statement a tiny world of both locations issues, recorded on DuckDB."""
    with tempfile.TemporaryDirectory() as home:
        os.environ["FEEDTRAIN_HOME"] = home
        with record() as statements:
            build_tiny_world(Path(home), "duckdb")
    return statements
