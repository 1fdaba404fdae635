"""README "Use your own logs", end to end: a folder of Parquet files (interactions only, as real logs are) is written
by `python -m feedtrain.export`, each location is pointed at it with environment variables only, and its assets run
from those files through the door: Real Graph raw -> labels -> train -> a model; Recap raw -> labels and features."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb

from conftest import D, Harness
from feedtrain import logsource


def export(location: str, out, days: int, *extra: str) -> str:
    done = subprocess.run([sys.executable, "-m", "feedtrain.export", location, str(out), "--days", str(days),
                           "--world", "tiny", "--interactions-only", *extra], capture_output=True, text=True, check=True)
    return done.stdout


def harness(home, location: str, defs, sql_dir, simulator) -> Harness:
    source = logsource.log_source(location)  # from FEEDTRAIN_<LOCATION>_SOURCE / _FILES, as dagster dev reads them
    h = Harness(home, defs, location, str(sql_dir / "schema.sql"), {"simulator": simulator, "log_source": source})
    return h


def test_realgraph_from_a_folder_of_parquet_files_to_a_model(feedtrain_home, monkeypatch):
    from realgraph_assets.definitions import defs
    from realgraph_assets.resources import SQL_DIR, RealGraphSimulator

    logs = feedtrain_home / "my_logs"
    assert "interaction_graph_labels_daily" in export("realgraph", logs, 39)
    assert sorted(p.name for p in logs.iterdir()) == ["interaction_graph_labels_daily"]  # interactions only
    quiet = logs / "interaction_graph_labels_daily" / f"ds={D(20)}.parquet"  # a day with no events: zero rows
    duckdb.execute(f"COPY (SELECT * FROM '{quiet}' LIMIT 0) TO '{quiet}.tmp' (FORMAT parquet)")
    Path(f"{quiet}.tmp").replace(quiet)
    monkeypatch.setenv("FEEDTRAIN_REALGRAPH_SOURCE", "files")
    monkeypatch.setenv("FEEDTRAIN_REALGRAPH_FILES", str(logs))
    # A different seed for the (unused) simulator: had it been read, the rows would not match the files.
    h = harness(feedtrain_home, "realgraph", defs, SQL_DIR, RealGraphSimulator(preset="tiny", seed=99))
    kind = h.resources["log_source"].kind
    assert isinstance(kind, dg.EnvVar) and kind.get_value() == "files"  # the UI shows it comes from the env var

    raw = h.materialize(["group:realgraph_sources"], D(0), D(38))
    meta = {m.asset_key.path[-1]: m.materialization.metadata for m in raw.get_asset_materialization_events()}
    assert meta["interaction_graph_labels_daily"]["source"].value == f"files under {logs}"
    files_rows = h.sql(f"SELECT count(*) FROM read_parquet('{logs}/*/*.parquet')")[0][0]
    assert h.sql("SELECT count(*) FROM interaction_graph_labels_daily")[0][0] == files_rows
    assert h.sql("SELECT count(*) FROM valid_user_follows")[0][0] == 0  # absent optional tables: empty, present
    h.materialize(["interaction_days"], D(0), D(38))
    assert h.sql("SELECT count(*) FROM interaction_days WHERE ds = ?", [D(20)])[0][0] == 0  # present, empty
    h.materialize(["tweeting_follows"], D(3), D(38))
    h.materialize(["candidates", "candidates_sampled"], D(30), D(38), config={"candidates_sampled": {"sample_percent": 100}})
    h.materialize(["labeled_candidates"], D(30), D(37))
    h.materialize(["train"], D(36))
    result = h.materialize(["boosted_trees"], D(36))
    assert result.success
    auc, = h.sql("SELECT auc FROM model_evaluations WHERE model = 'boosted_trees' AND ds = ?", [D(36)])[0]
    assert auc > 0.6  # a real signal learned from the files alone (no follows, tweets or oracle)

    # A re-delivered day is re-loaded: its version changes and the days built from it become stale.
    before = h.sql("SELECT version FROM feedtrain_ledger WHERE table_name = 'interaction_graph_labels_daily' "
                   "AND ds = ?", [D(36)])[0][0]
    day_file = logs / "interaction_graph_labels_daily" / f"ds={D(36)}.parquet"
    h.execute(f"COPY (SELECT * FROM read_parquet('{day_file}') LIMIT 10) TO '{day_file}' (FORMAT parquet)")
    h.materialize(["group:realgraph_sources"], D(36))
    after = h.sql("SELECT version FROM feedtrain_ledger WHERE table_name = 'interaction_graph_labels_daily' "
                  "AND ds = ?", [D(36)])[0][0]
    assert after != before
    stale = h.materialize(["interaction_days"], D(37), raise_on_error=False)  # unaffected day: fine
    assert stale.success
    again = h.materialize(["candidates"], D(36), raise_on_error=False)
    assert not again.success  # interaction_days of D(36) was built from the old delivery


def test_recap_from_a_folder_of_parquet_files_to_labels_and_features(feedtrain_home, monkeypatch):
    from recap_assets.definitions import defs
    from recap_assets.resources import SQL_DIR, RecapSimulator

    logs = feedtrain_home / "my_logs"
    export("recap", logs, 52)
    assert sorted(p.name for p in logs.iterdir()) == ["engagements", "impressions", "tweets"]
    monkeypatch.setenv("FEEDTRAIN_RECAP_SOURCE", "files")
    monkeypatch.setenv("FEEDTRAIN_RECAP_FILES", str(logs))
    h = harness(feedtrain_home, "recap", defs, SQL_DIR, RecapSimulator(preset="tiny", seed=99))
    h.materialize(["group:recap_sources", "user_days"], D(0), D(51))
    assert h.sql("SELECT count(*) FROM impressions")[0][0] == \
        h.sql(f"SELECT count(*) FROM read_parquet('{logs}/impressions/*.parquet')")[0][0]
    assert h.materialize(["impressions_labeled"], D(50)).success
    assert h.materialize(["impression_features"], D(50)).success
    labeled, positives = h.sql("SELECT count(*), sum(is_favorited) FROM impressions_labeled WHERE ds = ?", [D(50)])[0]
    features = h.sql("SELECT count(*) FROM impression_features WHERE ds = ?", [D(50)])[0][0]
    assert labeled == features > 0 and positives > 0


def test_the_new_days_sensor_requests_new_and_changed_days(feedtrain_home, monkeypatch):
    from realgraph_assets.sources import new_log_days

    logs = feedtrain_home / "my_logs"
    export("realgraph", logs, 2)
    source = logsource.LogSource(kind="files", path=str(logs))
    with dg.build_sensor_context(resources={"log_source": source}) as context:
        first = new_log_days(context)
        assert sorted(r.partition_key for r in first) == [D(0).isoformat(), D(1).isoformat()]
        context.update_cursor(context.cursor)
        assert list(new_log_days(context)) == []  # nothing new
        export("realgraph", logs, 1, "--first", D(1).isoformat(), "--seed", "3")  # D(1) re-delivered
        assert [r.partition_key for r in new_log_days(context)] == [D(1).isoformat()]
