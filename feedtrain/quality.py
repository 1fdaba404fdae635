"""Data-quality checks beyond existence, evaluated on each staged day before it is committed (docs/consistency.md).

- ``schema_contract`` (blocking): the day has exactly the stored table's columns, each of a type the table stores
  without changing its meaning (``fits``);
- ``unique_key`` (blocking): the table's key is unique within the day;
- ``null_rates`` (warning): no column outside the contract's ``nullable`` ones has nulls; the rate of every column
  is in the result's metadata;
- ``drift`` (warning; blocking when configured): the day's mean of every numeric column (features and labels, so
  the positive rate too) against the daily means of the trailing ``DRIFT_DAYS`` committed days: flagged when
  ``|mean - trailing mean| > DRIFT_K * max(trailing std, DRIFT_REL * |trailing mean|)``.

Warnings show in the UI per materialised day (yellow) and do not stop the day; set ``FEEDTRAIN_BLOCKING_DRIFT=1``
(read when the definitions load) to make a drift failure block the day like the other blocking checks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import warnings

import dagster as dg
import numpy as np
import pyarrow as pa

from . import ledger
from .checks import CheckDef

DRIFT_DAYS = 7
DRIFT_MIN_DAYS = 3  # fewer trailing days than this: not enough history to judge, the check passes and says so
DRIFT_K = 6.0
DRIFT_REL = 0.05

SCHEMA_CONTRACT = CheckDef("schema_contract", "The day has exactly the stored table's columns, each of a type that "
                           "stores without changing meaning (blocking).")
UNIQUE_KEY = CheckDef("unique_key", "The table's key is unique within the day (blocking).")
NULL_RATES = CheckDef("null_rates", "No column outside the contract's nullable ones holds nulls; every column's null "
                      "rate is in the metadata (warning).")
DRIFT = CheckDef("drift", f"Each numeric column's mean (features, labels: so the positive rate) against the daily "
                 f"means of the trailing {DRIFT_DAYS} days: flagged beyond {DRIFT_K:g} trailing standard deviations "
                 f"(at least {DRIFT_REL:.0%} of the trailing mean). A warning unless FEEDTRAIN_BLOCKING_DRIFT=1.")
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
           "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN")


def drift_blocking() -> bool:
    return os.environ.get("FEEDTRAIN_BLOCKING_DRIFT", "0") not in ("", "0", "false")


@dataclasses.dataclass(frozen=True)
class Contract:
    """What a daily table promises beyond its columns: its key, the columns allowed to be null, and the columns
    that are not measurements (ids, times) whose mean means nothing."""

    key: tuple[str, ...]
    nullable: tuple[str, ...] = ()
    not_measured: tuple[str, ...] = ()


def specs(asset: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    blocking = {SCHEMA_CONTRACT.name: True, UNIQUE_KEY.name: True, NULL_RATES.name: False, DRIFT.name: drift_blocking()}
    return [dg.AssetCheckSpec(d.name, asset=asset, blocking=blocking[d.name], description=d.description)
            for d in (SCHEMA_CONTRACT, UNIQUE_KEY, NULL_RATES, DRIFT)]


def evaluate(conn, table: str, staged: str, day: dt.date, contract: Contract) -> list[dg.AssetCheckResult]:
    """The four checks of ``staged`` (the day about to replace ``table``'s day ``day``)."""
    stored = conn.table_columns(table)
    columns = conn.table_columns(staged)
    return [schema_contract(table, stored, columns), unique_key(conn, staged, contract),
            null_rates(conn, staged, columns, contract), drift(conn, table, staged, day, columns, contract)]


INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


def fits(staged: str, stored: str) -> bool:
    """A staged column's type can be stored without changing what it means: the same type, an integer into any
    integer or floating column (the insert widens it), a float into a float. A float into an integer column, text
    into a number and the like break the contract."""
    base = lambda t: t.split("(")[0]  # noqa: E731  DECIMAL(38, 18) -> DECIMAL
    floats = {"FLOAT", "DOUBLE", "DECIMAL"}
    return (staged == stored or (base(staged) in INTEGER_TYPES and base(stored) in INTEGER_TYPES | floats)
            or (base(staged) in floats and base(stored) in floats))


def schema_contract(table: str, stored: list, columns: list) -> dg.AssetCheckResult:
    have, want = dict(columns), dict(stored)
    problems = ([f"missing {c}" for c in want if c not in have] + [f"extra {c}" for c in have if c not in want]
                + [f"{c} is {have[c]}, the table has {want[c]}" for c in want if c in have and not fits(have[c], want[c])])
    return dg.AssetCheckResult(
        check_name=SCHEMA_CONTRACT.name, passed=not problems,
        description=f"{table}: " + ("; ".join(problems) if problems else f"{len(want)} columns as stored"),
        metadata={"columns": dg.MetadataValue.json({c: t for c, t in columns})})


def unique_key(conn, staged: str, contract: Contract) -> dg.AssetCheckResult:
    key = ", ".join(contract.key)
    dup = conn.scalar(f"SELECT count(*) FROM (SELECT 1 FROM {staged} GROUP BY {key} HAVING count(*) > 1)")
    example = conn.rows(f"SELECT {key} FROM {staged} GROUP BY {key} HAVING count(*) > 1 LIMIT 1") if dup else []
    return dg.AssetCheckResult(
        check_name=UNIQUE_KEY.name, passed=dup == 0,
        description=f"({key}) unique" if not dup else f"{dup} duplicated ({key}) values, e.g. {example[0]}",
        metadata={"key": key, "duplicated_keys": dup})


def null_rates(conn, staged: str, columns: list, contract: Contract) -> dg.AssetCheckResult:
    names = [c for c, _ in columns]
    row = conn.rows(f"SELECT count(*), {', '.join(f'count(*) - count({c})' for c in names)} FROM {staged}")[0]
    n, nulls = row[0], dict(zip(names, row[1:]))
    rates = {c: (k / n if n else 0.0) for c, k in nulls.items()}
    bad = {c: round(r, 6) for c, r in rates.items() if r > 0 and c not in contract.nullable}
    return dg.AssetCheckResult(
        check_name=NULL_RATES.name, passed=not bad, severity=dg.AssetCheckSeverity.WARN,
        description="no unexpected nulls" if not bad else f"null rates of columns that should have none: {bad}",
        metadata={"null_rates": dg.MetadataValue.json({c: round(r, 6) for c, r in rates.items() if r > 0}),
                  "rows": n})


def drift(conn, table: str, staged: str, day: dt.date, columns: list, contract: Contract) -> dg.AssetCheckResult:
    skip = {"ds", *contract.key, *contract.not_measured}
    stored = {c for c, _ in conn.table_columns(table)}  # staged rows may carry columns the table does not keep
    measured = [c for c, t in columns if c not in skip and c in stored and not c.endswith("_id")
                and t.split("(")[0] in NUMERIC]
    severity = dg.AssetCheckSeverity.ERROR if drift_blocking() else dg.AssetCheckSeverity.WARN
    if not measured:
        return dg.AssetCheckResult(check_name=DRIFT.name, passed=True, severity=severity,
                                   description="no numeric columns to watch")
    history = trailing_means(conn, table, day, measured)
    today = np.array(conn.rows(f"SELECT {', '.join(f'avg({c}::DOUBLE)' for c in measured)} FROM {staged}")[0], dtype=float)
    if len(history) < DRIFT_MIN_DAYS:
        return dg.AssetCheckResult(
            check_name=DRIFT.name, passed=True, severity=severity,
            description=f"{len(history)} trailing days committed, {DRIFT_MIN_DAYS} needed to judge drift")
    with warnings.catch_warnings():  # a column without a mean on any trailing day (all null, or new) is not judged
        warnings.simplefilter("ignore", RuntimeWarning)
        centre, spread = np.nanmean(history, axis=0), np.nanstd(history, axis=0)
    tolerance = DRIFT_K * np.maximum(spread, DRIFT_REL * np.abs(centre))
    distance = np.abs(today - centre)
    flagged = {c: {"mean": float(m), "trailing_mean": float(t), "tolerance": float(tol)}
               for c, m, t, tol, d in zip(measured, today, centre, tolerance, distance)
               if np.isfinite(m) and np.isfinite(t) and d > tol}
    return dg.AssetCheckResult(
        check_name=DRIFT.name, passed=not flagged, severity=severity,
        description=(f"{len(measured)} columns within tolerance of the trailing {len(history)} days" if not flagged else
                     "drifted: " + ", ".join(f"{c} mean {v['mean']:.4g} vs trailing {v['trailing_mean']:.4g}"
                                             for c, v in flagged.items())),
        metadata={"drifted": dg.MetadataValue.json(flagged), "trailing_days": len(history),
                  **{f"mean/{c}": float(m) for c, m in zip(measured, today) if np.isfinite(m)}})


def trailing_means(conn, table: str, day: dt.date, measured: list[str]) -> np.ndarray:
    """The daily means of ``measured`` over the committed days of the DRIFT_DAYS before ``day`` (days without rows
    have none), one row per day in day order. A committed version's means are computed once and kept against it in
    ``feedtrain_column_means`` (feedtrain/ledger.py): a day's check reads the one trailing day it has not seen, not
    seven (3 s of a bench-size candidates day, bench/RESULTS.md); a day re-committed with other rows has a new version,
    so its kept means are never reused."""
    first, last = day - dt.timedelta(days=DRIFT_DAYS), day - dt.timedelta(days=1)
    committed = ledger.versions(conn, table, [first, last])
    kept: dict[dt.date, dict[str, float | None]] = {}
    for ds, column, mean in conn.rows(
            "SELECT m.ds, m.column_name, m.mean FROM feedtrain_column_means m JOIN feedtrain_ledger l "
            "ON l.table_name = m.table_name AND l.ds = m.ds AND l.version = m.version "
            "WHERE m.table_name = ? AND m.ds BETWEEN ? AND ?", [table, first, last]):
        kept.setdefault(ds, {})[column] = mean
    unseen = sorted(d for d in committed if not set(measured) <= set(kept.get(d, {})))
    if unseen:
        fresh = conn.rows(f"SELECT ds, {', '.join(f'avg({c}::DOUBLE)' for c in measured)} FROM {table} "
                          f"WHERE ds IN ({', '.join('?' for _ in unseen)}) GROUP BY ds", unseen)
        # Rounded to 6 significant digits: a parallel avg() differs from run to run in its last bits (more than one:
        # its error grows with the rows and with cancellation), and kept means are stored rows, which two builds from
        # the same inputs must hold identically (tests/test_consistency.py). A rounding can still flip only when the
        # mean lies within that error of a 6-digit boundary, ~1e-7 per value (9 digits flipped one value in a suite
        # run); the check's tolerance is at least 5 % of a mean, so 6 digits lose nothing it uses.
        fresh = [(ds, *(None if m is None else float(f"{m:.6g}") for m in means)) for ds, *means in fresh]
        for ds, *means in fresh:
            kept[ds] = dict(zip(measured, means))
        if fresh:
            conn.register("column_means_arrow", pa.table({
                "ds": pa.array([r[0] for r in fresh for _ in measured], pa.date32()),
                "version": [committed[r[0]] for r in fresh for _ in measured],
                "column_name": [c for _ in fresh for c in measured],
                "mean": pa.array([m for r in fresh for m in r[1:]], pa.float64())}))
            # Named columns: Spark stores its partition column (ds) last.
            conn.execute("INSERT INTO feedtrain_column_means (table_name, ds, version, column_name, mean) "
                         "SELECT ?, ds, version, column_name, mean FROM column_means_arrow", [table])
    days = sorted(d for d in committed if d in kept)
    return np.array([[kept[d].get(c) for c in measured] for d in days], dtype=float).reshape(-1, len(measured))


def freshness_checks(source_assets, location: str):
    """Dagster's freshness checks on the raw sources (yesterday's logs land at 01:00 UTC, expected by 03:00) and the
    sensor that evaluates them, stopped by default like the automation sensor. (Dagster 1.13 marks these builders
    superseded by ``FreshnessPolicy``, which judges an asset by its last materialisation of any partition; these
    checks judge the newest time partition, which is what "yesterday's logs arrived" means.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        checks = dg.build_time_partition_freshness_checks(assets=source_assets, deadline_cron="0 3 * * *",
                                                          severity=dg.AssetCheckSeverity.WARN)
        sensor = dg.build_sensor_for_freshness_checks(freshness_checks=checks, name=f"{location}_freshness",
                                                      default_status=dg.DefaultSensorStatus.STOPPED)
    return checks, sensor
