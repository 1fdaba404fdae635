"""Recap rules that need no warehouse: the heads table, downsampling and weights, calibration, the time split, the
weighted score, the metrics, the light ranker's persisted form, and the simulator's guarantees."""

import datetime as dt
import time

import numpy as np
import polars as pl
import pytest

from feedtrain import downsampling
from feedtrain.partitions import EVENTS_START
from recap_assets import heads, light_ranker, metrics, simulator
from recap_assets.common import ensure_table
from recap_assets.features import FEATURES
from recap_assets.heads import HEADS
from recap_assets.labels import label_sql
from recap_assets.models import split_days
from recap_assets.training_sets import downsample
from recap_assets.windows import (RECAP_FEATURE_WINDOW_DAYS, RECAP_TRAIN_DAYS, RECAP_VALID_DAYS, recap_feature_partitions,
                                  recap_label_partitions, recap_model_partitions)


# -- the heads table ---------------------------------------------------------------------------------------------------
def test_ten_heads_with_spec_rates_and_weights():
    assert len(HEADS) == 10
    assert {h.label for h in HEADS.values()} == {
        "recap.engagement.is_favorited", "recap.engagement.is_retweeted", "recap.engagement.is_replied",
        "recap.engagement.is_good_clicked_convo_desc_favorited_or_replied", "recap.engagement.is_good_clicked_convo_desc_v2",
        "recap.engagement.is_profile_clicked_and_profile_engaged", "recap.engagement.is_replied_reply_engaged_by_author",
        "recap.engagement.is_video_playback_50", "recap.engagement.is_negative_feedback_v2",
        "recap.engagement.is_report_tweet_clicked"}
    assert (HEADS["favorited"].spec_pos_rate, HEADS["favorited"].spec_neg_rate) == (0.8387, 0.01)
    assert HEADS["report_tweet_clicked"].spec_neg_rate == 0.000014
    assert heads.weights("v1")["replied"] == 27 and heads.weights("v2")["replied"] == 13.5
    assert heads.weights("v1")["report_tweet_clicked"] == heads.weights("v2")["report_tweet_clicked"] == -369


def test_label_sql_has_one_column_per_head():
    query = label_sql()
    for h in HEADS.values():
        assert f"AS {h.column}" in query
    assert "{label" not in query


def test_keep_rates_scale_spec_rates_to_the_base_rate():
    for h in HEADS.values():
        pos, neg = heads.keep_rates(h)
        assert pos == h.spec_pos_rate
        # the published rates give one kept negative per kept positive at b_ref = neg / (pos + neg); so do ours at base_rate
        kept_pos, kept_neg = h.base_rate * pos, (1 - h.base_rate) * neg
        assert kept_neg / kept_pos == pytest.approx(1.0, rel=0.05)
        b_ref = h.spec_neg_rate / (h.spec_pos_rate + h.spec_neg_rate)
        if h.base_rate == pytest.approx(b_ref, rel=1e-9):
            assert neg == pytest.approx(h.spec_neg_rate)
    assert heads.keep_rates(HEADS["favorited"], 3.0)[1] == pytest.approx(3 * heads.keep_rates(HEADS["favorited"])[1])


