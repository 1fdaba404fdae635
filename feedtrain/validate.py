"""The checks of the door (``feedtrain/ingest.py``), in SQL, from a table's contract (``feedtrain/contract.py``).

A delivered table arrives as a relation with whatever columns and types its file (or the simulator) had, plus a
``_origin`` column naming the file each row came from. ``check_shape`` compares the columns and types with the contract
(per file); ``typed`` casts the rows to the contract's types, failing on values that do not parse or are NULL;
``check_rows`` applies every value rule, the key and the table's row rules, and returns the rows the source pipeline's own filters
drop. Every failure raises ``BadInput`` naming the file (or table), column, day, an offending row and what was expected.
"""

from __future__ import annotations

import datetime as dt
import difflib

from .contract import Column, Table

ORIGIN = "_origin"

# Which stored types a contract type accepts (a Parquet INTEGER id is a valid BIGINT; a VARCHAR id is not).
_INTS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
_TIMESTAMPS = {"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE"}
ACCEPTS = {
    "BIGINT": _INTS | {"UBIGINT"}, "INTEGER": _INTS | {"BIGINT"}, "DOUBLE": _INTS | {"FLOAT", "DOUBLE", "BIGINT"},
    "FLOAT": {"FLOAT", "DOUBLE"}, "BOOLEAN": {"BOOLEAN"}, "VARCHAR": {"VARCHAR"}, "VARCHAR[]": {"VARCHAR[]"},
    "TIMESTAMP": _TIMESTAMPS, "DATE": {"DATE"},
}


class BadInput(ValueError):
    """A delivered day breaks its contract; nothing of the day was written."""


def fail(origin: str, table: Table, column: str | None, day: dt.date, problem: str, example, expected: str,
         count: int | None = None) -> BadInput:
    where = f"{origin} (table {table.name}" + (f", column {column}" if column else "") + f", day {day})"
    many = f" in {count} row(s)" if count and count > 1 else ""
    shown = f"; e.g. {example}" if example is not None else ""
    return BadInput(f"{where}: {problem}{many}{shown}; expected {expected}")


def check_shape(table: Table, origin: str, day: dt.date, columns: list[tuple[str, str]], text: bool) -> None:
    """The file's columns against the contract: missing, unexpected, renamed (or re-cased) columns; wrong types
    (``text``: a CSV, whose values are all text and are parsed later)."""
    have = {n: t for n, t in columns if n != ORIGIN}
    want = {c.name: c for c in table.columns}
    missing = [n for n, c in want.items() if n not in have and not c.optional]
    extra = [n for n in have if n not in want]
    for m in missing:
        recased = [e for e in extra if e.lower() == m.lower()]
        if recased:
            raise fail(origin, table, m, day, f"column named {recased[0]!r}: column names are case-sensitive", None,
                       f"the name {m!r}")
    if missing and extra:
        guess = {m: difflib.get_close_matches(m, extra, 1, 0.0)[0] for m in missing}
        raise fail(origin, table, ", ".join(missing), day,
                   f"column(s) {missing} missing and {extra} unexpected: renamed? (" +
                   ", ".join(f"{v!r} -> {k!r}" for k, v in guess.items()) + ")", None,
                   f"the columns {list(want)}")
    if missing:
        raise fail(origin, table, ", ".join(missing), day, f"missing column(s) {missing}", None,
                   f"the columns {list(want)} (those with a default may be left out)")
    if extra:
        raise fail(origin, table, ", ".join(extra), day, f"unexpected column(s) {extra}", None,
                   f"only the columns {list(want)}")
    if text:
        return
    for name, stored in have.items():
        col = want[name]
        if stored not in ACCEPTS[col.type] and not (stored.startswith("DECIMAL") and col.type in ("DOUBLE", "FLOAT")):
            raise fail(origin, table, name, day, f"column has type {stored}", None,
                       f"{col.type} (one of {sorted(ACCEPTS[col.type])})")


def _cast(col: Column, stored: str | None) -> str:
    """SQL turning the delivered column into the contract's type (TIMESTAMP WITH TIME ZONE -> UTC)."""
    if stored is None:
        return f"{col.default}::{col.type}"
    if stored == "TIMESTAMP WITH TIME ZONE":
        return f"timezone('UTC', {col.name})"
    return f"TRY_CAST({col.name} AS {col.type})"


def typed(conn, table: Table, relation: str, day: dt.date, name: str) -> None:
    """Stage ``name`` = the delivered rows in the contract's types (defaults for absent optional columns), after
    checking that every value parses and that no non-nullable value is NULL."""
    stored = dict(conn.table_columns(relation))
    exprs = {c.name: _cast(c, stored.get(c.name)) for c in table.columns}
    present = [c for c in table.columns if c.name in stored]
    tests = []
    for c in present:
        tests.append((c, "unparsable or out-of-range value", f"{c.name} IS NOT NULL AND {exprs[c.name]} IS NULL",
                      f"a {c.type} value"))
        if not c.nullable:
            tests.append((c, "NULL value", f"{c.name} IS NULL", "a value (the column is not nullable)"))
    _first_failure(conn, table, relation, day, tests, {"ds": day})
    select = ", ".join(f"{e} AS {n}" for n, e in exprs.items())
    query = f"SELECT {select}, {ORIGIN} FROM {relation}"
    conn.stage(name, query, used(query, {"ds": day}))


