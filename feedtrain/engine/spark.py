"""The Spark engine: the same assets on PySpark 4 (local mode, a cluster, or Spark Connect).

- Tables are Parquet directories partitioned by ``ds`` under ``<root>/<schema>/<table>`` (external tables of the
  session catalog, re-registered on connect, so every process and session sees the same data).
- Statements arrive in DuckDB's dialect and are transpiled by ``feedtrain.engine.sql`` (parameters inlined).
- ``stage`` computes a query once (``localCheckpoint``) into a temp view; nothing is stored.
- ``replace_days`` replaces one day per table with a static-partition ``INSERT OVERWRITE`` (a day with no rows becomes
  empty), in this order: retract the day's ledger rows, overwrite the data, write the ledger rows. Spark has no
  multi-table transaction, so a crash between the steps leaves the day *not present* (no ledger row) rather than
  half-written and believed: the next run rebuilds it, and nothing downstream reads it meanwhile.
- ``farm_fingerprint`` / ``fingerprint_uniform`` are vectorised pandas UDFs over ``feedtrain.hashing`` (the same NumPy
  FarmHash the DuckDB engine uses), so buckets and draws are identical on both engines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa

from .. import hashing, ledger
from . import sql
from .base import Engine

# Session settings that make Spark SQL mean what the DuckDB SQL means: UTC, timestamps without time zone,
# NULL (not an error) on division by zero, day replacement by partition.
SESSION_CONFIG = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.shuffle.partitions": "2",  # small days; raise on a cluster (FEEDTRAIN_SPARK_* or spark-defaults)
    "spark.default.parallelism": "2",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # Only the unused `default` database lives here (every location's tables have explicit locations); not the cwd.
    "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "feedtrain-spark-warehouse"),
}
LEDGER_TABLES = {"feedtrain_ledger", "feedtrain_ledger_inputs"}
_registered: dict[tuple[int, str, str], Path] = {}  # (session, schema, table) -> location, to skip re-registering


def session(master: str = "local[2]", remote: str = "", extra: dict | None = None):
    """A SparkSession built the way ``dagster_pyspark.PySparkResource`` builds one (``spark_session_from_config``):
    ``remote`` (``sc://host:15002``, or ``local[2]`` to start a local Spark Connect server) gives a Connect session,
    otherwise a classic one on ``master``. One per process (getOrCreate). Known limit (docs/scaling_out.md): with
    ``remote="local[...]"`` a Dagster run works, but a second ``dg.materialize`` in the same process cannot open a
    session again (SESSION_ALREADY_EXIST)."""
    from dagster_pyspark.resources import spark_session_from_config

    conf = {**SESSION_CONFIG, **(extra or {})}
    conf["spark.remote" if remote else "spark.master"] = remote or master
    return spark_session_from_config(conf)


def _farm_fingerprint(keys: pd.Series) -> pd.Series:
    out = pd.Series(pd.NA, index=keys.index, dtype="Int64")
    present = keys.notna()
    if present.any():
        out[present] = hashing.fingerprint64(pa.array(keys[present], pa.string()))
    return out


def _fingerprint_uniform(keys: pd.Series) -> pd.Series:
    out = pd.Series(float("nan"), index=keys.index, dtype="float64")
    present = keys.notna()
    if present.any():
        out[present] = hashing.uniform_of_fingerprints(hashing.fingerprint64(pa.array(keys[present], pa.string())))
    return out.where(present, None)


def register_functions(spark) -> None:
    from pyspark.sql.functions import pandas_udf

    spark.udf.register("farm_fingerprint", pandas_udf(_farm_fingerprint, "long"))
    spark.udf.register("fingerprint_uniform", pandas_udf(_fingerprint_uniform, "double"))


_TYPE_NAMES = {"bigint": "BIGINT", "int": "INTEGER", "smallint": "SMALLINT", "tinyint": "TINYINT", "double": "DOUBLE",
               "float": "FLOAT", "string": "VARCHAR", "date": "DATE", "timestamp": "TIMESTAMP",
               "timestamp_ntz": "TIMESTAMP", "boolean": "BOOLEAN"}


def duckdb_type_name(spark_type: str) -> str:
    """Spark's type names in the spelling of the input contracts and of DuckDB (bigint -> BIGINT, array<string> ->
    VARCHAR[]), so code comparing column types (the ingest door) reads one vocabulary on every engine."""
    if spark_type.startswith("array<") and spark_type.endswith(">"):
        return duckdb_type_name(spark_type[6:-1]) + "[]"
    if spark_type.startswith("decimal"):
        return spark_type.upper()
    return _TYPE_NAMES.get(spark_type, spark_type.upper())


def signed(table: pa.Table) -> pa.Table:
    """Spark has no unsigned integers (Arrow's uint32, e.g. polars' row index, fails to convert): widen them to BIGINT;
    a uint64 value beyond BIGINT raises (Arrow's safe cast)."""
    fields = [pa.field(f.name, pa.int64()) if pa.types.is_unsigned_integer(f.type) else f for f in table.schema]
    return table.cast(pa.schema(fields)) if fields != list(table.schema) else table


class SparkEngine(Engine):
    dialect = "spark"

    def __init__(self, spark, schema: str, root: Path, ddl: str = ""):
        self.spark, self.schema, self.root = spark, schema, Path(root)
        catalog_dir = self.root / "_catalog" / f"{schema}.db"
        self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema} LOCATION '{catalog_dir}'")
        self.spark.sql(f"USE {schema}")
        register_functions(self.spark)
        declared = sql.table_ddl(ledger.DDL + ddl, "spark")
        for table, columns in declared:
            self.create_table(table, columns)
        # Tables shaped by their first day (Recap's features and training sets) are in no DDL: a new process (each
        # Dagster run is one) registers them from their directories, schema and ds partitions read from the files.
        here = self.root / schema
        for path in sorted(here.iterdir()) if here.exists() else []:
            if path.is_dir() and path.name not in dict(declared) and not path.name.startswith(("_", ".")):
                self._register_existing(path.name)

    def _register_existing(self, table: str) -> None:
        where = self.location(table)
        cache_key = (id(self.spark), self.schema, table)
        if _registered.get(cache_key) == where or not any(where.glob("ds=*/*.parquet")):
            return
        known = self._catalog_location(table)
        if known != where:
            if known is not None:
                self.spark.sql(f"DROP TABLE {table}")  # an external table: its files stay
            self.spark.sql(f"CREATE TABLE {table} USING parquet LOCATION '{where}'")
            self.spark.sql(f"ALTER TABLE {table} RECOVER PARTITIONS")
        _registered[cache_key] = where

    # -- tables ------------------------------------------------------------------------------------------------------
    def location(self, table: str) -> Path:
        return self.root / self.schema / table

    def create_table(self, table: str, columns: list[tuple[str, str]]) -> None:
        """Register ``table`` over its directory (creating it empty if new), with the partitions already on disk."""
        where = self.location(table)
        cache_key = (id(self.spark), self.schema, table)
        if _registered.get(cache_key) == where:
            return
        known = self._catalog_location(table)
        if known == where:
            _registered[cache_key] = where
            return
        if known is not None:
            self.spark.sql(f"DROP TABLE {table}")  # an external table: its files stay
        parts = ["table_name", "ds"] if table in LEDGER_TABLES else ["ds"]
        missing = [p for p in parts if p not in dict(columns)]
        if missing:
            raise ValueError(f"{self.schema}.{table}: a Spark table needs partition column(s) {missing}")
        cols = ", ".join(f"{c} {t}" for c, t in columns)
        existed = where.exists()
        where.mkdir(parents=True, exist_ok=True)  # an empty table reads as empty, not as a missing path
        self.spark.sql(f"CREATE TABLE {table} ({cols}) USING parquet PARTITIONED BY ({', '.join(parts)}) "
                       f"LOCATION '{where}'")
        if existed:
            self.spark.sql(f"ALTER TABLE {table} RECOVER PARTITIONS")
        _registered[cache_key] = where

    def _catalog_location(self, table: str) -> Path | None:
        if not self.spark.catalog.tableExists(f"{self.schema}.{table}"):
            return None
        rows = self.spark.sql(f"DESCRIBE TABLE EXTENDED {table}").collect()
        found = [r[1] for r in rows if r[0] == "Location"]
        return Path(found[0].removeprefix("file:")) if found else None

    def table_columns(self, table: str) -> list[tuple[str, str]]:
        try:
            fields = self.spark.table(table).schema.fields
        except Exception:  # noqa: BLE001 - AnalysisException differs between classic and Connect sessions
            return []
        return [(f.name, duckdb_type_name(f.dataType.simpleString())) for f in fields]

    # -- reading -----------------------------------------------------------------------------------------------------
    def _statements(self, text: str, params) -> Iterator[tuple[sql.exp.Expression, str]]:
        problems = sql.lint(text)
        if problems:
            raise sql.NotPortable(f"not portable to spark: {'; '.join(problems)}\n{text[:400]}")
        for statement in sql.parse(text):
            yield statement, sql.generate(statement, "spark", params)

    def execute(self, text: str, params: dict | Sequence | None = None) -> None:
        for statement, spark_sql in self._statements(text, params):
            if isinstance(statement, sql.exp.Create) and statement.kind == "TABLE":
                self._create_from(statement, params)
            elif isinstance(statement, (sql.exp.Delete, sql.exp.Update)):
                raise NotImplementedError(f"Spark tables are replaced by day or by key (Engine.replace_days / "
                                          f"replace_rows), not edited in place: {text[:200]}")
            else:
                self.spark.sql(spark_sql).collect()

    def _create_from(self, create: sql.exp.Create, params) -> None:
        """CREATE [TEMP] TABLE [IF NOT EXISTS] name AS query / (columns) in DuckDB's spelling."""
        temporary = bool(create.args.get("properties") and create.find(sql.exp.TemporaryProperty))
        name = create.this.this.name if isinstance(create.this, sql.exp.Schema) else create.this.name
        if create.expression is not None:
            query = sql.generate(create.expression, "spark", params)
            if temporary:
                self._stage(name, query)
                return
            if self.table_columns(name) and create.args.get("exists"):
                return
            fields = self.spark.sql(query).schema.fields
            self.create_table(name, [(f.name, f.dataType.simpleString()) for f in fields])
        else:
            self.create_table(name, sql.table_ddl(create.sql("duckdb"), "spark")[0][1])

    def arrow(self, text: str, params: dict | Sequence | None = None) -> pa.Table:
        *before, (last, spark_sql) = list(self._statements(text, params))
        if before:
            raise ValueError(f"arrow() takes one query: {text[:200]}")
        return self.spark.sql(spark_sql).toArrow()

    def register(self, name: str, table: pa.Table | pl.DataFrame) -> None:
        table = signed(table.to_arrow() if isinstance(table, pl.DataFrame) else table)
        if table.num_rows == 0:  # a Connect session cannot infer a schema from no rows: give it the Arrow one
            from pyspark.sql.pandas.types import from_arrow_schema

            frame = self.spark.createDataFrame([], schema=from_arrow_schema(table.schema))
        else:
            frame = self.spark.createDataFrame(table)
        frame.createOrReplaceTempView(name)

    def stage(self, name: str, text: str, params: dict | Sequence | None = None) -> int:
        (_, spark_sql), = list(self._statements(text, params))
        return self._stage(name, spark_sql)

    def _stage(self, name: str, spark_sql: str) -> int:
        frame = self.spark.sql(spark_sql).localCheckpoint()  # computed once: later reads see the same rows
        frame.createOrReplaceTempView(name)
        return frame.count()

    def content_hash(self, relation: str) -> str:
        n, h = self.spark.sql(f"SELECT count(*), coalesce(sum(CAST(xxhash64(*) AS DECIMAL(38, 0))), 0) "
                              f"FROM {relation}").collect()[0]
        return f"{n}-{int(h) % 2**64:016x}"

    # -- writing -----------------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        # No multi-statement transactions in Spark: replace_days/replace_rows order their writes so a crash leaves
        # the day absent (see the module docstring). Statements inside run one by one.
        yield

    def replace_days(self, day: dt.date, staged_by_table: dict[str, str],
                     inputs: dict[str, dict[dt.date, str]] | None = None) -> dict[str, str]:
        versions, rows = {}, {}
        for table, staged in staged_by_table.items():  # one pass per staged relation: rows, version, stray days
            n, h, stray = self.spark.sql(
                f"SELECT count(*), coalesce(sum(CAST(xxhash64(*) AS DECIMAL(38, 0))), 0), "
                f"count_if(ds IS DISTINCT FROM DATE '{day.isoformat()}') FROM {staged}").collect()[0]
            if stray:
                raise ValueError(f"{self.schema}.{table}: {stray} staged row(s) for day {day} have another ds")
            rows[table], versions[table] = n, f"{n}-{int(h) % 2**64:016x}"
        for table in staged_by_table:  # 1. the day is no longer present
            self._overwrite("feedtrain_ledger", {"table_name": table, "ds": day}, "SELECT CAST(NULL AS BIGINT), "
                            "CAST(NULL AS STRING), CAST(NULL AS TIMESTAMP_NTZ) WHERE false")
        for table, staged in staged_by_table.items():  # 2. its data
            self._overwrite(table, {"ds": day}, f"SELECT {self._column_list(table, staged, skip={'ds'})} "
                            f"FROM {staged}")
        flat = [(t, d, v) for t, by_day in (inputs or {}).items() for d, v in by_day.items()]
        self.register("ledger_inputs_arrow", pa.table({
            "input_table": pa.array([f[0] for f in flat], pa.string()),
            "input_ds": pa.array([f[1] for f in flat], pa.date32()),
            "input_version": pa.array([f[2] for f in flat], pa.string())}))
        for table in staged_by_table:  # 3. present again, with what it was built from
            self._overwrite("feedtrain_ledger_inputs", {"table_name": table, "ds": day},
                            "SELECT input_table, input_ds, input_version FROM ledger_inputs_arrow")
            self._overwrite("feedtrain_ledger", {"table_name": table, "ds": day},
                            f"SELECT CAST({rows[table]} AS BIGINT), '{versions[table]}', "
                            f"CAST(current_timestamp() AS TIMESTAMP_NTZ)")
        return versions

    def load_days(self, table: str, frame: pa.Table | pl.DataFrame, days: Sequence[dt.date] | None = None) -> list[dt.date]:
        """All days at once (a handful of Spark jobs per table instead of several per day): each day's version in one
        grouped pass, the data with one dynamic-partition ``INSERT OVERWRITE``, then the ledger rows, last, so a crash
        in between leaves the days not present (data without ledger rows), never believed."""
        frame = frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame
        self.register("load_days_rows", frame)
        self.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM load_days_rows LIMIT 0")
        counted = {r["ds"]: (r["n"], r["h"]) for r in self.spark.sql(
            "SELECT ds, count(*) AS n, coalesce(sum(CAST(xxhash64(*) AS DECIMAL(38, 0))), 0) AS h "
            "FROM load_days_rows GROUP BY ds").collect()}
        days = sorted(set(days if days is not None else counted))
        held = self._held(table, days)
        if held:
            raise ValueError(f"{self.schema}.{table}: load_days refuses days it already holds: {held[:5]}")
        if not days:
            return []
        if counted:
            self.spark.sql(f"INSERT OVERWRITE TABLE {table} PARTITION (ds) SELECT "
                           f"{self._column_list(table, 'load_days_rows', skip={'ds'})}, ds FROM load_days_rows").collect()
        n_h = [counted.get(d, (0, 0)) for d in days]
        self.register("load_days_ledger", pa.table({
            "rows": pa.array([n for n, _ in n_h], pa.int64()),
            "version": [f"{n}-{int(h) % 2**64:016x}" for n, h in n_h],
            "table_name": [table] * len(days), "ds": pa.array(days, pa.date32())}))
        self.spark.sql("INSERT OVERWRITE TABLE feedtrain_ledger PARTITION (table_name, ds) SELECT rows, version, "
                       "CAST(current_timestamp() AS TIMESTAMP_NTZ), table_name, ds FROM load_days_ledger").collect()
        return days

    def _overwrite(self, table: str, partition: dict, select: str) -> None:
        spec = ", ".join(f"{k} = '{v.isoformat() if isinstance(v, dt.date) else v}'" for k, v in partition.items())
        self.spark.sql(f"INSERT OVERWRITE TABLE {table} PARTITION ({spec}) {select}").collect()

    def _column_list(self, table: str, staged: str, skip=frozenset()) -> str:
        return ", ".join(c for c in super()._column_list(table, staged).split(", ") if c not in skip)

    def replace_rows(self, table: str, staged: str, keys: Sequence[str]) -> None:
        """Side tables are small: the new table (old rows without a staged key, plus the staged rows) is computed and
        collected first, then written over the whole table at once."""
        columns = self._column_list(table, staged)
        match = " AND ".join(f"t.{k} <=> s.{k}" for k in keys)
        merged = self.spark.sql(
            f"SELECT {columns} FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM {staged} s WHERE {match}) "
            f"UNION ALL SELECT {columns} FROM {staged}").toArrow()
        self.register("replace_rows_merged", merged)
        self.spark.conf.set("spark.sql.sources.partitionOverwriteMode", "static")
        try:
            self.spark.sql(f"INSERT OVERWRITE TABLE {table} SELECT {columns} FROM replace_rows_merged").collect()
        finally:
            self.spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