def frame(n: int, rate: float, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {f: rng.random(n) for f in FEATURES}
    labels = {h.column: (rng.random(n) < rate).astype(np.int32) for h in HEADS.values()}
    return pl.DataFrame({"impression_id": np.arange(n, dtype=np.int64) * 7919 + 10**14, "viewer_id": rng.integers(0, 99, n),
                         "tweet_id": rng.integers(0, 999, n), "author_id": rng.integers(0, 99, n),
                         "ts": [dt.datetime(2026, 8, 1)] * n, **cols, **labels})


def test_downsampling_keeps_each_class_at_its_rate_with_inverse_weights():
    f = frame(200_000, 0.05)
    rows, pos_rate, neg_rate = downsample(f, "favorited", seed=0, neg_rate_scale=1.0)
    y = f["is_favorited"].to_numpy()
    kept_pos, kept_neg = int(rows["label"].sum()), int((rows["label"] == 0).sum())
    for kept, total, rate in ((kept_pos, y.sum(), pos_rate), (kept_neg, (1 - y).sum(), neg_rate)):
        assert abs(kept - total * rate) < 5 * np.sqrt(total * rate * (1 - rate)) + 1
    w = rows["weight"].to_numpy()
    assert np.allclose(w[rows["label"].to_numpy() == 1], 1 / pos_rate)
    assert np.allclose(w[rows["label"].to_numpy() == 0], 1 / neg_rate)
    # weights recover the original positive rate
    assert (w * rows["label"].to_numpy()).sum() / w.sum() == pytest.approx(y.mean(), rel=0.1)


def test_downsampling_is_deterministic_and_independent_per_head_and_seed():
    f = frame(20_000, 0.3)
    a = downsample(f, "favorited", 0, 1.0)[0]["impression_id"]
    assert a.equals(downsample(f, "favorited", 0, 1.0)[0]["impression_id"])
    assert not a.equals(downsample(f, "favorited", 1, 1.0)[0]["impression_id"])
    g = f.with_columns(is_retweeted=f["is_favorited"])  # same labels, another head: another draw
    b = downsample(g, "retweeted", 0, 1.0)[0]
    assert set(b.filter(pl.col("label") == 0)["impression_id"]) != set(a.to_list())


def test_calibration_recovers_the_true_probability():
    p = np.linspace(0.0001, 0.5, 200)
    for h in HEADS.values():
        pos, neg = heads.keep_rates(h)
        q = p * pos / (p * pos + (1 - p) * neg)  # the probability a perfect model learns on the downsampled data
        assert np.allclose(downsampling.calibrate(q, pos, neg), p)


# -- the time split and the partitions ---------------------------------------------------------------------------------
def test_time_split_trains_on_earlier_days_and_never_overlaps():
    day = recap_model_partitions.start.date() + dt.timedelta(days=5)
    train, valid = split_days(day)
    assert len(train) == RECAP_TRAIN_DAYS and len(valid) == RECAP_VALID_DAYS
    assert not set(train) & set(valid)
    assert max(train) < min(valid) and valid[-1] == day
    assert (min(valid) - max(train)).days == 1
    assert all((b - a).days == 1 for a, b in zip(train + valid, (train + valid)[1:]))


def test_partitions_leave_room_for_windows():
    assert recap_feature_partitions.start.date() == EVENTS_START + dt.timedelta(days=RECAP_FEATURE_WINDOW_DAYS)
    train, _ = split_days(recap_model_partitions.start.date())
    assert train[0] == recap_label_partitions.start.date()  # the first model's first training day is the first label day
    assert recap_label_partitions.end_offset == -1  # labels of T wait for T+1's engagements


# -- the weighted score and the metrics --------------------------------------------------------------------------------
def test_weighted_score_v1_takes_max_of_good_clicks_and_v2_adds_both():
    p = {k: np.zeros(2) for k in HEADS}
    p["good_clicked_v1"] = np.array([0.1, 0.3])
    p["good_clicked_v2"] = np.array([0.2, 0.1])
    assert np.allclose(heads.score(p, "v1"), [11 * 0.2, 11 * 0.3])
    assert np.allclose(heads.score(p, "v2"), [11 * 0.1 + 10 * 0.2, 11 * 0.3 + 10 * 0.1])
    q = {k: np.ones(1) for k in HEADS}
    assert heads.score(q, "v1")[0] == pytest.approx(0.5 + 1 + 27 + 12 + 0.005 + 75 + 11 - 74 - 369)
    with pytest.raises(ValueError):
        heads.score(q, "v3")


def test_rce_and_auc():
    y = np.array([0, 0, 1, 1, 0, 1, 0, 0])
    assert metrics.rce(y, np.full(8, y.mean())) == pytest.approx(0.0)
    assert metrics.rce(y, y * 0.999 + 0.0005) > 99
    assert metrics.rce(y, 1 - y) < 0
    assert metrics.auc(y, y.astype(float)) == 1.0
    assert metrics.auc(np.zeros(3), np.ones(3)) is None and metrics.rce(np.zeros(3), np.ones(3)) is None


def test_auc_equals_sklearn_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    y = (rng.random(5000) < 0.1).astype(int)
    s = np.round(rng.random(5000) + 0.3 * y, 2)  # many ties
    assert metrics.auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_ndcg_at_10():
    group = np.array([1, 1, 1, 2, 2])
    rel = np.array([3.0, 1.0, 0.0, 2.0, 0.0])
    assert metrics.ndcg_at_k(group, rel, rel, 10)[0] == pytest.approx(1.0)
    reverse, n = metrics.ndcg_at_k(group, rel, -rel, 10)
    # group 1 reversed: gains 0,1,3 at ranks 1..3; ideal 3,1,0. group 2 reversed: 0 then 2.
    g1 = (1 / np.log2(3) + 3 / np.log2(4)) / (3 + 1 / np.log2(3))
    g2 = (2 / np.log2(3)) / 2
    assert n == 2 and reverse == pytest.approx((g1 + g2) / 2)
    # negative utilities are shifted to 0 at the group's worst item
    assert metrics.ndcg_at_k(group, rel - 10, rel, 10)[0] == pytest.approx(1.0)


# -- the light ranker --------------------------------------------------------------------------------------------------
def test_light_ranker_bins_keep_rare_flags_and_reload_exactly(tmp_path):
    rng = np.random.default_rng(0)
    n = 5000
    flag = (rng.random(n) < 0.1).astype(float)
    count = rng.poisson(0.3, n).astype(float)
    cont = rng.normal(size=n)
    x = np.stack([flag, count, cont], axis=1)
    y = (rng.random(n) < 0.05 + 0.5 * flag).astype(int)
    model, lr = light_ranker.fit(x, y, ["flag", "count", "cont"], n_bins=20, c=1.0)
    cuts = [np.asarray(c) for c in model.manifest["cuts"]]
    assert len(cuts[0]) == 1 and len(cuts[2]) == 19  # a 10 % flag keeps two bins; a continuous feature gets 20
    assert np.allclose(model.predict_array(x), lr.predict_proba(light_ranker.one_hot(x, cuts))[:, 1])
    assert metrics.auc(y, model.predict_array(x)) > 0.8
    again = light_ranker.load(model.save(tmp_path / "m"))
    assert np.array_equal(again.predict_array(x), model.predict_array(x))


# -- the simulator -----------------------------------------------------------------------------------------------------
def tables_equal(a, b) -> bool:
    return all(getattr(a, f).equals(getattr(b, f)) for f in ("users", "follows", "tweets", "impressions",
                                                              "engagements", "planted"))


def test_a_day_is_a_pure_function_of_seed_and_day():
    day = EVENTS_START + dt.timedelta(days=60)
    w1 = simulator.World("tiny", 3)
    first = w1.day(day)
    w1.day(day + dt.timedelta(days=5))
    w2 = simulator.World("tiny", 3)
    w2.day(day - dt.timedelta(days=9))
    assert tables_equal(first, w2.day(day))
    assert not simulator.World("tiny", 4).day(day).impressions.equals(first.impressions)


def test_tiny_day_is_fast():
    w = simulator.World("tiny", 5)
    started = time.perf_counter()
    w.day(EVENTS_START + dt.timedelta(days=70))
    assert time.perf_counter() - started < 0.5


def test_impressions_show_recent_tweets_of_others_and_engagements_follow_them():
    w = simulator.World("tiny", 11)
    t = 60
    imp = w.impressions(t)
    assert (imp["viewer_id"] != imp["author_id"]).all()
    assert ((imp["age_ms"] > 0) & (imp["age_ms"] <= simulator.CANDIDATE_AGE_MS)).all()
    assert 0.2 < imp["in_network"].mean() < 0.8
    eng = w.engagements_from(t)
    start = {(v, tw): ms for v, tw, ms in zip(imp["viewer_id"], imp["tweet_id"], imp["ms"])}
    assert all(ms > start[(v, tw)] for v, tw, ms in zip(eng["user_id"], eng["tweet_id"], eng["ms"]))
    after_midnight = eng["ms"] >= (t + 1) * simulator.DAY_MS
    assert after_midnight.sum() > 0  # a day's labels need the next day's engagements
    late = eng["ms"] - np.array([start[(v, tw)] for v, tw in zip(eng["user_id"], eng["tweet_id"])])
    assert ((late > 2 * simulator.HOUR_MS) & (late < simulator.LATE_MS[0])).sum() == 0  # gap for windows of 2-6 h
    assert (late >= simulator.LATE_MS[0]).mean() == pytest.approx(simulator.LATE_SHARE, abs=0.02)


def test_planted_label_rates_near_head_base_rates():
    w = simulator.World("small", 11)
    p = w.label_probabilities(w.impressions(60)["p"])
    for k, h in HEADS.items():
        assert h.base_rate / 2 < p[k].mean() < h.base_rate * 2, k
    assert p["report_tweet_clicked"].mean() == pytest.approx(1e-5, rel=0.2)  # about 1 in 100,000 impressions


def test_a_table_migrates_when_a_head_is_added_and_refuses_one_removed():
    import dagster as dg
    import duckdb

    from feedtrain import ledger
    from feedtrain.engine import DuckDBEngine

    conn = DuckDBEngine(duckdb.connect(), "main")
    conn.execute(ledger.DDL)
    conn.execute("CREATE TEMP TABLE staged AS SELECT 1 AS impression_id, 0 AS is_favorited, DATE '2026-08-01' AS ds")
    ensure_table(conn, "train_x", "staged")
    conn.replace_days(dt.date(2026, 8, 1), {"train_x": "staged"})
    ensure_table(conn, "train_x", "staged")  # same shape: fine
    conn.execute("CREATE OR REPLACE TEMP TABLE staged AS SELECT 2 AS impression_id, 1 AS is_favorited, "
                 "1 AS is_new_head, DATE '2026-08-02' AS ds")
    ensure_table(conn, "train_x", "staged")  # a head added: the column is added, the old day holds NULL in it
    conn.replace_days(dt.date(2026, 8, 2), {"train_x": "staged"})
    assert conn.rows("SELECT ds, is_new_head FROM train_x ORDER BY ds") == [(dt.date(2026, 8, 1), None),
                                                                           (dt.date(2026, 8, 2), 1)]
    conn.execute("CREATE OR REPLACE TEMP TABLE staged AS SELECT 3 AS impression_id, DATE '2026-08-03' AS ds")
    with pytest.raises(dg.Failure, match="is_favorited"):
        ensure_table(conn, "train_x", "staged")