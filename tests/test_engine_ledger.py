"""The core interface: hash functions in SQL equal the NumPy ones; the ledger's present / current rule."""

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from feedtrain import checks, hashing, ledger
from feedtrain.warehouse import Warehouse

D1, D2 = dt.date(2026, 6, 1), dt.date(2026, 6, 2)


@pytest.fixture
def engine(tmp_path):
    ddl = tmp_path / "schema.sql"
    ddl.write_text("CREATE TABLE IF NOT EXISTS up (k BIGINT, ds DATE);"
                   "CREATE TABLE IF NOT EXISTS down (k BIGINT, ds DATE);")
    with Warehouse(database=str(tmp_path / "w.duckdb"), schema_name="t", ddl_path=str(ddl)).connect() as conn:
        yield conn


def write(engine, table, day, keys, inputs=None):
    engine.register("rows_arrow", pa.table({"k": pa.array(keys, pa.int64()), "ds": pa.array([day] * len(keys))}))
    engine.stage("staged", "SELECT * FROM rows_arrow")
    return engine.replace_days(day, {table: "staged"}, inputs)


def test_sql_hash_functions_equal_the_numpy_ones(engine):
    ids = pa.array([0, 1, -5, 2**62, 9_223_372_036_854_775_807, -9_223_372_036_854_775_808], pa.int64())
    engine.register("ids", pa.table({"a": ids, "b": ids}))
    got = engine.arrow("SELECT farm_fingerprint(a::VARCHAR || '_' || b::VARCHAR) AS fp, "
                       "fingerprint_uniform(a::VARCHAR || '_' || b::VARCHAR || '_' || 3::VARCHAR) AS u FROM ids")
    assert got["fp"].to_pylist() == hashing.fingerprint64(hashing.pair_key(ids, ids)).tolist()
    assert np.array_equal(got["u"].to_numpy(), hashing.uniform(ids, ids, pa.array([3] * len(ids))))
    assert engine.scalar("SELECT farm_fingerprint('12345_67890')") == -2343707944651719593  # BigQuery's value


def test_a_day_is_present_only_when_committed_whole(engine):
    write(engine, "up", D1, [1, 2, 3])
    write(engine, "up", D2, [])  # delivered with no rows: present
    assert ledger.day_status(engine, "up", [D1, D2, D2 + dt.timedelta(days=1)]) == {
        D1: ledger.PRESENT, D2: ledger.PRESENT, D2 + dt.timedelta(days=1): ledger.MISSING}
    engine.execute("DELETE FROM up WHERE k = 3")  # a day that lost rows
    engine.execute("INSERT INTO down VALUES (1, ?)", [D1])  # rows written behind the ledger's back
    assert ledger.day_status(engine, "up", [D1])[D1] == ledger.INCOMPLETE
    assert ledger.day_status(engine, "down", [D1])[D1] == ledger.UNRECORDED
    result = checks.upstream_days_present(engine, {"up": [D1], "down": [D1]})
    assert not result.passed
    assert "up incomplete: 2026-06-01" in result.description and "down written outside the ledger" in result.description


def test_a_failed_write_changes_neither_data_nor_ledger(engine):
    write(engine, "up", D1, [1, 2])
    engine.register("bad", pa.table({"k": pa.array([1, 2]), "other": pa.array([0, 0])}))
    engine.stage("staged_bad", "SELECT k, other FROM bad")
    with pytest.raises(ValueError, match="lack column"):
        engine.replace_days(D1, {"up": "staged_bad"})
    assert ledger.day_status(engine, "up", [D1])[D1] == ledger.PRESENT
    assert engine.scalar("SELECT count(*) FROM up") == 2


def test_a_day_built_from_a_changed_upstream_day_is_stale(engine):
    write(engine, "up", D1, [1, 2])
    read = checks.upstream_days_present(engine, {"up": [D1]})
    write(engine, "down", D1, [1], checks.input_versions([read]))
    assert checks.upstream_days_present(engine, {"down": [D1]}).passed
    write(engine, "up", D1, [1, 2])  # same content again: still current
    assert checks.upstream_days_present(engine, {"down": [D1]}).passed
    write(engine, "up", D1, [1, 2, 3])  # new content: down's day is stale
    result = checks.upstream_days_present(engine, {"down": [D1]})
    assert not result.passed
    assert "down 2026-06-01 is stale: built from up 2026-06-01" in result.description
    assert "re-run down for 2026-06-01" in result.description


def test_a_warehouse_from_older_code_gains_the_new_columns_and_keeps_its_rows(tmp_path):
    """Upgrading feedtrain on a live warehouse: a column the DDL added since appears (NULL on the stored days, so the
    null_rates check names them until they are rebuilt); stored rows and the ledger are untouched."""
    ddl = tmp_path / "schema.sql"
    store = Warehouse(database=str(tmp_path / "w.duckdb"), schema_name="t", ddl_path=str(ddl))
    ddl.write_text("CREATE TABLE IF NOT EXISTS up (k BIGINT, ds DATE);")
    with store.connect() as conn:
        version = write(conn, "up", D1, [1, 2])["up"]
    ddl.write_text("CREATE TABLE IF NOT EXISTS up (k BIGINT, decayed DOUBLE, ds DATE);")
    with store.connect() as conn:
        assert [c for c, _ in conn.table_columns("up")] == ["k", "ds", "decayed"]
        assert conn.rows("SELECT k, decayed FROM up ORDER BY k") == [(1, None), (2, None)]
        assert conn.present_days("up", [D1]) == {D1}
        assert conn.scalar("SELECT version FROM feedtrain_ledger WHERE table_name = 'up'") == version
