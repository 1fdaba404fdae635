"""The one door raw logs come in through, from files or from the simulator.

Files: a directory per raw table holding one Hive-style partition per UTC day, either a folder ``ds=YYYY-MM-DD/`` of
``.parquet`` or ``.csv`` files or a single file ``ds=YYYY-MM-DD.parquet`` / ``ds=YYYY-MM-DD.csv``::

    <root>/interaction_graph_labels_daily/ds=2026-06-01/part-0.parquet
    <root>/interaction_graph_labels_daily/ds=2026-06-02.csv

``<root>`` is a local path, or any URL the engine reads (DuckDB: ``s3://``, ``gs://``, ``https://`` with its
``httpfs`` extension and credentials configured; listing uses DuckDB's ``glob``). The simulator hands over Arrow tables.
Either way every table of the day is read and validated against its contract (``feedtrain/validate.py``) in the
*door*, an in-memory DuckDB of its own, whatever the warehouse's engine: the checks are DuckDB SQL (its file readers and
list functions) and never reach the warehouse, so the door is the same on DuckDB, Spark and BigQuery. Only then are the
validated rows handed to the warehouse as Arrow and all tables committed together with ``Engine.replace_days`` (one
transaction, one ledger row per table): a day delivered with zero rows is present, a day never delivered is missing, a
re-delivered day gets a new version and its dependants become stale.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
from collections.abc import Iterator

import duckdb
import pyarrow as pa

from . import validate
from .contract import Contract, Table
from .validate import ORIGIN, BadInput

__all__ = ["BadInput", "Limits", "delivered_days", "door", "load_arrow", "load_files"]
DOOR = "door"  # the door's schema name: its statements are DuckDB's own, not asset SQL any engine must run

DAY_NAME = re.compile(r"^ds=(?P<day>[^/.]+)(?P<ext>\.parquet|\.csv)?$")
FORMATS = (".parquet", ".csv")


@dataclasses.dataclass(frozen=True)
class Limits:
    """A day larger than this fails early with a clear message instead of exhausting memory while loading."""

    max_rows: int = 200_000_000
    max_bytes: int = 16 * 2**30


@contextlib.contextmanager
def door() -> Iterator:
    """The in-memory DuckDB a delivered day is read and checked in (it spills to disk past its memory limit)."""
    from .engine.duckdb import DuckDBEngine

    conn = duckdb.connect()
    try:
        yield DuckDBEngine(conn, DOOR)
    finally:
        conn.close()


def _is_url(path: str) -> bool:
    return "://" in path


def _list(conn, pattern: str) -> list[str]:
    if _is_url(pattern):
        return sorted(r[0] for r in conn.rows("SELECT file FROM glob(?)", [pattern]))
    import glob
    return sorted(glob.glob(pattern))


def delivered_days(conn, root: str, table: str, first: dt.date | None = None,
                   last: dt.date | None = None) -> dict[dt.date, list[str]]:
    """The days delivered for ``table`` under ``root`` and their files. A partition name that is not a day, or a
    day outside [first, last] (the location's partitions), is an error naming it."""
    days: dict[dt.date, list[str]] = {}
    base = f"{root.rstrip('/')}/{table}"
    for path in _list(conn, f"{base}/ds=*"):
        name = path[len(base) + 1:]
        match = DAY_NAME.match(name)
        if not match:
            continue
        try:
            day = dt.date.fromisoformat(match["day"])
        except ValueError:
            raise BadInput(f"{path} (table {table}): partition name {name!r} is not a day; expected ds=YYYY-MM-DD")
        if (first and day < first) or (last and day > last):
            raise BadInput(f"{path} (table {table}, day {day}): the day is far outside the partitions "
                           f"[{first}, {last}]; expected a day in that range (is the date format or the clock wrong?)")
        files = [path] if match["ext"] else [f for f in _list(conn, f"{path}/*") if f.endswith(FORMATS)]
        if not files:
            raise BadInput(f"{path} (table {table}, day {day}): the day's folder holds no .parquet or .csv file; "
                           f"a day with no events is delivered as a file with the columns and no rows")
        days.setdefault(day, []).extend(files)
    return days


def read_files(conn, table: Table, files: list[str], day: dt.date, name: str, limits: Limits = Limits()) -> None:
    """Read one delivered day of ``table`` from its files into the relation ``name`` (columns as delivered, plus
    ``_origin``), checking each file's size, readability and columns first."""
    local = [f for f in files if not _is_url(f)]
    size = sum(os.path.getsize(f) for f in local)
    if size > limits.max_bytes:
        raise BadInput(f"{files[0]} (table {table.name}, day {day}): the day's files hold {size:,} bytes, more than "
                       f"the limit of {limits.max_bytes:,}; expected a smaller day, or raise max_bytes_per_day "
                       f"of the log source (the machine must hold the day in memory)")
    parts = []
    for i, f in enumerate(files):
        if f in local and os.path.getsize(f) == 0:
            raise BadInput(f"{f} (table {table.name}, day {day}): the file is empty (0 bytes); expected a Parquet or "
                           f"CSV file with the table's columns (zero rows is fine: a day with no events)")
        part = f"{name}_file{i}"
        try:
            if f.endswith(".parquet"):
                rows = conn.scalar("SELECT sum(num_rows) FROM parquet_file_metadata(?)", [f]) or 0
                if rows > limits.max_rows:
                    raise BadInput(f"{f} (table {table.name}, day {day}): {rows:,} rows, more than the limit of "
                                   f"{limits.max_rows:,} rows per day; expected a smaller day, or raise "
                                   f"max_rows_per_day of the log source")
                conn.stage(part, f"SELECT *, ? AS {ORIGIN} FROM read_parquet(?)", [f, f])
            else:
                conn.stage(part, f"SELECT *, ? AS {ORIGIN} FROM read_csv(?, {_csv_options(f)})", [f, f])
        except BadInput:
            raise
        except Exception as e:  # the engine's reader error, named by file
            kind = "Parquet" if f.endswith(".parquet") else "CSV"
            reason = str(e).split("\n\n")[0].replace("\n", " ")
            raise BadInput(f"{f} (table {table.name}, day {day}): not a readable {kind} file ({reason}); expected a "
                           f"complete {kind} file" + (", UTF-8, with the header's number of fields on every row"
                                                       if kind == "CSV" else "")) from None
        validate.check_shape(table, f, day, conn.table_columns(part), text=f.endswith(".csv"))
        parts.append(part)
    conn.stage(name, " UNION ALL BY NAME ".join(f"SELECT * FROM {p}" for p in parts))


def _csv_options(path: str) -> str:
    """Strict CSV: UTF-8, a header, every field read as text (parsed against the contract afterwards), every row with
    the header's number of fields."""
    if _is_url(path):
        return "header = true, all_varchar = true, strict_mode = true"
    import csv
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        header = next(csv.reader(f), [])
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in header) + "}"
    return (f"columns = {columns}, header = true, delim = ',', quote = '\"', auto_detect = false, "
            f"strict_mode = true, null_padding = false")


