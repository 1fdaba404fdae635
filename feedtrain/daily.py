"""Writing daily partitions: the loop every warehouse asset shares.

Each asset supports a range of days in one run (``BackfillPolicy.single_run``: a backfill is one process per
asset, so there is a single DuckDB writer instead of many runs fighting for the file lock).  For each day it stages the
rows, evaluates the blocking checks on the stage and, only if they pass, replaces the day in one transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import inspect
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import dagster as dg
import polars as pl

from . import checks, quality
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

    def dep(self, table: str, start: int = 0, end: int = 0, clipped: bool = False) -> dg.AssetDep:
        """Day T of the dependent asset reads days [T + start, T + end] of ``table`` (``clipped``: those that exist
        from ``table``'s first partition on)."""
        return dg.AssetDep(self.key(table), partition_mapping=window(start, end, clipped))


def column_schema(conn, table: str) -> dg.TableSchema:
    """The stored table's columns and types, with the comments of the DDL where it has them, for the asset catalog."""
    comments = conn.column_comments(table)
    return dg.TableSchema(columns=[dg.TableColumn(name, dtype, description=comments.get(name))
                                   for name, dtype in conn.table_columns(table)])


def write_days(context, conn, schema: str, table: str,
               build: Callable[[dt.date], tuple[list[dg.AssetCheckResult], dict]],
               contract: quality.Contract | None = None) -> Iterator:
    """For each day of the run: ``build(day)`` stages ``stage_<table>`` and returns (check results, metadata); with
    a ``contract``, the quality checks of ``feedtrain/quality.py`` are added once the build's own checks passed. The
    day is committed only if every blocking check passed, and its figures and content version are recorded against
    that day (``record_day``).  Ends with one MaterializeResult for the run."""
    results, per_day, versions = [], [], {}
    for day in partition_days(context):
        results, meta = build(day)
        if contract is not None and all(r.passed for r in results):
            results = [*results, *quality.evaluate(conn, table, f"stage_{table}", day, contract)]
        yield from checks.gate(results, f"{schema}.{table} partition {day}")
        versions[day] = replace_partitions(conn, day, {table: f"stage_{table}"}, checks.input_versions(results))[table]
        record_day(context, context.assets_def.key, day, meta, versions[day])
        per_day.append({"ds": day.isoformat(), **{k: v for k, v in meta.items() if isinstance(v, (int, float))}})
        context.log.info(f"{schema}.{table} {day}: committed {meta.get('dagster/row_count')} rows")
    metadata = {"dagster/column_schema": column_schema(conn, table)}
    if len(per_day) > 1:
        metadata["days"] = dg.MetadataValue.md(markdown_table(pl.DataFrame(per_day)))
    yield dg.MaterializeResult(metadata=metadata, check_results=results, data_version=run_data_version(versions))


def record_day(context, asset_key: dg.AssetKey, day: dt.date, metadata: dict, version: str) -> None:
    """Record one committed day's figures against that day's materialisation (a range run yields one result for all
    its days; without this every day would show the last day's figures) with its ledger content version."""
    context.add_asset_metadata({**metadata, "data_version": version}, asset_key=asset_key,
                               partition_key=day.isoformat())


def run_data_version(versions: dict[dt.date, str]) -> dg.DataVersion | None:
    """Dagster's data version of a run's materialisation: the ledger's content version when the run wrote one day.
    Dagster copies one data version to every partition of a range run (dagster-io/dagster#18649, #34013), so a range
    run leaves it to Dagster's default and each day's content version is in its ``data_version`` metadata."""
    return dg.DataVersion(next(iter(versions.values()))) if len(versions) == 1 else None


def code_version(module_file: str, sql_dir: Path) -> str:
    """A code version for the assets of one module: a hash of its source and of the SQL files it names, so editing
    either marks the asset (and so its dependants) changed in the UI, and ``code_version_changed`` fires."""
    text = Path(module_file).read_text()
    sql_files = sorted(p for p in sql_dir.glob("*.sql") if f'"{p.stem}"' in text or p.name in text)
    digest = hashlib.sha256(text.encode())
    for p in sql_files:
        digest.update(p.read_bytes())
    return digest.hexdigest()[:12]


def with_code_versions(assets: Sequence, sql_dir: Path) -> list:
    """``assets`` with each asset's code version set from its module (``code_version``); other definitions as they are."""
    def versioned(a):
        if not isinstance(a, dg.AssetsDefinition) or a.op is None:
            return a
        version = code_version(inspect.getsourcefile(a.op.compute_fn.decorated_fn), sql_dir)
        return a.map_asset_specs(lambda spec: spec.replace_attributes(code_version=version))
    return [versioned(a) for a in assets]
