"""Portable SQL: the SQL files (and inline statements) are written in DuckDB's dialect, restricted to a subset that
sqlglot translates faithfully, and transpiled per engine.

sqlglot translates most of DuckDB's SQL, but some constructs it mistranslates silently or passes through verbatim
(measured with sqlglot 30.31): ``epoch_ms(ts)`` becomes its inverse ``TIMESTAMP_MILLIS``, ``list(x ORDER BY y)`` loses
its order on Spark (rewritten here as a sort of (y, x) structs), ``len(array)`` becomes a string ``LENGTH``, ``ASOF JOIN`` and ``INSERT ... BY NAME`` are copied
unchanged, and an unknown function (``to_hours``) is copied as is. ``lint`` names every such construct; the tests run
it over every SQL file and every statement the assets issue, so a new one fails CI instead of a Spark job.

Parameters: DuckDB binds ``$name`` and ``?`` natively. For the other engines ``transpile`` replaces each by a typed
literal of its value (``DATE '2024-01-01'``, numbers, strings) before generating, so the statement is self-contained.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import sqlglot
from sqlglot import ErrorLevel, exp

DIALECTS = ("duckdb", "spark", "bigquery")

# Functions sqlglot does not model but that exist with the same meaning on every engine (or are ours: engine UDFs).
PORTABLE_UNKNOWN_FUNCTIONS = {"farm_fingerprint", "fingerprint_uniform", "bit_count"}

# Spelled in DuckDB, translated wrongly or not at all (see the module docstring); the hint says what to write instead.
_FORBIDDEN_FUNCTIONS = {
    "epoch_ms": "date_diff('millisecond', a, b) for a difference",
    "epoch": "date_diff('second', a, b) for a difference",
    "epoch_us": "date_diff('microsecond', a, b) for a difference",
    "len": "array_length(x) for an array",
    "to_hours": "INTERVAL (n) HOUR", "to_minutes": "INTERVAL (n) MINUTE", "to_days": "INTERVAL (n) DAY",
}


class NotPortable(ValueError):
    """A statement uses a construct that does not translate faithfully to every engine."""


def parse(sql: str) -> list[exp.Expression]:
    """The statements of ``sql`` (DuckDB dialect); raises on anything sqlglot cannot parse."""
    statements = sqlglot.parse(sql, read="duckdb", error_level=ErrorLevel.RAISE)
    return [e for e in statements if e is not None and not isinstance(e, exp.Semicolon)]  # a comment after a ";"


def lint(sql: str) -> list[str]:
    """Constructs of ``sql`` that would be mistranslated or passed through verbatim; [] if it is portable."""
    problems = []
    for statement in parse(sql):
        for node in statement.walk():
            if isinstance(node, exp.Join) and (node.args.get("method") or "").upper() == "ASOF":
                problems.append("ASOF JOIN (use a window over the union of events and probes)")
            elif isinstance(node, exp.Insert) and node.args.get("by_name"):
                problems.append("INSERT ... BY NAME (list the columns; Engine.replace_days/replace_rows do)")
            elif isinstance(node, exp.Union) and node.args.get("by_name"):
                problems.append("UNION BY NAME (list the columns in the same order)")
            elif isinstance(node, exp.Star) and (node.args.get("except_") or node.args.get("except")):
                problems.append("SELECT * EXCLUDE (...) (Spark has no * EXCEPT: list the columns)")
            elif isinstance(node, exp.Qualify) and node.find(exp.Window) and isinstance(node.parent, exp.Select) \
                    and any(isinstance(p, exp.Star) for p in node.parent.expressions):
                problems.append("QUALIFY over a window function with * in the select list (name the window's "
                                "column in the select list and QUALIFY on that name)")
            elif isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order) and not _one_ascending_key(node):
                problems.append("an ordered aggregate list(x ORDER BY y) other than one ascending key NULLS FIRST")
            elif isinstance(node, exp.Anonymous) and node.name.lower() not in PORTABLE_UNKNOWN_FUNCTIONS:
                name = node.name.lower()
                hint = _FORBIDDEN_FUNCTIONS.get(name, "not modelled by sqlglot, copied verbatim")
                problems.append(f"function {name}() ({hint})")
    # Functions sqlglot parses into a different meaning (so they are not Anonymous above): found in the text.
    for name, hint in _FORBIDDEN_FUNCTIONS.items():
        if re.search(rf"(?<![\w.]){name}\s*\(", _strip_comments(sql), re.IGNORECASE):
            problems.append(f"function {name}() ({hint})")
    return sorted(set(problems))


def _one_ascending_key(agg: exp.ArrayAgg) -> bool:
    """One ascending key with NULLS FIRST spelled out (BigQuery's default; DuckDB's is NULLS LAST)."""
    keys = agg.this.expressions
    return len(keys) == 1 and not keys[0].args.get("desc") and bool(keys[0].args.get("nulls_first"))


def _ordered_lists_for_spark(node: exp.Expression) -> exp.Expression:
    """``list(v ORDER BY k)``: sqlglot writes Spark's COLLECT_LIST without the order (collect_list keeps none), so
    sort (k, v) structs and keep v."""
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        value, key = node.this.this.sql("spark"), node.this.expressions[0].this.sql("spark")
        return sqlglot.parse_one(f"TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT({key} AS k, {value} AS v))), x -> x.v)",
                                 read="spark")
    return node


def _qualify_as_subquery(node: exp.Expression) -> exp.Expression:
    """``QUALIFY`` (Spark has none): sqlglot filters a subquery but repeats the projection around it, so with a ``*``
    in it every named column comes twice (``SELECT rn, *, ds FROM (SELECT ... AS rn, *, ... AS ds ...)``). Keep the
    query whole and filter its own columns instead: ``SELECT * FROM (query) WHERE condition``; the condition names
    output columns (lint forbids a window function in it next to a ``*``), ORDER BY / LIMIT / OFFSET apply after it."""
    if not isinstance(node, exp.Select) or not node.args.get("qualify") or node.args["qualify"].find(exp.Window):
        return node
    inner = node.copy()
    condition = inner.args["qualify"].this.pop()
    moved = {arg: inner.args.get(arg) for arg in ("with_", "order", "limit", "offset")}
    for arg in (*moved, "qualify"):
        inner.set(arg, None)
    outer = exp.select("*").from_(inner.subquery("_qualified")).where(condition)
    for arg, value in moved.items():
        outer.set(arg, value)
    return outer


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def literal(value) -> exp.Expression:
    """A typed SQL literal of a Python value (what a bound parameter would have been)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(repr(value) if isinstance(value, float) else value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise TypeError(f"cannot inline a parameter of type {type(value).__name__}: {value!r}")


def bind(statement: exp.Expression, params: dict | Sequence | None) -> exp.Expression:
    """``statement`` with every ``$name`` / ``?`` replaced by the literal of its value."""
    if not params:
        if statement.find(exp.Placeholder):
            raise ValueError(f"statement has parameters but none were given: {statement.sql('duckdb')[:200]}")
        return statement
    positional = iter(params) if not isinstance(params, dict) else None

    def replace(node):
        if isinstance(node, exp.Placeholder):
            if positional is not None:
                return literal(next(positional))
            if node.name not in params:
                raise KeyError(f"parameter ${node.name} has no value (given: {sorted(params)})")
            return literal(params[node.name])
        return node

    bound = statement.copy().transform(replace)
    # DuckDB needs parentheses around a bound INTERVAL count (INTERVAL ($n) HOUR); Spark rejects them around a literal.
    for interval in bound.find_all(exp.Interval):
        if isinstance(interval.this, exp.Paren) and isinstance(interval.this.this, exp.Literal):
            interval.set("this", interval.this.this)
    return bound


def transpile(sql: str, dialect: str, params: dict | Sequence | None = None) -> list[str]:
    """The statements of ``sql`` in ``dialect`` with parameters inlined; raises ``NotPortable`` on constructs that
    would not mean the same there and sqlglot's own error on anything it cannot generate."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r} (one of {DIALECTS})")
    problems = lint(sql)
    if problems:
        raise NotPortable(f"not portable to {dialect}: {'; '.join(problems)}\n{sql[:400]}")
    return [generate(s, dialect, params) for s in parse(sql)]


def generate(statement: exp.Expression, dialect: str, params: dict | Sequence | None = None) -> str:
    """One parsed statement in ``dialect`` with its parameters inlined (call ``lint`` on its text first)."""
    bound = bind(statement, params)
    if dialect == "spark":
        bound = bound.transform(_ordered_lists_for_spark).transform(_qualify_as_subquery)
    return bound.sql(dialect, unsupported_level=ErrorLevel.RAISE, comments=False)


def load(sql_dir: Path, name: str) -> str:
    """A location's SQL file ``<sql_dir>/<name>.sql`` (the DuckDB-dialect source of truth)."""
    return (Path(sql_dir) / f"{name}.sql").read_text()


def table_ddl(ddl: str, dialect: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(table, [(column, type in ``dialect``)]) of each CREATE TABLE of a DuckDB DDL file, in order; ``CREATE TABLE x
    AS SELECT * FROM y LIMIT 0`` copies y's columns. Constraints (NOT NULL) are left out."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for create in parse(ddl):
        if not isinstance(create, exp.Create) or create.kind != "TABLE":
            raise ValueError(f"DDL may only CREATE TABLE: {create.sql('duckdb')[:200]}")
        name = create.this.this.name if isinstance(create.this, exp.Schema) else create.this.name
        if isinstance(create.this, exp.Schema):
            tables[name] = [(c.name, c.args["kind"].sql(dialect)) for c in create.this.expressions
                            if isinstance(c, exp.ColumnDef)]
        else:
            source = create.expression.find(exp.Table).name
            tables[name] = list(tables[source])
    return list(tables.items())
