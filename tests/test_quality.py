"""Data-quality checks beyond existence (feedtrain/quality.py): schema contract, key uniqueness, null rates, drift
against the trailing days (a warning by default, blocking when configured), and freshness checks on the raw sources."""

import numpy as np
import polars as pl

from conftest import D
from realgraph_assets.models import FEATURES


def labeled_days(first: int, last: int, plant: dict | None = None, rows: int = 3000):
    """Random labeled candidates for days D(first)..D(last); ``plant`` maps a day offset to a column multiplier."""
    frames = []
    for offset in range(first, last + 1):
        rng = np.random.default_rng(offset)
        frame = pl.DataFrame({
            "source_id": rng.integers(0, 10**6, rows), "destination_id": rng.integers(0, 10**6, rows),
            "label": (rng.random(rows) < 0.2).astype(np.int32),
            **{f: rng.integers(0, 31, rows) for f in FEATURES[2:]}, "ds": [D(offset)] * rows})
        for column, factor in (plant or {}).get(offset, {}).items():
            frame = frame.with_columns((pl.col(column) * factor).cast(frame[column].dtype))
        frames.append(frame)
    return pl.concat(frames)


def checks_of(result, asset="train"):
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key.path[-1] == asset}


def test_every_derived_day_reports_its_quality_checks_and_drift_warns(realgraph, monkeypatch):
    h = realgraph
    h.write_days("labeled_candidates", labeled_days(30, 39, plant={39: {"num_tweets": 100}}))
    result = h.materialize(["train"], D(36), D(38))
    assert result.success
    first = checks_of(result)
    assert {"schema_contract", "unique_key", "null_rates", "drift"} <= set(first)
    assert all(first[c].passed for c in ("schema_contract", "unique_key", "null_rates", "drift"))

    # Day 39's window holds one day whose num_tweets were multiplied by 100: drift warns, the day is still written.
    result = h.materialize(["train"], D(39))
    assert result.success
    drift = checks_of(result)["drift"]
    assert not drift.passed and drift.severity.value == "WARN"
    assert "num_tweets" in drift.description and "num_days" not in drift.description
    assert h.sql("SELECT count(*) FROM train WHERE ds = ?", [D(39)])[0][0] > 0

    # Configured blocking, the same day fails and keeps its previous version.
    before = h.sql("SELECT count(*), sum(hash(t)) FROM train t WHERE ds = ?", [D(39)])
    monkeypatch.setenv("FEEDTRAIN_BLOCKING_DRIFT", "1")
    result = h.materialize(["train"], D(39), config={"train": {"seed": 3}}, raise_on_error=False)
    assert not result.success
    assert checks_of(result)["drift"].severity.value == "ERROR"
    assert h.sql("SELECT count(*), sum(hash(t)) FROM train t WHERE ds = ?", [D(39)]) == before


def test_positive_rate_drift_key_duplicates_nulls_and_schema_are_caught(realgraph):
    from feedtrain import quality
    from realgraph_assets.location import QUALITY

    h = realgraph
    h.write_days("labeled_candidates", labeled_days(30, 36))
    contract = QUALITY["labeled_candidates"]
    with h.warehouse.connect() as conn:
        def evaluate(select):
            conn.stage("staged_day", f"SELECT * REPLACE (DATE '{D(37)}' AS ds) FROM ({select})")
            return {r.check_name: r for r in quality.evaluate(conn, "labeled_candidates", "staged_day", D(37), contract)}

        day36 = f"SELECT * FROM labeled_candidates WHERE ds = DATE '{D(36)}'"
        assert all(r.passed for r in evaluate(day36).values())
        rate = evaluate(f"SELECT * REPLACE (CASE WHEN source_id % 2 = 0 THEN 1 ELSE label END AS label) FROM ({day36})")
        assert not rate["drift"].passed and "label" in rate["drift"].metadata["drifted"].value
        dup = evaluate(f"{day36} UNION ALL (SELECT * FROM ({day36}) LIMIT 1)")
        assert not dup["unique_key"].passed and "1 duplicated (source_id, destination_id)" in dup["unique_key"].description
        nulls = evaluate(f"SELECT * REPLACE (CASE WHEN source_id % 10 = 0 THEN NULL ELSE num_days END AS num_days) "
                         f"FROM ({day36})")
        assert not nulls["null_rates"].passed and "num_days" in nulls["null_rates"].description
        schema = evaluate(f"SELECT * REPLACE (num_days::VARCHAR AS num_days) FROM ({day36})")
        assert not schema["schema_contract"].passed
        assert "num_days is VARCHAR, the table has BIGINT" in schema["schema_contract"].description


def test_raw_sources_have_freshness_checks_and_a_stopped_sensor():
    import dagster as dg

    from realgraph_assets.definitions import defs as realgraph
    from recap_assets.definitions import defs as recap

    for defs, location, source in ((realgraph, "realgraph", "interaction_graph_labels_daily"),
                                   (recap, "recap", "impressions")):
        checked = {k.asset_key.path[-1]: k.name for c in defs.asset_checks for k in c.check_keys}
        assert checked[source] == "freshness_check"
        [sensor] = [s for s in defs.sensors if s.name == f"{location}_freshness"]
        assert sensor.default_status == dg.DefaultSensorStatus.STOPPED


def test_drift_keeps_each_committed_days_means_and_never_reuses_a_replaced_days(realgraph):
    """The trailing means are computed once per committed version (feedtrain_column_means): a second check reads
    them instead of the table, and a day re-committed with other rows is measured again."""
    from feedtrain import quality
    from realgraph_assets.location import QUALITY

    h = realgraph
    h.write_days("labeled_candidates", labeled_days(30, 36))
    kept = "SELECT count(DISTINCT ds), count(*) FROM feedtrain_column_means WHERE table_name = 'labeled_candidates'"
    with h.warehouse.connect() as conn:
        def drift_of_day_37():
            conn.stage("staged_day", f"SELECT * REPLACE (DATE '{D(37)}' AS ds) FROM labeled_candidates "
                                     f"WHERE ds = DATE '{D(36)}'")
            results = quality.evaluate(conn, "labeled_candidates", "staged_day", D(37), QUALITY["labeled_candidates"])
            return next(r for r in results if r.check_name == "drift")

        assert drift_of_day_37().passed
        days, rows = conn.rows(kept)[0]
        assert days == 7 and rows > 7
        conn.execute("DELETE FROM labeled_candidates WHERE ds < ?", [D(37)])  # only the kept means can answer now
        conn.execute("INSERT INTO labeled_candidates SELECT * FROM staged_day")  # (rows outside the ledger: unread)
        drift = drift_of_day_37()
        assert drift.passed and "trailing 7 days" in drift.description
        assert conn.rows(kept)[0] == (days, rows)
        conn.execute("DELETE FROM labeled_candidates")

    # Every trailing day re-committed with num_tweets x100: new versions, so the kept means of the old ones are unused
    # and the (old-level) day 37 drifts against the new level.
    h.write_days("labeled_candidates", labeled_days(30, 36, plant={d: {"num_tweets": 100} for d in range(30, 37)}))
    h.write_days("labeled_candidates", labeled_days(36, 36).with_columns(ds=pl.lit(D(37))))
    with h.warehouse.connect() as conn:
        conn.stage("staged_day", f"SELECT * FROM labeled_candidates WHERE ds = DATE '{D(37)}'")
        results = quality.evaluate(conn, "labeled_candidates", "staged_day", D(37), QUALITY["labeled_candidates"])
        drift = next(r for r in results if r.check_name == "drift")
        assert not drift.passed and "num_tweets" in drift.description
