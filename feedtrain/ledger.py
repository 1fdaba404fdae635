"""Which (table, day) were committed whole, with which content version, built from which upstream versions.

One rule for every location and engine (``Engine.replace_days`` writes the ledger in the same transaction as the data):

- a day of a table is **present** iff it has a ledger row and the table still holds exactly the rows the ledger
  recorded. A delivered day with zero rows is present; rows written outside ``replace_days`` (no ledger row) or a
  day that lost rows are not, and say so;
- a present day is **current** iff every upstream day it was built from still has the version recorded when it was
  built. A day whose upstream changed since is **stale**: building on it would mix old and new versions.

A version is a hash of the day's content (row count and an order-independent sum of row hashes), so re-running a day
that produces the same rows keeps its dependants current. Facts about a committed version can be kept against it:
``feedtrain_column_means`` holds a version's column means, computed once by the drift check (feedtrain/quality.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pyarrow as pa

DDL = """
CREATE TABLE IF NOT EXISTS feedtrain_ledger (
    table_name VARCHAR NOT NULL, ds DATE NOT NULL, rows BIGINT NOT NULL, version VARCHAR NOT NULL,
    committed_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS feedtrain_ledger_inputs (
    table_name VARCHAR NOT NULL, ds DATE NOT NULL, input_table VARCHAR NOT NULL, input_ds DATE NOT NULL,
    input_version VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS feedtrain_column_means (
    table_name VARCHAR NOT NULL, ds DATE NOT NULL, version VARCHAR NOT NULL, column_name VARCHAR NOT NULL,
    mean DOUBLE);
"""

PRESENT, MISSING, INCOMPLETE, UNRECORDED = "present", "missing", "incomplete", "written outside the ledger"


def content_version(engine, relation: str) -> str:
    return engine.content_hash(relation)


def record(engine, table: str, day: dt.date, rows: int, version: str, inputs: dict[str, dict[dt.date, str]]) -> None:
    """Write the ledger rows of one committed (table, day); call inside the transaction that writes the data."""
    engine.execute("DELETE FROM feedtrain_ledger WHERE table_name = ? AND ds = ?", [table, day])
    engine.execute("INSERT INTO feedtrain_ledger VALUES (?, ?, ?, ?, current_timestamp::TIMESTAMP)",
                   [table, day, rows, version])
    engine.execute("DELETE FROM feedtrain_ledger_inputs WHERE table_name = ? AND ds = ?", [table, day])
    flat = [(t, d, v) for t, by_day in inputs.items() for d, v in by_day.items()]
    if flat:
        engine.register("ledger_inputs_arrow", pa.table({
            "input_table": [f[0] for f in flat], "input_ds": pa.array([f[1] for f in flat], pa.date32()),
            "input_version": [f[2] for f in flat]}))
        engine.execute("INSERT INTO feedtrain_ledger_inputs SELECT ?, ?, input_table, input_ds, input_version "
                       "FROM ledger_inputs_arrow", [table, day])


def day_status(engine, table: str, days: Sequence[dt.date]) -> dict[dt.date, str]:
    """Each of ``days`` of ``table``: PRESENT, MISSING, INCOMPLETE (the ledger's row count differs from the table's) or
    UNRECORDED (rows without a ledger row)."""
    if not days:
        return {}
    first, last = min(days), max(days)
    if not engine.table_columns(table):  # never written (tables shaped by their first day are created then)
        return {day: MISSING for day in days}
    counted = dict(engine.rows(f"SELECT ds, count(*) FROM {table} WHERE ds BETWEEN ? AND ? GROUP BY ds", [first, last]))
    recorded = dict(engine.rows("SELECT ds, rows FROM feedtrain_ledger WHERE table_name = ? AND ds BETWEEN ? AND ?",
                                [table, first, last]))
    status = {}
    for day in days:
        if day in recorded:
            status[day] = PRESENT if counted.get(day, 0) == recorded[day] else INCOMPLETE
        else:
            status[day] = UNRECORDED if day in counted else MISSING
    return status


def present_days(engine, table: str, days: Sequence[dt.date]) -> set[dt.date]:
    return {d for d, s in day_status(engine, table, days).items() if s == PRESENT}


def versions(engine, table: str, days: Sequence[dt.date]) -> dict[dt.date, str]:
    if not days:
        return {}
    return dict(engine.rows("SELECT ds, version FROM feedtrain_ledger WHERE table_name = ? AND ds BETWEEN ? AND ?",
                            [table, min(days), max(days)]))


def stale_inputs(engine, table: str, days: Sequence[dt.date]) -> dict[dt.date, list[tuple[str, dt.date]]]:
    """For each of ``days`` of ``table`` built from an upstream day that has changed (or vanished) since, the
    (upstream table, day) pairs that changed."""
    if not days:
        return {}
    # Two queries each filtered on the ledgers' own keys rather than one join: the join read the whole ledger on
    # Spark (a file per table and day), 8 s a check on the tiny world; the result is the same.
    recorded = engine.rows("SELECT ds, input_table, input_ds, input_version FROM feedtrain_ledger_inputs "
                           "WHERE table_name = ? AND ds BETWEEN ? AND ?", [table, min(days), max(days)])
    recorded = [r for r in recorded if r[0] in days]
    if not recorded:
        return {}
    inputs = sorted({r[1] for r in recorded})
    current = {(t, d): v for t, d, v in engine.rows(
        f"SELECT table_name, ds, version FROM feedtrain_ledger WHERE table_name IN ({', '.join('?' for _ in inputs)}) "
        "AND ds BETWEEN ? AND ?", [*inputs, min(r[2] for r in recorded), max(r[2] for r in recorded)])}
    out: dict[dt.date, list[tuple[str, dt.date]]] = {}
    for ds, input_table, input_ds, version in sorted(recorded):
        if current.get((input_table, input_ds)) != version:
            out.setdefault(ds, []).append((input_table, input_ds))
    return out
