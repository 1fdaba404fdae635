"""A blocked asset never lets a sibling's or dependant's day be built from a mix of versions (docs/consistency.md).

Real Graph: ``labeled_candidates`` and ``labeled_candidates_explicit`` both read ``candidates_sampled``. When the
candidates of a day change, the sample must be rebuilt before either label table may use it; and when the sample is
rebuilt and only one label table commits (the other blocked by its check), the blocked one's dependants must refuse
the day, naming it, instead of training on labels of the old sample."""

import datetime as dt

from conftest import D

T = D(36)  # the first train day: labeled days [T-6, T]
SAMPLE_ALL = {"candidates_sampled": {"sample_percent": 100}}


def build_to_train(h):
    last = T + dt.timedelta(days=1)
    h.materialize(["group:realgraph_sources"], D(0), last)
    h.materialize(["interaction_days"], D(0), last)
    h.materialize(["tweeting_follows"], D(3), T)
    h.materialize(["candidates", "candidates_sampled"], D(30), T, config=SAMPLE_ALL)
    h.materialize(["labeled_candidates", "labeled_candidates_explicit"], D(30), T)
    assert h.materialize(["train", "train_explicit"], T).success


def failed(result) -> dict[str, str]:
    """Blocking failures by asset (a narrower top-K also moves feature means: the drift check warns, not blocks)."""
    return {e.asset_key.path[-1]: e.description for e in result.get_asset_check_evaluations()
            if not e.passed and e.severity.value == "ERROR"}


def content(h, table: str, day: dt.date):
    return h.sql(f"SELECT count(*), sum(hash(t)) FROM {table} t WHERE ds = ?", [day])[0]


def test_a_blocked_sibling_makes_its_dependants_refuse_the_day(realgraph):
    h = realgraph
    build_to_train(h)
    before = {t: content(h, t, T) for t in ("labeled_candidates_explicit", "train", "train_explicit")}

    # The candidates of T change (a narrower top-K). Until the sample is rebuilt, labels must not read it.
    assert h.materialize(["candidates"], T, config={"candidates": {"max_candidates_per_source": 3}}).success
    result = h.materialize(["labeled_candidates"], T, raise_on_error=False)
    assert not result.success
    assert f"candidates_sampled {T} is stale: built from candidates {T}" in failed(result)["labeled_candidates"]

    # The sample is rebuilt; the any-label table commits, the explicit one is blocked by its positive-rate band.
    assert h.materialize(["candidates_sampled"], T, config=SAMPLE_ALL).success
    result = h.materialize(["labeled_candidates", "labeled_candidates_explicit"], T, raise_on_error=False,
                           config={"labeled_candidates_explicit": {"min_positive_rate": 0.99}})
    assert set(failed(result)) == {"labeled_candidates_explicit"}
    assert content(h, "labeled_candidates_explicit", T) == before["labeled_candidates_explicit"]  # old version kept

    # train (any label) is rebuilt from the new labels; train_explicit refuses labels of the old sample, naming the day
    # and what to re-run, and keeps its previous version.
    assert h.materialize(["train"], T).success
    assert content(h, "train", T) != before["train"]
    result = h.materialize(["train_explicit"], T, raise_on_error=False)
    assert not result.success
    message = failed(result)["train_explicit"]
    assert f"labeled_candidates_explicit {T} is stale: built from candidates_sampled {T}" in message
    assert f"re-run labeled_candidates_explicit for {T}" in message
    assert content(h, "train_explicit", T) == before["train_explicit"]

    # Once the blocked day is rebuilt from the new sample, its dependants may use it again.
    assert h.materialize(["labeled_candidates_explicit"], T).success
    assert h.materialize(["train_explicit"], T).success


# -- Dagster's view of the ledger -------------------------------------------------------------------------------------
def materializations(instance, key, days):
    import dagster as dg

    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[d.isoformat() for d in days]), limit=100).records
    latest = {}
    for r in sorted(records, key=lambda r: r.storage_id):
        latest[r.asset_materialization.partition] = r.asset_materialization
    return latest


def test_each_day_of_a_range_run_carries_its_own_figures_and_versions(realgraph):
    from feedtrain import ledger
    from realgraph_assets.definitions import defs

    h = realgraph
    days = [D(0), D(1), D(2)]
    h.materialize(["group:realgraph_sources"], D(0), D(2))
    h.materialize(["interaction_days"], D(0), D(2))  # one run, three days
    key = h.defs.get_assets_def(["realgraph", "interaction_days"]).key
    mats = materializations(h.instance, key, days)
    with h.warehouse.connect() as conn:
        rows = dict(conn.rows("SELECT ds, rows FROM feedtrain_ledger WHERE table_name = 'interaction_days'"))
        versions = ledger.versions(conn, "interaction_days", days)
    assert len(set(rows.values())) == 3  # the days differ, so each day's figures must be its own
    for day in days:
        meta = mats[day.isoformat()].metadata
        assert meta["dagster/row_count"].value == rows[day]
        assert meta["data_version"].value == versions[day]
    # A one-day run: Dagster's data version of the day is the ledger's content version (the UI's staleness uses it).
    h.materialize(["interaction_days"], D(1))
    mat = materializations(h.instance, key, [D(1)])[D(1).isoformat()]
    assert mat.tags["dagster/data_version"] == versions[D(1)]
    assert mat.tags["dagster/code_version"] == defs.get_assets_def(key).code_versions_by_key[key]
    # every asset of both locations has a code version
    from recap_assets.definitions import defs as recap_defs
    for d in (defs, recap_defs):
        for a in d.assets:
            assert all(a.code_versions_by_key.values()), a.keys


# -- byte-identical re-runs -------------------------------------------------------------------------------------------
def test_two_fresh_realgraph_builds_are_byte_identical(tmp_path, monkeypatch):
    """Same world and config in two fresh homes: identical tables (content hash of every row), identical model files,
    identical predictions."""
    import numpy as np

    from conftest import Harness
    from digest import differences, file_digests, table_digests
    from feedtrain import training
    from feedtrain.logsource import LogSource
    from realgraph_assets.definitions import defs
    from realgraph_assets.resources import SQL_DIR, RealGraphSimulator
    from test_realgraph_pipeline import MODELS, materialize_world

    builds = []
    for name in ("first", "second"):
        home = tmp_path / name
        home.mkdir()
        monkeypatch.setenv("FEEDTRAIN_HOME", str(home))
        h = Harness(home, defs, "realgraph", str(SQL_DIR / "schema.sql"),
                    {"simulator": RealGraphSimulator(preset="tiny", seed=7), "log_source": LogSource()})
        materialize_world(h)
        assert h.materialize(MODELS, T).success
        holdout = h.frame("SELECT * FROM labeled_candidates WHERE ds = ? ORDER BY source_id, destination_id",
                          [T + dt.timedelta(days=1)])
        predictions = training.load_model(home / "models/realgraph/boosted_trees" / T.isoformat()).predict(holdout)
        builds.append((table_digests(home / "realgraph_warehouse.duckdb", "realgraph"),
                       file_digests(home / "models"), predictions))
    (tables_a, files_a, pred_a), (tables_b, files_b, pred_b) = builds
    assert len(tables_a) > 10 and len(files_a) == 6  # 2 LightGBM (model + manifest), 2 light rankers
    assert not differences(tables_a, tables_b), differences(tables_a, tables_b)
    assert not differences(files_a, files_b), differences(files_a, files_b)
    assert np.array_equal(pred_a, pred_b)
