"""Portable SQL: every SQL file of both locations is in the subset sqlglot translates faithfully, and compiles for
Spark and BigQuery with unsupported constructs raising. (Every statement the assets issue at run time, inline ones
included, is compiled in tests/test_engine_spark.py from a recorded DuckDB run.)"""

import datetime as dt
import os
from pathlib import Path

import pytest

from feedtrain.engine import sql

ROOT = Path(__file__).resolve().parent.parent
SQL_FILES = sorted(ROOT.glob("*_assets/sql/*.sql"))


def file_text(path: Path) -> str:
    if path.name == "impressions_labeled.sql":  # its label columns are generated from the heads table
        from recap_assets.labels import label_sql
        return label_sql()
    return path.read_text()


def test_every_location_has_sql_files():
    assert {p.parent.parent.name for p in SQL_FILES} == {"realgraph_assets", "recap_assets"}


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_sql_file_is_portable(path):
    assert sql.lint(file_text(path)) == []


@pytest.mark.parametrize("dialect", ["spark", "bigquery"])
@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_sql_file_compiles(path, dialect):
    text = file_text(path)
    names = {p.name for s in sql.parse(text) for p in s.find_all(sql.exp.Placeholder)}
    params = {n: dt.date(2026, 7, 21) if n == "ds" else 3 for n in names}
    out = sql.transpile(text, dialect, params)
    assert out and all("$" not in s and "?" not in s for s in out)


@pytest.mark.parametrize("bad, named", [
    ("SELECT epoch_ms(ts) FROM t", "epoch_ms"),
    ("SELECT list(x ORDER BY y DESC) FROM t", "ordered aggregate"),
    ("SELECT list(x ORDER BY y, z) FROM t", "ordered aggregate"),
    ("SELECT list(x ORDER BY y) FROM t", "ordered aggregate"),
    ("SELECT a FROM t ASOF LEFT JOIN u ON u.k = t.k AND t.ts > u.ts", "ASOF"),
    ("INSERT INTO t BY NAME SELECT * FROM u", "BY NAME"),
    ("SELECT len(labels) FROM t", "len"),
    ("SELECT ts - to_hours(3) FROM t", "to_hours"),
    ("SELECT some_duckdb_only_function(x) FROM t", "copied verbatim"),
    ("SELECT *, row_number() OVER (ORDER BY a) AS rn FROM t QUALIFY row_number() OVER (ORDER BY a) < 3", "QUALIFY"),
])
def test_lint_names_constructs_that_do_not_translate(bad, named):
    problems = sql.lint(bad)
    assert any(named in p for p in problems), problems
    with pytest.raises(sql.NotPortable, match="not portable to spark"):
        sql.transpile(bad, "spark")


def test_qualify_keeps_each_column_once_on_spark():
    """Spark has no QUALIFY; sqlglot's rewrite repeats a * projection around its subquery (every named column twice,
    as candidates.sql's ``rn, *, ds`` came out): the filter must go around the whole query instead. Checked by
    running both spellings on DuckDB, which reads the Spark output too."""
    import duckdb

    query = ("WITH t AS (SELECT * FROM (VALUES (0), (1), (2), (3), (4), (5)) v(a)) SELECT row_number() OVER (ORDER BY a DESC) AS rn, *, 7 AS ds "
             "FROM t QUALIFY rn <= 3 ORDER BY a LIMIT 2")
    (spark_sql,) = sql.transpile(query, "spark")
    native, rewritten = duckdb.sql(query), duckdb.sql(spark_sql)
    assert rewritten.columns == native.columns == ["rn", "a", "ds"]
    assert rewritten.fetchall() == native.fetchall() == [(3, 3, 7), (2, 4, 7)]


def test_parameters_become_typed_literals():
    out = sql.transpile("SELECT * FROM t WHERE ds = $ds AND name = $name", "bigquery",
                        {"ds": dt.date(2026, 7, 21), "name": "o'k"})[0]
    assert "CAST('2026-07-21' AS DATE)" in out and "'o\\'k'" in out
    positional = sql.transpile("SELECT * FROM t WHERE ds = ? AND n < ?", "spark", [dt.date(2026, 7, 21), 3])[0]
    assert positional.endswith("ds = CAST('2026-07-21' AS DATE) AND n < 3")
    with pytest.raises(KeyError, match=r"\$ds"):
        sql.transpile("SELECT $ds", "spark", {"day": 1})


def test_bigquery_tables_are_partitioned_by_day_and_the_hash_is_native():
    from feedtrain.engine import bigquery
    from feedtrain.ledger import DDL

    ddl = bigquery.table_ddl("realgraph", DDL + (ROOT / "realgraph_assets/sql/schema.sql").read_text())
    assert all(s.startswith("CREATE TABLE IF NOT EXISTS realgraph.") and "PARTITION BY ds" in s for s in ddl)
    assert any("CREATE TABLE IF NOT EXISTS realgraph.candidates_sampled PARTITION BY ds AS SELECT" in s for s in ddl)
    (uniform,) = bigquery.compile_statement("SELECT fingerprint_uniform(k), farm_fingerprint(k) FROM t")
    assert "FARM_FINGERPRINT(k) >> 11" in uniform and "fingerprint_uniform" not in uniform.lower()


def test_the_engine_is_chosen_by_configuration(monkeypatch, tmp_path):
    import dagster as dg

    from feedtrain.warehouse import Warehouse, engine_settings

    monkeypatch.delenv("FEEDTRAIN_ENGINE", raising=False)
    assert engine_settings() == {}
    monkeypatch.setenv("FEEDTRAIN_ENGINE", "spark")
    assert engine_settings() == {"engine": dg.EnvVar("FEEDTRAIN_ENGINE")}
    wrong = Warehouse(database=str(tmp_path / "x.duckdb"), schema_name="x", ddl_path=str(tmp_path / "none.sql"),
                      engine="postgres")
    with pytest.raises(ValueError, match="FEEDTRAIN_ENGINE"):
        with wrong.connect():
            pass


def test_assets_show_the_configured_engine_as_their_kind():
    """The warehouse assets' kind tag is the engine FEEDTRAIN_ENGINE picks (read when the definitions load): here as
    this process has it, and in a process started with FEEDTRAIN_ENGINE=spark."""
    import subprocess
    import sys

    from feedtrain.warehouse import engine_kind

    probe = ("from realgraph_assets.definitions import defs as r\nfrom recap_assets.definitions import defs as c\n"
             "print(sorted({k for d in (r, c) for s in d.resolve_asset_graph().asset_nodes for k in s.kinds}))")
    out = subprocess.run([sys.executable, "-c", probe], env={**os.environ, "FEEDTRAIN_ENGINE": "spark"},
                         capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip().splitlines()[-1] == str(["lightgbm", "sklearn", "spark"])
    from realgraph_assets.definitions import defs

    assert engine_kind() == (os.environ.get("FEEDTRAIN_ENGINE") or "duckdb")
    assert {k for s in defs.resolve_asset_graph().asset_nodes for k in s.kinds} == {engine_kind(), "lightgbm", "sklearn"}