def _take_arrow(conn, table: Table, data: pa.Table, day: dt.date, name: str, limits: Limits = Limits()) -> None:
    """Take one day of ``table`` handed over in memory (the simulator) into the relation ``name``."""
    origin = f"simulator table {table.name}"
    if data.num_rows > limits.max_rows:
        raise BadInput(f"{origin} (day {day}): {data.num_rows:,} rows, more than the limit of {limits.max_rows:,}")
    conn.register(f"{name}_arrow", data)
    conn.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT *, '{origin}' AS {ORIGIN} FROM {name}_arrow")
    validate.check_shape(table, origin, day, conn.table_columns(name), text=False)


def _commit(conn, door, contract: Contract, day: dt.date, delivered: dict[str, str], events_start: dt.date) -> dict:
    """Validate in ``door`` one day of every table of ``contract`` (``delivered`` maps a table to the relation read by
    ``read_files``/``_take_arrow``; an absent optional table is an empty day of it) and commit them together to the
    warehouse ``conn``. Returns per table: rows, rows dropped by the source pipeline's own filters and why, checks that
    could not run, and the day's new version."""
    required = [t.name for t in contract.delivered if not t.optional and t.name not in delivered]
    if required:
        raise BadInput(f"day {day}: required table(s) {required} not delivered; expected a partition ds={day} of each")
    params = {"ds": day, "events_start": events_start}
    stats, staged = {}, {}
    for table in contract.tables:
        typed = f"typed_{table.name}"
        if table.name in delivered:
            validate.typed(door, table, delivered[table.name], day, typed)
        else:
            door.stage(typed, "SELECT " + ", ".join(f"NULL::{c.type} AS {c.name}" for c in table.columns) +
                       f", NULL::VARCHAR AS {ORIGIN} WHERE false")
        skip = _context(conn, door, table, day, events_start)
        drop = validate.check_rows(door, table, typed, day, params, skip)
        columns = ", ".join(c.name for c in table.columns)
        query = f"SELECT {columns} FROM {typed} r WHERE NOT coalesce({drop}, false)"
        rows = door.stage(f"stage_{table.name}", query, validate.used(query, params))
        stats[table.name] = {"rows": rows, "dropped": validate.dropped(door, table, typed, params),
                             "not_checked": sorted(skip)}
        staged[table.name] = f"validated_{table.name}"
        conn.register(staged[table.name], door.arrow(f"SELECT * FROM stage_{table.name}"))
    for table, relation in staged.items():
        # tables shaped by code (Recap's planted heads) are made on first load; a head added since adds its column
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM {relation} LIMIT 0")
        conn.add_columns(table, conn.table_columns(relation))
    versions = conn.replace_days(day, staged)
    for table, version in versions.items():
        stats[table]["version"] = version
    return stats


