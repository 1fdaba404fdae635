"""Every SQL statement the assets issue, recorded from a DuckDB run, so tests (and the BigQuery dry run) can compile
exactly what runs: the SQL files *and* the inline statements, with the parameters they were given."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import datetime as dt
import itertools
import os
import tempfile
import time
from pathlib import Path

import pyarrow as pa

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


# Model settings of the equivalence world: the same models with fewer boosting rounds (the default 300-500 rounds are
# what a real day needs, not what proves two engines feed LightGBM the same rows). Keyed by table (asset) name.
_FEW_ROUNDS = {"boosted_trees": {"n_estimators": 20}}
MODEL_CONFIG = {
    "realgraph": {m: _FEW_ROUNDS for m in ("boosted_trees", "boosted_trees_explicit")},
    "recap": {"model_evaluations": _FEW_ROUNDS},  # any table of Recap's ranker_models multi-asset configures its op
}

# The layers of each location, in dependency order; the run lists below give each layer its days.
LAYERS = {
    "realgraph": [["group:realgraph_sources", "interaction_days"], ["tweeting_follows"], ["candidates", "candidates_sampled"],
                  ["labeled_candidates", "labeled_candidates_explicit"], ["train", "train_explicit"],
                  ["boosted_trees", "light_ranker", "boosted_trees_explicit", "light_ranker_explicit"],
                  ["champion", "champion_explicit"]],
    "recap": [["group:recap_sources", "user_days"], ["impression_features"],
              ["impressions_labeled", "group:recap_training"], ["group:recap_models"], ["champion"]],
}
NO_DAYS = (None, None)  # unpartitioned assets (the champions)


def _runs(location: str, days: list[tuple]) -> list[tuple]:
    """(location, tables or groups, first day, last day) of each of ``location``'s layers, given each layer's days."""
    assert len(days) == len(LAYERS[location])
    return [(location, names, first, last) for names, (first, last) in zip(LAYERS[location], days)]


# The tiny world of the engine tests and the BigQuery dry run, in order. Every layer of both locations, on the fewest
# days the windows allow: Real Graph's first model day D(36) (candidates read 31 event days, a train set 7 labeled
# days, the holdout D(37) is labeled from D(38)); Recap's first model day D(70) (features over 50 days, 14 training + 7
# validation days, labels of D(70) from D(71)). DuckDB builds all of it through the assets.
RECAP_RUNS = _runs("recap", [(D(0), D(71)), (D(50), D(70)), (D(50), D(70)), (D(70), D(70)), NO_DAYS])
RUNS = _runs("realgraph", [(D(0), D(38)), (D(30), D(37)), (D(30), D(37)), (D(30), D(37)), (D(36), D(36)),
                           (D(36), D(36)), NO_DAYS]) + RECAP_RUNS

# What Spark builds of that world through the same assets: one day of every layer, each day reading the Spark-built
# day of the layer before it (raw D(37) -> interaction_days D(37) -> labels of D(36); tweeting_follows D(36) ->
# candidates D(36) -> sample -> labels -> train -> the four models of D(36) -> champions; Recap's raw D(69), D(70) and
# their user_days (the features of D(70) read the rollup of D(69)) -> features and labels of D(70) -> the ten training
# sets -> the twenty models -> champion). Every other day those assets read (the look-back windows: 31, 7, 50, 21
# days) is loaded from the DuckDB world (``load_world``), because local Spark pays a job per statement: all days on
# Spark take hours (bench/spark_chain.py), one day per layer minutes.
SPARK_RUNS = (_runs("realgraph", [(D(37), D(37))] + [(D(36), D(36))] * 5 + [NO_DAYS])
              + _runs("recap", [(D(69), D(70))] + [(D(70), D(70))] * 3 + [NO_DAYS]))

# Both locations' whole chains on every day (``bench/spark_chain.py``): RUNS plus Real Graph's second model day.
CHAIN_RUNS = _runs("realgraph", [(D(0), D(39)), (D(30), D(38)), (D(30), D(38)), (D(30), D(38)), (D(36), D(37)),
                                 (D(36), D(37)), NO_DAYS]) + RECAP_RUNS


def definitions() -> dict:
    """Each location's Definitions (imported here: feedtrain's core does not depend on the locations)."""
    from realgraph_assets.definitions import defs as realgraph_defs
    from recap_assets.definitions import defs as recap_defs

    return {"realgraph": realgraph_defs, "recap": recap_defs}


def location_resources(home: Path, engine: str) -> dict[str, tuple]:
    """Each location's (definitions, resources) for a world on ``engine`` under ``home``: the tiny simulators, the
    warehouse and the model store there."""
    from realgraph_assets.resources import RealGraphSimulator
    from recap_assets.resources import RecapSimulator

    from ..modelstore import ModelStore

    stores = warehouses(home, engine)
    simulators = {"realgraph": RealGraphSimulator(preset="tiny", seed=7), "recap": RecapSimulator(preset="tiny", seed=11)}
    return {schema: (defs, {**defs.resources, "warehouse": stores[schema], "simulator": simulators[schema],
                            "model_store": ModelStore(location=schema, root=str(home / "models"))})
            for schema, defs in definitions().items()}


def written_by(defs, schema: str, names) -> set[str]:
    """The tables (asset names) a run of ``names`` (tables or groups) writes."""
    from ..driver import select

    return {k.path[-1] for k in select(schema, names).resolve(defs.resolve_asset_graph())}


def build_world(home, engine: str, runs=RUNS, instance=None, log=None,
                loaded: dict[str, dict[str, list[dt.date]]] | None = None) -> dict[str, Warehouse]:
    """Materialise ``runs`` on ``engine`` under ``home`` (FEEDTRAIN_HOME must point there), each as one run through
    the real assets, models with ``MODEL_CONFIG``; returns each location's Warehouse. ``loaded``: a world (another
    engine's, ``{schema: Warehouse}``) whose stored days the runs do not build are loaded first (``load_world``)."""
    import dagster as dg

    from ..driver import select

    locations = location_resources(Path(home), engine)
    stores = {schema: resources["warehouse"] for schema, (_, resources) in locations.items()}
    if loaded is not None:
        load_world(loaded, stores, runs, log)
    for schema, names, first, last in runs:
        defs, resources = locations[schema]
        started = time.perf_counter()
        if first is None:
            dg.materialize(defs.assets, selection=select(schema, names), instance=instance, resources=resources,
                           run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        else:
            tables = written_by(defs, schema, names)
            config = {t: c for t, c in MODEL_CONFIG[schema].items() if t in tables}
            materialize_days(defs, schema, names, first, last, instance=instance, resources=resources,
                             config=config, log_level="WARNING")
        if log:
            log(f"{engine}: {schema} {', '.join(names)} {first or ''}..{last or ''}: "
                f"{time.perf_counter() - started:.0f} s")
    return stores


def built_days(runs, schema: str) -> dict[str, set[dt.date]]:
    """{table: days} that ``runs`` build in ``schema``."""
    out: dict[str, set[dt.date]] = {}
    for run_schema, names, first, last in runs:
        if run_schema == schema and first is not None:
            days = {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}
            for table in written_by(definitions()[schema], schema, names):
                out.setdefault(table, set()).update(days)
    return out


LOAD_BATCH_ROWS = 1_000_000


def load_world(source: dict[str, Warehouse], target: dict[str, Warehouse], runs, log=None,
               only: dict[str, dict[str, set[dt.date]]] | None = None) -> None:
    """Load into ``target`` every stored day of ``source`` (each location's ledger tables) that ``runs`` do not
    build, through the target engine's ``load_days`` (the days are committed there with their own ledger rows).
    ``only`` ({schema: {table: days}}, as ``compare_worlds``'s) restricts the load to those tables and days (of the
    ones stored): a world with just the windows one day reads. Days go in batches of about ``LOAD_BATCH_ROWS`` rows
    (a larger day alone): Spark's ``createDataFrame`` holds a whole Arrow table in the JVM's heap (1 GiB locally)."""
    for schema, store in source.items():
        skip = built_days(runs, schema)
        started = time.perf_counter()
        with store.connect() as src, target[schema].connect() as dst:
            for (table,) in src.rows("SELECT DISTINCT table_name FROM feedtrain_ledger ORDER BY 1"):
                wanted = None if only is None else only[schema].get(table, set())
                keep = [(d, n) for d, n in src.rows(
                        "SELECT ds, rows FROM feedtrain_ledger WHERE table_name = ? ORDER BY ds", [table])
                        if d not in skip.get(table, set()) and (wanted is None or d in wanted)]
                batches: dict[int, list[dt.date]] = {}  # by the batch its first row falls in
                for (d, _), first_row in zip(keep, itertools.accumulate((n for _, n in keep), initial=0)):
                    batches.setdefault(first_row // LOAD_BATCH_ROWS, []).append(d)
                for days in batches.values():
                    src.register("load_keep", pa.table({"ds": pa.array(days, pa.date32())}))
                    dst.load_days(table, src.arrow(f"SELECT * FROM {table} WHERE ds IN (SELECT ds FROM load_keep)"),
                                  days)
                if keep and log:
                    log(f"loaded {schema}.{table}: {len(keep)} days in {len(batches)} batch(es), "
                        f"{time.perf_counter() - started:.0f} s")
        if log:
            log(f"loaded {schema}: {time.perf_counter() - started:.0f} s")


# Columns holding ledger versions, or hashes of files that record them: each engine hashes rows its own way, so these
# differ between engines by design (docs/scaling_out.md) and are not compared.
PER_ENGINE_COLUMNS = {"inputs", "artifact_sha256"}
SIDE_TABLES = ("model_evaluations", "ranking_evaluations", "champion_decisions")  # keyed rows, outside the ledger
FLOAT_RTOL = 1e-9
# Model metrics: the models read the same rows in the same order on both engines, but a feature equal within
# FLOAT_RTOL and not bit for bit (Recap's va_decayed_engagements: a DECIMAL sum of POWER terms, 1 ULP apart in a few
# hundred rows) can fall on the other side of a light ranker's quantile-bin edge: Recap's favorited light ranker had
# AUC 0.665347 on DuckDB and 0.665327 on Spark (RCE 3.3998 vs 3.3987). Every other model was bit-identical.
EVALUATION_RTOL = 1e-3


def compare_worlds(a: dict[str, Warehouse], b: dict[str, Warehouse], rtol: float = FLOAT_RTOL,
                   only: dict[str, dict[str, set[dt.date]]] | None = None) -> list[tuple[str, str, int, int]]:
    """Assert that two warehouses per location hold the same tables: every table in the ledger and every side table,
    the same days with the same row counts, the same rows (sorted; floats within ``rtol``, relative; everything else
    exactly; ``PER_ENGINE_COLUMNS`` skipped; the evaluation and champion tables' floats within ``EVALUATION_RTOL``).
    ``only`` ({schema: {table: days}}) restricts the ledger tables to those
    days, which must be present in both. Returns (schema, table, days, rows) of each table compared."""
    import numpy as np

    compared = []
    for schema in a:
        if only is None:
            tables = _tables(a[schema])
            other = _tables(b[schema])
            assert tables == other, f"{schema}: tables written differ: {sorted(set(tables) ^ set(other))}"
            days = dict.fromkeys(tables)
        else:
            ledger_tables = set(_tables(a[schema]))  # ``only`` may name assets that are not tables (the models)
            days = {**{t: d for t, d in only[schema].items() if t in ledger_tables},
                    **{t: None for t in _side_tables(a[schema])}}
            assert _side_tables(b[schema]) == _side_tables(a[schema]), f"{schema}: side tables written differ"
        for table, wanted in days.items():
            where = ""
            if wanted is not None:
                where = "WHERE ds IN (%s)" % ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(wanted))
                for store in (a[schema], b[schema]):
                    with store.connect() as conn:
                        missing = set(wanted) - conn.present_days(table, sorted(wanted))
                    assert not missing, f"{schema}.{table}: days {sorted(missing)} not present in {store.engine}"
            with a[schema].connect() as conn:
                columns = [c for c, _ in conn.table_columns(table) if c not in PER_ENGINE_COLUMNS]
                by_day = "GROUP BY ds ORDER BY ds" if "ds" in columns else ""
                counts = conn.rows(f"SELECT {'ds, ' if by_day else ''}count(*) FROM {table} {where} {by_day}")
            with b[schema].connect() as conn:
                assert conn.rows(f"SELECT {'ds, ' if by_day else ''}count(*) FROM {table} {where} {by_day}") == counts, \
                    f"{schema}.{table}: rows per day differ"
            x_frame = _sorted_frame(a[schema], table, columns, where)
            y_frame = _sorted_frame(b[schema], table, columns, where)
            tolerance = max(rtol, EVALUATION_RTOL) if table in SIDE_TABLES else rtol
            for column in columns:
                x, y = x_frame[column], y_frame[column]
                if x.dtype.is_float() or y.dtype.is_float():
                    equal = np.allclose(x.cast(float).to_numpy(), y.cast(float).to_numpy(), rtol=tolerance, atol=0,
                                        equal_nan=True)
                    worst = (x - y.cast(x.dtype)).abs().max()
                    assert equal, f"{schema}.{table}.{column}: floats differ beyond rtol {tolerance} (max |diff| {worst})"
                else:
                    assert x.cast(y.dtype).to_list() == y.to_list(), f"{schema}.{table}.{column}: values differ"
            compared.append((schema, table, len(counts), x_frame.height))
    return compared


def _tables(store: Warehouse) -> list[str]:
    with store.connect() as conn:
        written = [t for (t,) in conn.rows("SELECT DISTINCT table_name FROM feedtrain_ledger ORDER BY 1")]
    return written + _side_tables(store)


def _side_tables(store: Warehouse) -> list[str]:
    with store.connect() as conn:
        return [t for t in SIDE_TABLES if conn.table_columns(t) and conn.scalar(f"SELECT count(*) FROM {t}")]


def _sorted_frame(store: Warehouse, table: str, columns: list[str], where: str = ""):
    """The table's rows sorted by its exact columns first, then its floats (which may differ in the last bits)."""
    with store.connect() as conn:
        frame = conn.polars(f"SELECT {', '.join(columns)} FROM {table} {where}")
    exact = [c for c in columns if not frame[c].dtype.is_nested() and not frame[c].dtype.is_float()]
    floats = [c for c in columns if frame[c].dtype.is_float()]
    return frame.sort(exact + floats, nulls_last=True) if exact + floats else frame


def tiny_world_statements() -> list[tuple[str, str, object]]:
    """(schema, sql, params) of every statement a tiny world of both locations issues, recorded on DuckDB."""
    with tempfile.TemporaryDirectory() as home:
        os.environ["FEEDTRAIN_HOME"] = home
        with record() as statements:
            build_world(Path(home), "duckdb", RUNS)
    return statements
