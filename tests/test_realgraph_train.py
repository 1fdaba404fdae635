"""train[_explicit] (docs/realgraph.md §1.7, §1.9, §6.4) and the models' normaliser (docs/recap.md §5, §6.12)."""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl
import pytest

from conftest import D
from feedtrain import training
from feedtrain.hashing import user_bucket
from realgraph_assets.models import FEATURES

T = D(36)  # first train partition: labeled days [T-6, T]


def write_labeled(h, rows_per_day=4000, positive_rate=0.2, seed=0):
    return write_labeled_days(h, range(30, 37), rows_per_day, positive_rate, seed)


def write_labeled_days(h, offsets, rows_per_day=500, positive_rate=0.2, seed=0):
    rng = np.random.default_rng(seed)
    frames = []
    for offset in offsets:
        n = rows_per_day
        src, dst = rng.integers(0, 10**6, n), rng.integers(0, 10**6, n)
        frames.append(pl.DataFrame({
            "source_id": src, "destination_id": dst, "label": (rng.random(n) < positive_rate).astype(np.int32),
            **{f: rng.integers(0, 31, n) for f in FEATURES[2:]}, "ds": [D(offset)] * n}))
    frame = pl.concat(frames)
    h.write_days("labeled_candidates", frame)
    return frame


def test_spec_downsampling_is_about_half_positive_with_inverse_probability_weights(realgraph):
    labeled = write_labeled(realgraph)
    realgraph.materialize(["train"], T, config={"train": {"rule": "spec"}})
    train = realgraph.frame("SELECT * FROM train WHERE ds = ?", [T])
    p = labeled["label"].mean()
    assert abs(train["label"].mean() - 0.5) < 0.03
    pos, neg = train.filter(pl.col("label") == 1), train.filter(pl.col("label") == 0)
    assert np.allclose(pos["weight"], 1 / (1 - p)) and np.allclose(neg["weight"], 1 / p)
    # Weights undo the sampling: the weighted counts estimate the labeled window's counts.
    assert abs(pos["weight"].sum() / labeled["label"].sum() - 1) < 0.05
    assert abs(neg["weight"].sum() / (labeled.height - labeled["label"].sum()) - 1) < 0.05
    assert train["label_ds"].min() == D(30) and train["label_ds"].max() == D(36)
    assert (train["if_eval"].to_numpy() == (user_bucket(train["source_id"].to_numpy(), 10) == 0)).all()


def test_default_sizing_keeps_every_positive_and_negatives_for_the_share(realgraph):
    labeled = write_labeled(realgraph, rows_per_day=6000, positive_rate=0.01)
    realgraph.materialize(["train"], T, config={"train": {"min_rows": 0, "positive_share": 0.1}})
    train = realgraph.frame("SELECT * FROM train WHERE ds = ?", [T])
    positives = labeled["label"].sum()
    assert train["label"].sum() == positives  # every positive kept
    assert abs(train["label"].mean() - 0.1) < 0.015
    neg = train.filter(pl.col("label") == 0)
    assert np.allclose(neg["weight"], (labeled.height - positives) / (9 * positives))  # 1 / negative keep rate
    assert np.allclose(train.filter(pl.col("label") == 1)["weight"], 1.0)


def test_thin_windows_keep_min_rows_and_widen_with_older_days(realgraph):
    write_labeled(realgraph, rows_per_day=500, positive_rate=0.01)  # days D(30)..D(36): ~35 positives
    realgraph.materialize(["train"], T, config={"train": {"min_positives": 30, "max_window_days": 7}})
    assert realgraph.sql("SELECT count(*) FROM train WHERE ds = ?", [T])[0][0] == 3500  # < min_rows: all kept
    realgraph.execute("DELETE FROM train")
    realgraph.materialize(["train"], T, config={"train": {"min_positives": 10_000}})
    # wants more positives: widens to the older labeled days present (none before D(30)), so the window is unchanged
    assert realgraph.sql("SELECT min(label_ds), max(label_ds) FROM train") == [(D(30), D(36))]
    later = T + dt.timedelta(days=7)
    write_labeled_days(realgraph, range(37, 44), positive_rate=0.001)
    realgraph.materialize(["train"], later, config={"train": {"min_positives": 20}})
    assert realgraph.sql("SELECT min(label_ds) FROM train WHERE ds = ?", [later])[0][0] < D(37)


def test_same_inputs_give_the_same_train_set_and_the_seed_changes_it(realgraph):
    write_labeled(realgraph)
    realgraph.materialize(["train"], T, config={"train": {"rule": "spec"}})
    q = "SELECT source_id, destination_id, label_ds FROM train ORDER BY ALL"
    first = realgraph.sql(q)
    realgraph.materialize(["train"], T, config={"train": {"rule": "spec"}})
    assert realgraph.sql(q) == first  # re-running replaces, same rows
    realgraph.materialize(["train"], T, config={"train": {"rule": "spec", "seed": 1}})
    assert realgraph.sql(q) != first


def test_train_needs_all_seven_labeled_days(realgraph):
    write_labeled(realgraph)
    realgraph.execute("DELETE FROM labeled_candidates WHERE ds = ?", [D(33)])
    result = realgraph.materialize(["train"], T, raise_on_error=False)
    assert not result.success
    [failed] = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert D(33).isoformat() in failed.description
    assert realgraph.sql("SELECT count(*) FROM train")[0][0] == 0


def _frame(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = (x[:, 0] + rng.normal(size=n) > 0).astype(int)
    return pl.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "label": y})