def check_rows(conn, table: Table, relation: str, day: dt.date, params: dict, skip: set[str] = frozenset()) -> str:
    """Apply the contract's value rules, key and row rules to the typed rows; return a predicate selecting the rows
    the source pipeline's own filters drop (``FALSE`` if none)."""
    tests = []
    for c in table.columns:
        n = c.name
        if c.is_id:
            tests.append((c, "negative id", f"{n} < 0", "an id >= 0"))
        if c.allowed:
            values = "[" + ", ".join(f"'{a}'" for a in c.allowed) + "]"
            lower = "[" + ", ".join(f"'{a.lower()}'" for a in c.allowed) + "]"
            if c.type == "VARCHAR[]":
                bad = f"NOT list_has_all({values}, {n})"
                recased = f"list_has_all({lower}, list_transform({n}, x -> lower(x)))"
            else:
                bad, recased = f"{n} NOT IN (SELECT unnest({values}))", f"lower({n}) IN (SELECT unnest({lower}))"
            tests.append((c, "differently-cased name (names are case-sensitive)", f"{bad} AND {recased}",
                          f"the exact spelling, one of {list(c.allowed)}"))
            tests.append((c, "unknown name", bad, f"one of {list(c.allowed)}"))
        if c.min is not None:
            tests.append((c, "value below the minimum", f"{n} < {c.min}", f"a value >= {c.min}"))
        if c.max is not None:
            tests.append((c, "value above the maximum", f"{n} > {c.max}", f"a value <= {c.max}"))
        if c.in_day:
            tests.append((c, "timestamp outside the day", f"NOT ({n} >= $ds::DATE AND {n} < $ds::DATE + 1)",
                          f"a time on {day} (UTC)"))
        if c.start_of_day:
            tests.append((c, "timestamp is not 00:00 of the file's day", f"{n} <> $ds::TIMESTAMP",
                          f"{day} 00:00:00 (UTC)"))
        if n == "ds":
            tests.append((c, "ds does not match the file's day", "ds <> $ds::DATE", f"{day}"))
    for r in table.rules:
        if not r.drop and r.name not in skip:
            tests.append((None, f"{r.name} ({r.bad})", r.bad, r.expected))
    key = ", ".join(table.key)
    duplicated = _first_failure(conn, table, relation, day, tests, params,
                                extra=f"count(*) - count(DISTINCT ({key}))" if table.key else "0")
    if duplicated:
        *values, count, origin = conn.rows(f"SELECT {key}, count(*), any_value({ORIGIN}) FROM {relation} "
                                           f"GROUP BY {key} HAVING count(*) > 1 LIMIT 1")[0]
        n_dup = conn.scalar(f"SELECT count(*) FROM (SELECT 1 FROM {relation} GROUP BY {key} HAVING count(*) > 1)")
        raise fail(origin, table, key, day, f"duplicate key: ({key}) = {tuple(values)} occurs {count} times "
                   f"({n_dup} duplicated key(s))", None, f"({key}) unique within the day")
    drops = [f"({r.bad})" for r in table.rules if r.drop]
    return " OR ".join(drops) if drops else "FALSE"


def dropped(conn, table: Table, relation: str, params: dict) -> dict[str, int]:
    """Rows each of the source pipeline's own filters drops (for the materialisation metadata)."""
    rules = [r for r in table.rules if r.drop]
    if not rules:
        return {}
    query = "SELECT " + ", ".join(f"count(*) FILTER (WHERE {r.bad})" for r in rules) + f" FROM {relation} r"
    counts = conn.rows(query, used(query, params))[0]
    return {f"{r.name}: {r.expected}": int(n) for r, n in zip(rules, counts)}


def used(sql: str, params: dict) -> dict:
    """The named parameters ``sql`` refers to (DuckDB rejects unused ones)."""
    return {k: v for k, v in params.items() if f"${k}" in sql}


def _first_failure(conn, table: Table, relation: str, day: dt.date, tests: list, params: dict, extra: str = "0"):
    """One scan counts the rows failing each test (and computes ``extra``, returned); the first failing test raises
    with an example row."""
    query = "SELECT " + ", ".join([f"count(*) FILTER (WHERE coalesce({t[2]}, false))" for t in tests] + [extra]) + \
        f" FROM {relation} r"
    *counts, extra_value = conn.rows(query, used(query, params))[0]
    for (col, problem, predicate, expected), count in zip(tests, counts):
        if count:
            query = f"SELECT * FROM {relation} r WHERE coalesce({predicate}, false) LIMIT 1"
            row = conn.polars(query, used(query, params))
            example = {k: v for k, v in row.row(0, named=True).items() if k != ORIGIN}
            value = f"{col.name} = {example[col.name]!r} in row {example}" if col else f"row {example}"
            raise fail(row[ORIGIN][0], table, col.name if col else None, day, problem, value, expected, count)
    return extra_value
