"""Writing daily partitions: the loop every warehouse asset shares.

Each asset supports a range of days in one run (``BackfillPolicy.single_run``: a backfill is one process per
asset, so there is a single DuckDB writer instead of many runs fighting for the file lock).  For each day it stages the
rows, evaluates the blocking checks on the stage and, only if they pass, replaces the day in one transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import polars as pl

from . import checks
from .partitions import partition_days, window
from .warehouse import markdown_table, replace_partitions


def span(day: dt.date, start: int, end: int = 0) -> list[dt.date]:
    """The days [day + start, day + end]."""
    return [day + dt.timedelta(days=i) for i in range(start, end + 1)]


@dataclasses.dataclass(frozen=True)
class Location:
    """A code location's schema and SQL folder: how its asset keys, SQL files and dependencies are named."""

    schema: str
    sql_dir: Path

    def key(self, table: str) -> dg.AssetKey:
        return dg.AssetKey([self.schema, table])

    def sql(self, name: str) -> str:
        return (self.sql_dir / f"{name}.sql").read_text()

    def dep(self, table: str, start: int = 0, end: int = 0) -> dg.AssetDep:
        """Day T of the dependent asset reads days [T + start, T + end] of ``table``."""
        return dg.AssetDep(self.key(table), partition_mapping=window(start, end))


def column_schema(conn, table: str) -> dg.TableSchema:
    """The stored table's columns and types, with the comments of the DDL where it has them, for the asset catalog."""
    comments = conn.column_comments(table)
    return dg.TableSchema(columns=[dg.TableColumn(name, dtype, description=comments.get(name))
                                   for name, dtype in conn.table_columns(table)])


def write_days(context, conn, schema: str, table: str,
               build: Callable[[dt.date], tuple[list[dg.AssetCheckResult], dict]]) -> Iterator:
    """For each day of the run: ``build(day)`` stages ``stage_<table>`` and returns (check results, metadata);
    the day is committed only if every blocking check passed.  Ends with one MaterializeResult for the run."""
    results, meta, per_day = [], {}, []
    for day in partition_days(context):
        results, meta = build(day)
        yield from checks.gate(results, f"{schema}.{table} partition {day}")
        replace_partitions(conn, day, {table: f"stage_{table}"}, checks.input_versions(results))
        per_day.append({"ds": day.isoformat(), **{k: v for k, v in meta.items() if isinstance(v, (int, float))}})
        context.log.info(f"{schema}.{table} {day}: committed {meta.get('dagster/row_count')} rows")
    metadata = {**meta, "dagster/column_schema": column_schema(conn, table)}
    if len(per_day) > 1:
        metadata["days"] = dg.MetadataValue.md(markdown_table(pl.DataFrame(per_day)))
    yield dg.MaterializeResult(metadata=metadata, check_results=results)