def test_z_score_is_fit_on_the_training_split_only(tmp_path):
    df = _frame()
    eval_mask = np.arange(df.height) % 10 == 0
    df = df.with_columns(b=pl.when(pl.Series(eval_mask)).then(1000.0).otherwise(pl.col("b")))  # eval rows far off
    model = training.fit_light_ranker(df, ["a", "b", "c"], eval_mask)
    train_rows = df.filter(~pl.Series(eval_mask))
    assert np.allclose(model.manifest["normaliser"]["mean"], train_rows.select("a", "b", "c").mean().row(0))
    assert np.allclose(model.manifest["normaliser"]["scale"], train_rows.select("a", "b", "c").std(ddof=0).row(0))
    reloaded = training.load_model(model.save(tmp_path / "lr"))
    assert np.allclose(reloaded.predict(df), model.predict(df))


def test_boosted_trees_persist_and_reload(tmp_path):
    df = _frame(5000)
    eval_mask = np.arange(df.height) % 10 == 0
    model = training.fit_boosted_trees(df, ["a", "b", "c"], training.BoostedTreesConfig(), eval_mask)
    reloaded = training.load_model(model.save(tmp_path / "gbt"))
    assert np.allclose(reloaded.predict(df), model.predict(df))
    assert reloaded.features == ["a", "b", "c"]
    assert training.evaluate(df["label"].to_numpy(), model.predict(df))["auc"] > 0.7


def test_calibration_undoes_downsampling():
    from feedtrain.downsampling import calibrate

    p_true, pos_rate, neg_rate = 0.05, 0.95, 0.05
    # On data downsampled with these rates, a perfectly trained model predicts this:
    p_sampled = p_true * pos_rate / (p_true * pos_rate + (1 - p_true) * neg_rate)
    assert np.isclose(calibrate(np.array([p_sampled]), pos_rate, neg_rate)[0], p_true)


def _weekly_days(rng, label_days, n=3000):
    """Rows labeled on ``label_days``: one feature, and a base rate 20x lower on Saturdays and Sundays."""
    frames = []
    for day in label_days:
        x = rng.normal(size=n)
        base = -5.0 if day.weekday() >= 5 else -2.0
        y = (rng.random(n) < 1 / (1 + np.exp(-(x + base)))).astype(np.int32)
        frames.append(pl.DataFrame({"a": x, "label": y, "ds": [day - dt.timedelta(days=1)] * n}))
    return pl.concat(frames)


def test_the_label_weekday_factor_calibrates_a_weekly_cycle_and_reloads(tmp_path):
    from realgraph_assets.models import WEEKDAY_RULE

    rng = np.random.default_rng(3)
    monday = dt.date(2026, 6, 8)
    train = _weekly_days(rng, [monday + dt.timedelta(days=k) for k in range(7)]).rename({"ds": "label_ds"})
    holdout = _weekly_days(rng, [monday + dt.timedelta(days=12)])  # a Saturday: labeled day (ds) Friday
    eval_mask = np.arange(train.height) % 10 == 0
    features = ["a", training.WEEKDAY_FACTOR]
    model = training.fit_light_ranker(train, features, eval_mask, weekday_rule=WEEKDAY_RULE)
    factors = model.manifest[training.WEEKDAY_FACTOR]["factors"]
    assert factors[5] < -1 and factors[6] < -1 and all(f > 0 for f in factors[:5])  # weekend ~20x below, in logs
    plain = training.fit_light_ranker(train, ["a"], eval_mask)
    y = holdout["label"].to_numpy()
    with_factor, without = training.evaluate(y, model.predict(holdout)), training.evaluate(y, plain.predict(holdout))
    assert with_factor["ece"] < without["ece"] / 3
    reloaded = training.load_model(model.save(tmp_path / "lr"))
    assert np.array_equal(reloaded.predict(holdout), model.predict(holdout))
    trees = training.fit_boosted_trees(train, features, training.BoostedTreesConfig(), eval_mask, WEEKDAY_RULE)
    assert training.evaluate(y, trees.predict(holdout))["ece"] < without["ece"] / 3


def test_a_window_without_a_positive_fails_naming_the_days_and_why(realgraph):
    write_labeled_days(realgraph, range(30, 37), positive_rate=0.0)  # a log where no pair ever interacts again
    with pytest.raises(dg.Failure, match=r"labeled_candidates days .*\.\.2026-.*0 positives of 3500 rows.*repeat "
                                         r"interactions.*max_window_days"):
        realgraph.materialize(["train"], T)
    assert realgraph.sql("SELECT count(*) FROM train") == [(0,)]


def test_a_null_feature_fails_the_model_naming_the_table_day_column_and_a_row(realgraph):
    """A feature column added after a day was built reads as NULL on that day: the model says so instead of letting
    the logistic regression fail on NaN (or LightGBM silently learn "missing")."""
    write_labeled_days(realgraph, range(30, 38))
    realgraph.materialize(["train"], T)
    # As in a warehouse made before the column existed (feedtrain/warehouse.py adds it nullable, NULL on old days).
    realgraph.execute("ALTER TABLE train ALTER COLUMN long_num_days DROP NOT NULL")
    realgraph.execute("UPDATE train SET long_num_days = NULL WHERE ds = ? AND label = 1", [T])
    for model in ("light_ranker", "boosted_trees"):
        with pytest.raises(dg.Failure, match=rf"realgraph.train partition {T}: feature column long_num_days is NULL "
                                             r"in \d+ of \d+ rows \(e.g. source_id \d+, destination_id \d+\).*"
                                             r"re-materialise candidates"):
            realgraph.materialize([model], T)
