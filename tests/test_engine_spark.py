"""The same assets on DuckDB and on local Spark (one JVM for the module): every layer of both locations equal, equal
hashes, day replacement and the gate on Spark, every statement the assets issued compiled for Spark and BigQuery,
and a local Spark Connect server serving two runs in one process.

The world (``feedtrain.engine.recording``): DuckDB builds ``RUNS``, both tiny locations through every layer (Real
Graph's raw logs, interaction_days, tweeting_follows, candidates, candidates_sampled, labeled_candidates[_explicit],
train[_explicit], the four models of the first model day and the champions; Recap's raw logs, user_days,
impression_features, impressions_labeled, the ten training sets, the twenty models of the first model day, the evaluations and the
champion). Spark builds ``SPARK_RUNS`` through the same assets: one day of every one of those layers (Recap's raw
logs and user_days two, so the features read a rollup day Spark built), each reading the Spark-built day of the layer
before it; the other days their windows read (31 event days, 7 labeled days, 50 days
of logs, 21 training days) are loaded from the DuckDB world with ``Engine.load_days``, because local Spark pays a job
per statement. Every table Spark built is compared on every day it built (``recording.compare_worlds``), and the
evaluation and champion tables whole: floats within a relative 1e-9 (the evaluation and champion tables' metrics within
1e-3: ``recording.EVALUATION_RTOL`` says why), everything else exactly, as sorted rows; the models are trained with
``recording.MODEL_CONFIG`` (20 boosting rounds) on both engines."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

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
    """The tiny world built on DuckDB (recording every statement), and its one day per layer built on Spark."""
    instance = dg.DagsterInstance.ephemeral()
    with pytest.MonkeyPatch.context() as mp:
        duck_home = tmp_path_factory.mktemp("duckdb_world")
        mp.setenv("FEEDTRAIN_HOME", str(duck_home))
        with recording.record() as statements:
            duck = recording.build_world(duck_home, "duckdb", recording.RUNS, instance)
        spark_home = tmp_path_factory.mktemp("spark_world")
        mp.setenv("FEEDTRAIN_HOME", str(spark_home))
        spark = recording.build_world(spark_home, "spark", recording.SPARK_RUNS, instance, loaded=duck)
    return duck, spark, statements


LAYERS = {  # every table of every layer, per location
    "realgraph": {"interaction_graph_labels_daily", "interaction_graph_agg_negative_edge_snapshot", "valid_user_follows",
                  "public_tweets", "planted_interaction_probability", "interaction_days", "tweeting_follows",
                  "candidates", "candidates_sampled", "labeled_candidates", "labeled_candidates_explicit", "train",
                  "train_explicit", "model_evaluations", "champion_decisions"},
    "recap": {"users", "follows", "tweets", "impressions", "engagements", "planted_engagement_probability", "user_days",
              "impression_features", "impressions_labeled", "train_favorited", "train_negative_feedback_v2",
              "model_evaluations", "ranking_evaluations", "champion_decisions"},
}


def test_every_layer_of_both_locations_is_equal_on_duckdb_and_spark(worlds):
    duck, spark, _ = worlds
    built = {schema: recording.built_days(recording.SPARK_RUNS, schema) for schema in duck}
    compared = recording.compare_worlds(duck, spark, only=built)
    for schema, tables in LAYERS.items():
        assert tables <= {t for s, t, _, _ in compared if s == schema}, schema
    evaluations = {(s, t): rows for s, t, _, rows in compared if t == "model_evaluations"}
    assert evaluations[("realgraph", "model_evaluations")] >= 4 and evaluations[("recap", "model_evaluations")] >= 20


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
        old = conn.content_hash("(SELECT * FROM tweeting_follows WHERE ds = DATE '%s')" % D(37).isoformat())
    # tweeting_follows of D(40) needs public_tweets of D(37)..D(40); D(39) on were never built: the gate fails
    result = materialize_days(defs, "realgraph", ["tweeting_follows"], D(40),
                              resources={**defs.resources, "warehouse": store}, raise_on_error=False)
    assert not result.success
    with store.connect() as conn:
        assert conn.present_days("tweeting_follows", [D(37), D(40)]) == {D(37)}
        assert conn.content_hash("(SELECT * FROM tweeting_follows WHERE ds = DATE '%s')" % D(37).isoformat()) == old


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
    distinct = {text: params for _, text, params in statements}  # each statement once, with one call's parameters
    for text, params in distinct.items():
        assert sql.transpile(text, "spark", params)
        assert bigquery.compile_statement(text, params)


CONNECT_TWICE = """
import datetime as dt, sys
from feedtrain.driver import materialize_days
from feedtrain.partitions import EVENTS_START
from realgraph_assets.definitions import defs
for day in (EVENTS_START, EVENTS_START + dt.timedelta(days=1)):
    materialize_days(defs, "realgraph", ["group:realgraph_sources"], day, log_level="WARNING")
from feedtrain.warehouse import Warehouse
from realgraph_assets.resources import SQL_DIR
warehouse = Warehouse(schema_name="realgraph", ddl_path=str(SQL_DIR / "schema.sql"), engine="spark",
                      spark_remote="local[2]")
with warehouse.connect() as conn:
    print(type(conn.spark).__module__, sorted(conn.present_days("interaction_graph_labels_daily",
                                                                [EVENTS_START, EVENTS_START + dt.timedelta(days=1)])))
"""


def test_a_local_spark_connect_server_serves_two_runs_in_one_process(tmp_path):
    """FEEDTRAIN_SPARK_REMOTE='local[2]': two dg.materialize runs in one process (a process of its own: this module's
    classic session would be taken for a foreign one) both open a Connect session and write their day."""
    env = {**os.environ, "FEEDTRAIN_HOME": str(tmp_path), "FEEDTRAIN_ENGINE": "spark", "FEEDTRAIN_WORLD": "tiny",
           "FEEDTRAIN_SPARK_REMOTE": "local[2]", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    out = subprocess.run([sys.executable, "-c", CONNECT_TWICE], env=env, capture_output=True, text=True, timeout=600,
                         check=False, cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == f"pyspark.sql.connect.session {[D(0), D(1)]}"