def load_arrow(conn, contract: Contract, day: dt.date, tables: dict[str, pa.Table], events_start: dt.date,
               limits: Limits = Limits()) -> dict:
    """Validate and commit one day of every table of ``contract`` handed over in memory (the simulator)."""
    with door() as d:
        for name, data in tables.items():
            _take_arrow(d, contract.table(name), data, day, f"delivered_{name}", limits)
        return _commit(conn, d, contract, day, {name: f"delivered_{name}" for name in tables}, events_start)


def load_files(conn, contract: Contract, root: str, day: dt.date, events_start: dt.date, last: dt.date,
               limits: Limits = Limits()) -> dict:
    """Read, validate and commit one day of every table of ``contract`` delivered as files under ``root``."""
    with door() as d:
        delivered = {}
        for table in contract.delivered:
            days = delivered_days(d, root, table.name, events_start, last)
            if day in days:
                read_files(d, table, days[day], day, f"delivered_{table.name}", limits)
                delivered[table.name] = f"delivered_{table.name}"
        return _commit(conn, d, contract, day, delivered, events_start)


def _context(conn, door, table: Table, day: dt.date, events_start: dt.date) -> set[str]:
    """Stage in ``door`` the relations ``context_<table>`` cross-table rules read (this delivery's rows of that table,
    already validated, and its rows of the days before, read from the warehouse ``conn``); return the rules that
    cannot run because one of those days was never loaded: they are reported as not checked, not silently passed."""
    skip = set()
    for rule in table.rules:
        if rule.context is None:
            continue
        other, back = rule.context
        earlier = [day - dt.timedelta(days=i) for i in range(back, 0, -1)]  # before the history: never loadable
        if len(conn.present_days(other, [d for d in earlier if d >= events_start])) < len(earlier):
            skip.add(rule.name)
        columns = ", ".join(n for n, _ in door.table_columns(f"typed_{other}") if n != ORIGIN)
        door.register(f"stored_{other}", conn.arrow(f"SELECT {columns} FROM {other} WHERE ds BETWEEN ? AND ?",
                                                    [day - dt.timedelta(days=back), day - dt.timedelta(days=1)]))
        door.stage(f"context_{other}", f"SELECT {columns} FROM typed_{other} UNION ALL SELECT {columns} "
                   f"FROM stored_{other}")
    return skip
