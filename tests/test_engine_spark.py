"""The same assets on DuckDB and on local Spark (one JVM for the module): equal tables, equal hashes, day replacement
and the gate on Spark, and every statement the assets issued compiled for Spark and BigQuery.

What the tiny world covers on both engines (every table these runs write, every day): Real Graph's raw logs, its
interaction_days and tweeting_follows; Recap's raw logs and impressions_labeled. Floats are compared within 1e-9
(relative); everything else exactly, as sorted rows."""

import datetime as dt

import dagster as dg
import pyarrow as pa
import pytest

from feedtrain import hashing
from feedtrain.driver import materialize_days
from feedtrain.engine import bigquery, recording, sql
from feedtrain.engine import spark as spark_engine
from feedtrain.partitions import EVENTS_START

pytestmark = pytest.mark.spark
D = lambda offset: EVENTS_START + dt.timedelta(days=offset)  # noqa: E731


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    """The same tiny world built on DuckDB (recording every statement) and on Spark, in separate homes."""
    instance = dg.DagsterInstance.ephemeral()
    with pytest.MonkeyPatch.context() as mp:
        duck_home = tmp_path_factory.mktemp("duckdb_world")
        mp.setenv("FEEDTRAIN_HOME", str(duck_home))
        with recording.record() as statements:
            duck = recording.build_tiny_world(duck_home, "duckdb", instance)
        spark_home = tmp_path_factory.mktemp("spark_world")
        mp.setenv("FEEDTRAIN_HOME", str(spark_home))
        spark = recording.build_tiny_world(spark_home, "spark", instance)
    return duck, spark, statements


def test_both_engines_build_equal_tables_every_day(worlds):
    duck, spark, _ = worlds
    compared = recording.compare_worlds(duck, spark)
    assert {t for _, t, _, _ in compared} >= {"interaction_graph_labels_daily", "interaction_days", "tweeting_follows",
                                              "impressions", "engagements", "impressions_labeled"}


def test_hash_functions_are_equal_on_duckdb_and_spark(worlds):
    duck, spark, _ = worlds
    keys = pa.table({"k": ["", "a", "123_456", "9" * 40, "x" * 64, None]})
    got = {}
    for name, store in (("duckdb", duck["realgraph"]), ("spark", spark["realgraph"])):
        with store.connect() as conn:
            conn.register("hash_keys", keys)
            got[name] = conn.rows("SELECT k, farm_fingerprint(k), fingerprint_uniform(k) FROM hash_keys ORDER BY k")
    assert got["duckdb"] == got["spark"]
    present = [k for k in keys["k"].to_pylist() if k is not None]
    assert [r[1] for r in got["spark"] if r[0] is not None] == \
        list(hashing.fingerprint64(pa.array(sorted(present))))


def test_rerunning_a_spark_day_replaces_it(worlds, monkeypatch):
    _, spark, _ = worlds
    store = spark["realgraph"]
    with store.connect() as conn:
        before = conn.rows("SELECT count(*) FROM interaction_days WHERE ds = ?", [D(2)])[0][0]
        conn.register("extra", pa.table({"ds": pa.array([D(2)], pa.date32()), "source_id": [1], "destination_id": [2],
                                         "label_mask": pa.array([1], pa.int32())}))
        conn.stage("one_row", "SELECT * FROM extra")
        conn.replace_days(D(2), {"interaction_days": "one_row"})
        assert conn.rows("SELECT source_id, destination_id FROM interaction_days WHERE ds = ?", [D(2)]) == [(1, 2)]
        assert conn.present_days("interaction_days", [D(2)]) == {D(2)}
    monkeypatch.setenv("FEEDTRAIN_HOME", str(store.database).rsplit("/", 1)[0])
    from realgraph_assets.definitions import defs

    materialize_days(defs, "realgraph", ["interaction_days"], D(2), resources={**defs.resources, "warehouse": store})
    with store.connect() as conn:
        assert conn.scalar("SELECT count(*) FROM interaction_days WHERE ds = ?", [D(2)]) == before
        assert conn.scalar("SELECT count(*) FROM interaction_days WHERE ds = ? AND source_id = 1 AND destination_id = 2",
                           [D(2)]) == 0


def test_a_failing_check_on_spark_keeps_the_old_day(worlds):
    _, spark, _ = worlds
    store = spark["realgraph"]
    from realgraph_assets.definitions import defs

    with store.connect() as conn:
        old = conn.content_hash("(SELECT * FROM tweeting_follows WHERE ds = DATE '%s')" % D(3).isoformat())
    # tweeting_follows of D(4) needs public_tweets of D(1)..D(4); D(4) was never built: the gate fails, nothing written
    result = materialize_days(defs, "realgraph", ["tweeting_follows"], D(4),
                              resources={**defs.resources, "warehouse": store}, raise_on_error=False)
    assert not result.success
    with store.connect() as conn:
        assert conn.present_days("tweeting_follows", [D(3), D(4)]) == {D(3)}
        assert conn.content_hash("(SELECT * FROM tweeting_follows WHERE ds = DATE '%s')" % D(3).isoformat()) == old


def test_a_crash_between_data_and_ledger_leaves_the_day_absent(worlds, monkeypatch):
    _, spark, _ = worlds
    with spark["realgraph"].connect() as conn:
        conn.stage("same_day", "SELECT * FROM interaction_days WHERE ds = ?", [D(1)])
        original = spark_engine.SparkEngine._overwrite

        def crash_on_ledger(self, table, partition, select):
            if table == "feedtrain_ledger_inputs":
                raise RuntimeError("simulated crash")
            return original(self, table, partition, select)

        monkeypatch.setattr(spark_engine.SparkEngine, "_overwrite", crash_on_ledger)
        with pytest.raises(RuntimeError, match="simulated crash"):
            conn.replace_days(D(1), {"interaction_days": "same_day"})
        assert conn.present_days("interaction_days", [D(1)]) == set()
        monkeypatch.setattr(spark_engine.SparkEngine, "_overwrite", original)
        conn.replace_days(D(1), {"interaction_days": "same_day"})
        assert conn.present_days("interaction_days", [D(1)]) == {D(1)}


def test_every_statement_the_assets_issued_compiles_for_spark_and_bigquery(worlds):
    _, _, statements = worlds
    assert len(statements) > 50
    distinct = {(text, repr(params)): params for _, text, params in statements}
    for (text, _), params in distinct.items():
        assert sql.transpile(text, "spark", params)
        assert bigquery.compile_statement(text, params)
