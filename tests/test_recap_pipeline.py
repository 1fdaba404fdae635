"""The recap location on a tiny world, through Dagster: one whole model day materialised once (raw logs, labels,
features, per-head training sets, models), then each rule checked on a copy of that warehouse, so a test that breaks
a rule changes nothing the other tests read."""

import dataclasses
import datetime as dt
import json
import os
import shutil

import dagster as dg
import numpy as np
import pytest

from feedtrain import training
from feedtrain.driver import group
from feedtrain.partitions import EVENTS_START
from feedtrain.warehouse import stage
from recap_assets import features, heads, light_ranker, report
from recap_assets.common import key
from recap_assets.definitions import ALL_ASSETS
from recap_assets.features import FEATURES, point_in_time
from recap_assets.heads import HEADS, LABEL_COLUMNS
from recap_assets.labels import label_consistency, label_sql
from recap_assets.models import MODEL_KINDS, RecapBoostedTreesConfig, split_days
from recap_assets.resources import recap_warehouse
from recap_assets.sources import RAW_TABLES
from recap_assets.training_sets import train_table
from recap_assets.windows import recap_feature_partitions, recap_model_partitions

MODEL_DAY = recap_model_partitions.start.date()
FIRST_DAY = recap_feature_partitions.start.date()
D = MODEL_DAY - dt.timedelta(days=3)  # a labeled, featurised validation day
WINDOW = dt.timedelta(minutes=180)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The whole location for one model day, materialised through dg.materialize (report.build)."""
    home = tmp_path_factory.mktemp("recap_built")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FEEDTRAIN_HOME", str(home))
        timings = report.build(home, "tiny", 11, MODEL_DAY, log=lambda *_: None)
    return home, timings


@pytest.fixture
def home(built, tmp_path, monkeypatch):
    """A private copy of the built warehouse (and models)."""
    copy = tmp_path / "home"
    shutil.copytree(built[0], copy, symlinks=True)  # the model store's day links stay links
    monkeypatch.setenv("FEEDTRAIN_HOME", str(copy))
    return copy


def connect(home):
    return recap_warehouse(str(home / "recap_warehouse.duckdb")).connect()


def materialize(home, keys: list[str], day: dt.date):
    return dg.materialize(
        ALL_ASSETS, selection=dg.AssetSelection.assets(*[key(k) for k in keys]),
        resources=report.resources(home, "tiny", 11),
        tags={report.RANGE_START: day.isoformat(), report.RANGE_END: day.isoformat()}, raise_on_error=False)


def failed_checks(result) -> set[str]:
    """The blocking checks that failed (quality warnings such as drift are not failures)."""
    return {e.check_name for e in result.get_asset_check_evaluations() if not e.passed and e.severity.value == "ERROR"}


def fingerprint(conn, table: str, day: dt.date):
    return conn.rows(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM {table} WHERE ds = ?", [day])[0]


def redeliver(conn, table: str, *days: dt.date) -> None:
    """Record days of a raw table edited in place by a test as re-delivered (committed again through the ledger)."""
    for day in days:
        conn.stage("redelivered", f"SELECT * FROM {table} WHERE ds = ?", [day])
        conn.replace_days(day, {table: "redelivered"})


def label_row(conn, impression_id: int, day: dt.date, window_minutes: int = 180) -> dict:
    stage(conn, "labels_now", label_sql(),
                 {"ds": day, "window_minutes": window_minutes, "label_delay_days": 1})
    row = conn.rows(f"SELECT {', '.join(LABEL_COLUMNS)} FROM labels_now WHERE impression_id = ?",
                       [impression_id])[0]
    return dict(zip(LABEL_COLUMNS, row))


def feature_row(conn, impression_id: int, day: dt.date) -> dict:
    """The features of one impression from the raw tables as a test left them: the window's user_days are rebuilt
    from them first, as the rollup asset rebuilds a re-delivered day."""
    first, last = day - dt.timedelta(days=features.RECAP_FEATURE_WINDOW_DAYS), day - dt.timedelta(days=1)
    conn.execute("DELETE FROM user_days WHERE ds BETWEEN ? AND ?", [first, last])
    conn.execute("INSERT INTO user_days " + features.sql("user_days"), {"first": first, "last": last})
    features.stage_features(conn, day)
    row = conn.rows(f"SELECT {', '.join(FEATURES)} FROM stage_impression_features WHERE impression_id = ?",
                       [impression_id])[0]
    return dict(zip(FEATURES, row))


def quiet_impression(conn, day: dt.date, where: str = "TRUE") -> dict:
    """An impression of ``day`` whose viewer never engaged with its tweet (so added engagements are the only ones)."""
    row = conn.rows(f"""
        SELECT i.impression_id, i.viewer_id, i.tweet_id, i.author_id, i.ts FROM impressions i
        WHERE i.ds = $ds AND {where}
          AND NOT EXISTS (SELECT 1 FROM engagements e WHERE e.user_id = i.viewer_id AND e.tweet_id = i.tweet_id)
          AND (SELECT count(*) FROM impressions j WHERE j.viewer_id = i.viewer_id AND j.tweet_id = i.tweet_id) = 1
        ORDER BY i.impression_id LIMIT 1""", {"ds": day})[0]
    assert row is not None
    return dict(zip(["impression_id", "viewer_id", "tweet_id", "author_id", "ts"], row))


def add_engagement(conn, imp: dict, kind: str, ts: dt.datetime, user=None, tweet=None, author=None,
                   surface="timeline", dwell=None):
    conn.execute("INSERT INTO engagements VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 [user if user is not None else imp["viewer_id"], tweet if tweet is not None else imp["tweet_id"],
                  author if author is not None else imp["author_id"], kind, ts, surface, dwell, ts.date()])


# -- the whole location ------------------------------------------------------------------------------------------------
def test_whole_location_materialises_one_model_day(built):
    home, timings = built
    with connect(home) as conn:
        raw_days = (MODEL_DAY + dt.timedelta(days=1) - EVENTS_START).days + 1
        for table in RAW_TABLES:
            assert conn.rows("SELECT count(DISTINCT ds) FROM feedtrain_ledger WHERE table_name = ?",
                                [table])[0][0] == raw_days
        days = (MODEL_DAY - FIRST_DAY).days + 1
        for table in ("impressions_labeled", "impression_features"):
            per_day = conn.rows(f"SELECT ds, count(*) FROM {table} GROUP BY ds")
            assert len(per_day) == days
            for ds, n in per_day:
                assert n == conn.rows("SELECT count(*) FROM impressions WHERE ds = ?", [ds])[0][0]
        for h in HEADS:
            assert conn.rows("SELECT count(*) FROM feedtrain_ledger WHERE table_name = ?",
                                [train_table(h)])[0][0] == days
        ev = conn.polars("SELECT head, model, auc, rce, note FROM model_evaluations WHERE ds = ?", [MODEL_DAY])
        rank = dict(conn.rows("SELECT model, ndcg_at_10 FROM ranking_evaluations WHERE ds = ? "
                                 "AND weights_version = 'v1'", [MODEL_DAY]))
    assert set(ev["head"]) == set(HEADS)
    auc = {(h, m): a for h, m, a in ev.select("head", "model", "auc").iter_rows()}
    assert auc[("favorited", "boosted_trees")] > max(0.6, auc[("favorited", "popularity_heuristic")])
    # the engagement-rate baselines are scored on every head's validation rows
    assert all(auc[(h, b)] is not None for h in HEADS for b in ("author_engagement_rate", "viewer_engagement_rate"))
    assert auc[("video_playback_50", "light_ranker")] > 0.9  # the has_video flag survives binning
    assert auc[("favorited", "oracle")] > auc[("favorited", "boosted_trees")]
    assert rank["oracle"] == pytest.approx(1.0)  # relevance is the planted utility: the v1 oracle ranks perfectly
    assert rank["boosted_trees"] > rank["random"] and rank["light_ranker"] > rank["random"]
    # the report head (about 1 in 100,000 impressions) has no positives here: skipped with a note, nothing crashed
    report_rows = ev.filter(ev["head"] == "report_tweet_clicked")
    assert report_rows.filter(report_rows["model"] == "boosted_trees")["note"][0].startswith("not trained")
    # models reload from their manifests and score like the evaluation did
    path = home / "models" / "recap" / "boosted_trees" / "favorited" / MODEL_DAY.isoformat()
    model = training.load_model(path)
    assert model.manifest["head"] == "favorited" and model.features == FEATURES
    assert model.manifest["params"]["learning_rate"] == RecapBoostedTreesConfig().learning_rate  # not Real Graph's
    lr = light_ranker.load(home / "models" / "recap" / "light_ranker" / "favorited" / MODEL_DAY.isoformat())
    _, valid_days = split_days(MODEL_DAY)
    assert lr.manifest["valid_days"] == [valid_days[0].isoformat(), valid_days[-1].isoformat()]


def test_models_train_only_on_days_before_validation(built):
    home, _ = built
    train_days, _ = split_days(MODEL_DAY)
    for kind in MODEL_KINDS:
        manifest = json.loads(
            (home / "models" / "recap" / kind / "favorited" / MODEL_DAY.isoformat() / "manifest.json").read_text())
        assert manifest["train_days"] == [train_days[0].isoformat(), train_days[-1].isoformat()]
        assert dt.date.fromisoformat(manifest["train_days"][1]) < dt.date.fromisoformat(manifest["valid_days"][0])


# -- labels ------------------------------------------------------------------------------------------------------------
def test_labels_count_engagements_only_inside_the_window(home):
    with connect(home) as conn:
        imp = quiet_impression(conn, D, "hour(i.ts) BETWEEN 8 AND 18")
        t = imp["ts"]
        add_engagement(conn, imp, "favorite", t + WINDOW - dt.timedelta(seconds=1))  # inside
        add_engagement(conn, imp, "retweet", t + WINDOW)  # the window is half-open: outside
        add_engagement(conn, imp, "reply", t - dt.timedelta(seconds=1))  # before the impression: outside
        add_engagement(conn, imp, "negative_feedback", t + dt.timedelta(minutes=5), user=imp["viewer_id"] + 1)
        add_engagement(conn, imp, "video_playback_50", t + dt.timedelta(minutes=5), tweet=imp["tweet_id"] + 1)
        labels = label_row(conn, imp["impression_id"], D)
        assert labels["is_favorited"] == 1
        assert labels["is_retweeted"] == 0 and labels["is_replied"] == 0
        assert labels["is_negative_feedback_v2"] == 0 and labels["is_video_playback_50"] == 0  # other viewer / tweet
        assert label_row(conn, imp["impression_id"], D, window_minutes=181)["is_retweeted"] == 1


def test_labels_read_engagements_after_midnight(home):
    with connect(home) as conn:
        imp = quiet_impression(conn, D, "hour(i.ts) >= 22")
        add_engagement(conn, imp, "favorite", dt.datetime.combine(D + dt.timedelta(days=1), dt.time(0, 0, 30)))
        assert label_row(conn, imp["impression_id"], D)["is_favorited"] == 1
        # and the simulator does this by itself: labeled impressions whose engagement is in the next day's partition
        late = conn.rows("""
            SELECT count(*) FROM impressions_labeled l JOIN engagements e
              ON e.user_id = l.viewer_id AND e.tweet_id = l.tweet_id AND e.ds = l.ds + 1 AND e.ts < l.ts + INTERVAL 3 HOUR
            WHERE e.engagement_type = 'favorite' AND l.is_favorited = 1""")[0][0]
        assert late > 0


def test_label_rates_match_the_planted_probabilities(built):
    home, _ = built
    with connect(home) as conn:
        means = conn.rows(
            "SELECT count(*), " + ", ".join(f"avg(l.{h.column}), avg(p.p_{k})" for k, h in HEADS.items())
            + " FROM impressions_labeled l JOIN planted_engagement_probability p USING (impression_id)")[0]
    n = means[0]
    for i, k in enumerate(HEADS):
        got, planted = means[1 + 2 * i], means[2 + 2 * i]
        assert abs(got - planted) < 5 * np.sqrt(planted * (1 - planted) / n) + 0.05 * planted + 1e-6, k


def test_label_consistency_check_blocks_the_day(home):
    with connect(home) as conn:
        imp = quiet_impression(conn, D, "i.tweet_id IN (SELECT tweet_id FROM tweets WHERE NOT has_video)")
        add_engagement(conn, imp, "video_playback_50", imp["ts"] + dt.timedelta(minutes=1))  # no video to watch
        redeliver(conn, "engagements", (imp["ts"] + dt.timedelta(minutes=1)).date())
        before = fingerprint(conn, "impressions_labeled", D)
    result = materialize(home, ["impressions_labeled"], D)
    assert not result.success and failed_checks(result) == {"label_consistency"}
    with connect(home) as conn:
        assert fingerprint(conn, "impressions_labeled", D) == before  # nothing written


def test_label_consistency_catches_a_wrong_label_rule(home, monkeypatch):
    # a plausible bug: reply_engaged_by_author counted without the viewer's reply
    broken = dataclasses.replace(HEADS["reply_engaged_by_author"],
                                 label_sql="bool_or(e.engagement_type = 'reply_engaged_by_author')")
    monkeypatch.setitem(heads.HEADS, "reply_engaged_by_author", broken)
    with connect(home) as conn:
        imp = quiet_impression(conn, D)
        add_engagement(conn, imp, "reply_engaged_by_author", imp["ts"] + dt.timedelta(minutes=3))
        stage(conn, "stage_labels", label_sql(), {"ds": D, "window_minutes": 180, "label_delay_days": 1})
        result = label_consistency(conn, "stage_labels", D)
    assert not result.passed and "is_reply_engaged_by_author => is_replied = 1" in result.description


def test_positive_rate_band_blocks_the_day(home):
    with connect(home) as conn:
        conn.execute("DELETE FROM engagements WHERE engagement_type = 'favorite' AND ds BETWEEN ? AND ?",
                     [D, D + dt.timedelta(days=1)])
        redeliver(conn, "engagements", D, D + dt.timedelta(days=1))
        before = fingerprint(conn, "impressions_labeled", D)
    result = materialize(home, ["impressions_labeled"], D)
    assert not result.success and failed_checks(result) == {"positive_rate_in_band"}
    with connect(home) as conn:
        assert fingerprint(conn, "impressions_labeled", D) == before


def test_labels_wait_for_the_next_days_engagements(home):
    with connect(home) as conn:
        conn.execute("DELETE FROM feedtrain_ledger WHERE table_name = 'engagements' AND ds = ?", [D + dt.timedelta(days=1)])
        before = fingerprint(conn, "impressions_labeled", D)
    result = materialize(home, ["impressions_labeled"], D)
    assert not result.success and "upstream_days_present" in failed_checks(result)
    with connect(home) as conn:
        assert fingerprint(conn, "impressions_labeled", D) == before


# -- point-in-time features --------------------------------------------------------------------------------------------
def test_events_at_or_after_an_impression_do_not_change_its_features(home):
    with connect(home) as conn:
        picks = conn.rows(
            "SELECT impression_id, viewer_id, tweet_id, author_id, ts FROM impressions WHERE ds = ? "
            "QUALIFY row_number() OVER (PARTITION BY hour(ts) // 6 ORDER BY impression_id) = 1", [D])
        assert len(picks) >= 3
        for pick in picks:
            imp = dict(zip(["impression_id", "viewer_id", "tweet_id", "author_id", "ts"], pick))
            before = feature_row(conn, imp["impression_id"], D)
            t = imp["ts"]
            conn.execute("BEGIN TRANSACTION")
            conn.execute("DELETE FROM engagements WHERE ts >= ?", [t])
            conn.execute("DELETE FROM impressions WHERE ts >= ? AND impression_id <> ?", [t, imp["impression_id"]])
            conn.execute("DELETE FROM follows WHERE ts >= ?", [t])
            for kind in ("favorite", "reply", "retweet", "convo_click", "negative_feedback", "report",
                         "reply_engaged_by_author"):
                add_engagement(conn, imp, kind, t)  # exactly at the impression
                add_engagement(conn, imp, kind, t + dt.timedelta(hours=1), user=imp["viewer_id"] + 1)
            conn.execute("INSERT INTO follows VALUES (?, ?, ?, ?)", [imp["viewer_id"], imp["author_id"], t, D])
            conn.execute("INSERT INTO impressions VALUES (?, ?, ?, ?, ?, 0, ?)",
                         [imp["impression_id"] + 10**8, imp["viewer_id"] + 1, imp["tweet_id"], imp["author_id"], t, D])
            after = feature_row(conn, imp["impression_id"], D)
            conn.execute("ROLLBACK")
            assert after == before, {f: (before[f], after[f]) for f in FEATURES if before[f] != after[f]}


def test_events_before_an_impression_change_its_features(home):
    with connect(home) as conn:
        imp = quiet_impression(conn, D, "hour(i.ts) BETWEEN 10 AND 20 AND NOT EXISTS (SELECT 1 FROM follows f WHERE "
                                        "f.source_id = i.viewer_id AND f.destination_id = i.author_id)")
        before = feature_row(conn, imp["impression_id"], D)
        t = imp["ts"]
        just_before = t - dt.timedelta(milliseconds=1)
        add_engagement(conn, imp, "favorite", just_before)
        add_engagement(conn, imp, "reply", just_before, user=imp["viewer_id"] + 1)
        conn.execute("INSERT INTO follows VALUES (?, ?, ?, ?)", [imp["viewer_id"], imp["author_id"], just_before, D])
        three_days_ago = t - dt.timedelta(days=3)
        add_engagement(conn, imp, "favorite", three_days_ago, tweet=imp["tweet_id"] + 7)
        after = feature_row(conn, imp["impression_id"], D)
    assert after["v_favorite_1d"] == before["v_favorite_1d"] + 1
    assert after["t_favorites"] == before["t_favorites"] + 1 and after["t_replies"] == before["t_replies"] + 1
    assert (before["in_network"], after["in_network"]) == (0.0, 1.0)
    assert after["v_favorite_50d"] == before["v_favorite_50d"] + 1
    assert after["va_favorite_50d"] == before["va_favorite_50d"] + 1
    assert after["va_engaged_days_31d"] >= 1 and after["va_decayed_engagements"] > before["va_decayed_engagements"]
    assert after["va_days_since_last_engagement"] <= 3


def test_user_days_hold_each_users_day_as_viewer_and_as_author(built):
    """The rollup the 50-day viewer and author features sum: one row per active user, and its columns add up to the
    day's raw impressions and engagements by type (reply_engaged_by_author counts for the author only)."""
    with connect(built[0]) as conn:
        rows, users, seen, shown, favorites, received, replies_engaged, viewer_total = conn.rows(
            "SELECT count(*), count(DISTINCT user_id), sum(viewer_impressions), sum(author_impressions), "
            "sum(viewer_favorite), sum(author_favorite), sum(author_reply_engaged_by_author), "
            "sum(viewer_favorite + viewer_retweet + viewer_reply + viewer_convo_click + viewer_profile_click "
            "+ viewer_video_playback_50 + viewer_negative_feedback) FROM user_days WHERE ds = ?", [D])[0]
        impressions = conn.scalar("SELECT count(*) FROM impressions WHERE ds = ?", [D])
        by_type = dict(conn.rows("SELECT engagement_type, count(*) FROM engagements WHERE ds = ? GROUP BY ALL", [D]))
        active = conn.scalar("SELECT count(*) FROM (SELECT viewer_id FROM impressions WHERE ds = $d UNION "
                             "SELECT author_id FROM impressions WHERE ds = $d UNION SELECT user_id FROM engagements "
                             "WHERE ds = $d AND engagement_type <> 'reply_engaged_by_author' UNION "
                             "SELECT author_id FROM engagements WHERE ds = $d)", {"d": D})
    assert rows == users == active > 0
    assert seen == shown == impressions > 0
    assert favorites == received == by_type["favorite"] > 0
    assert replies_engaged == by_type.get("reply_engaged_by_author", 0)
    assert viewer_total == sum(n for t, n in by_type.items()
                               if t in ("favorite", "retweet", "reply", "convo_click", "profile_click",
                                        "video_playback_50", "negative_feedback"))


def test_a_redelivered_day_makes_the_features_wait_for_its_rollup(home):
    """A raw day re-delivered after its user_days were built: the features of a later day refuse the stale rollup
    (naming it and what to re-run) and write nothing; once the rollup is rebuilt they count the new delivery."""
    old = D - dt.timedelta(days=5)
    with connect(home) as conn:
        viewer, impression = conn.rows(
            "SELECT viewer_id, impression_id FROM impressions WHERE ds = ? AND viewer_id IN "
            "(SELECT viewer_id FROM impressions WHERE ds = ?) ORDER BY viewer_id, impression_id LIMIT 1", [old, D])[0]
        before = fingerprint(conn, "impression_features", D)
        stored = conn.scalar("SELECT max(v_impressions_50d) FROM impression_features WHERE ds = ? AND viewer_id = ?",
                             [D, viewer])
        conn.execute("DELETE FROM impressions WHERE impression_id = ? AND ds = ?", [impression, old])
        redeliver(conn, "impressions", old)
    result = materialize(home, ["impression_features"], D)
    assert not result.success and failed_checks(result) == {"upstream_days_present"}
    description = next(e.description for e in result.get_asset_check_evaluations() if not e.passed)
    assert f"user_days {old} is stale" in description and f"impressions {old}" in description
    with connect(home) as conn:
        assert fingerprint(conn, "impression_features", D) == before
    assert materialize(home, ["user_days"], old).success
    assert materialize(home, ["impression_features"], D).success
    with connect(home) as conn:
        now = conn.scalar("SELECT max(v_impressions_50d) FROM impression_features WHERE ds = ? AND viewer_id = ?",
                          [D, viewer])
    assert now == stored - 1


def test_point_in_time_check_passes_on_real_features_and_catches_a_leak(home):
    with connect(home) as conn:
        features.stage_features(conn, D)
        assert point_in_time(conn, "stage_impression_features", D, features.feature_params(D), 300).passed
        leaky = features.sql("impression_features").replace(
            "SELECT tweet_id, ts, 0, impression_id, 0, 0, 0, 0 FROM imp",  # the tweet's counters read 2 hours late
            "SELECT tweet_id, ts + INTERVAL 2 HOUR, 0, impression_id, 0, 0, 0, 0 FROM imp")
        assert leaky != features.sql("impression_features")
        features.stage_features(conn, D, leaky)
        result = point_in_time(conn, "stage_impression_features", D, features.feature_params(D), 300)
    assert not result.passed and "t_favorites" in result.description


def test_a_leaky_feature_query_writes_nothing(home, monkeypatch):
    real_sql = features.sql

    def leaky(name):
        text = real_sql(name)
        return text.replace("WHERE ds BETWEEN $ds::DATE - 1 AND $ds AND user_id", "WHERE ds BETWEEN $ds::DATE - 1 "
                            "AND $ds::DATE + 1 AND user_id").replace("SELECT viewer_id, ts, 0, impression_id, 1,",
                                                     "SELECT viewer_id, ts + INTERVAL 3 HOUR, 0, impression_id, 1,")

    monkeypatch.setattr(features, "sql", leaky)  # the asset's own module
    with connect(home) as conn:
        before = fingerprint(conn, "impression_features", D)
    result = materialize(home, ["impression_features"], D)
    assert not result.success and failed_checks(result) == {"point_in_time"}
    with connect(home) as conn:
        assert fingerprint(conn, "impression_features", D) == before


# -- training sets -----------------------------------------------------------------------------------------------------
def test_training_sets_downsample_negatives_and_carry_weights(built):
    home, _ = built
    with connect(home) as conn:
        for k, h in HEADS.items():
            pos_rate, neg_rate = heads.keep_rates(h)
            labeled_pos, labeled_neg = conn.rows(
                f"SELECT sum({h.column}), count(*) - sum({h.column}) FROM impressions_labeled WHERE ds BETWEEN ? AND ?",
                [FIRST_DAY, MODEL_DAY])[0]
            kept_pos, kept_neg, wrong_weight, wrong_label = conn.rows(f"""
                SELECT count(*) FILTER (WHERE t.label = 1), count(*) FILTER (WHERE t.label = 0),
                       count(*) FILTER (WHERE abs(t.weight - CASE WHEN t.label = 1 THEN 1 / $p ELSE 1 / $n END) > 1e-9),
                       count(*) FILTER (WHERE t.label <> l.{h.column})
                FROM train_{k} t JOIN impressions_labeled l USING (impression_id)""", {"p": pos_rate, "n": neg_rate}
            )[0]
            assert wrong_weight == 0 and wrong_label == 0, k
            for kept, total, rate in ((kept_pos, labeled_pos, pos_rate), (kept_neg, labeled_neg, neg_rate)):
                assert abs(kept - total * rate) <= 5 * np.sqrt(total * rate * (1 - rate)) + 1, k


def test_heavy_ranker_champion_is_promoted_only_within_the_margin(home):
    from recap_assets.champion import champion

    next_day = MODEL_DAY + dt.timedelta(days=1)
    report.build(home, "tiny", 11, next_day, log=lambda *_: None, only_next_day=True)

    def decide(margin):
        with connect(home) as conn:
            conn.execute("DELETE FROM champion_decisions")
        result = dg.materialize([*ALL_ASSETS, champion], selection=[champion.key],
                                resources=report.resources(home, "tiny", 11),
                                run_config={"ops": {"recap__champion": {"config": {"max_auc_drop": margin,
                                                                                   "must_beat_baselines": False}}}})
        assert result.success
        with connect(home) as conn:
            return conn.polars("SELECT * FROM champion_decisions ORDER BY ds")

    strict = decide(-1.0)  # the challenger would need a mean AUC one point above the champion's: never
    assert strict["ds"].to_list() == [MODEL_DAY, next_day]
    assert strict["promoted"].to_list() == [True, False] and strict["reason"][0] == "first model"
    assert (home / "models/recap/boosted_trees/CHAMPION").read_text().strip() == MODEL_DAY.isoformat()
    lenient = decide(1.0)
    assert lenient["promoted"].to_list() == [True, True]
    assert (home / "models/recap/boosted_trees/CHAMPION").read_text().strip() == next_day.isoformat()
    # The champion was re-scored on the challenger's validation days, not read from its own evaluation.
    second = lenient.row(1, named=True)
    _, valid_days = split_days(next_day)
    assert (second["valid_first"], second["valid_last"]) == (valid_days[0], valid_days[-1])
    with connect(home) as conn:
        own = conn.rows("SELECT avg(auc) FROM model_evaluations WHERE ds = ? AND model = 'boosted_trees' "
                           "AND auc IS NOT NULL", [MODEL_DAY])[0][0]
    assert second["champion_mean_auc"] is not None and abs(second["champion_mean_auc"] - own) > 1e-9


def test_a_crash_between_the_evaluation_commit_and_the_rename_blocks_the_champion_until_rerun(home, monkeypatch):
    """Recap publishes a model day's twenty files with its evaluation rows; a crash after the rows commit leaves files
    that are not the evaluated ones, so the champion decides nothing from them, and re-running the day repairs it."""
    from feedtrain.modelstore import ModelStore
    from recap_assets.champion import champion
    from recap_assets.models import store_name

    store = report.resources(home, "tiny", 11)["model_store"]
    changed = {"ops": {"ranker_models": {"config": {"boosted_trees": {"n_estimators": 20}}}}}

    def run(keys, **kwargs):
        return dg.materialize([*ALL_ASSETS, champion], selection=keys, resources=report.resources(home, "tiny", 11),
                              tags={report.RANGE_START: MODEL_DAY.isoformat(), report.RANGE_END: MODEL_DAY.isoformat()},
                              raise_on_error=False, **kwargs)

    def recorded(head):
        with connect(home) as conn:
            return conn.scalar("SELECT artifact_sha256 FROM model_evaluations WHERE ds = ? AND head = ? "
                               "AND model = 'boosted_trees'", [MODEL_DAY, head])

    def crash(self, artifact):
        raise RuntimeError("simulated crash after the evaluation commit")

    with monkeypatch.context() as patch:
        patch.setattr(ModelStore, "_move_into_place", crash)
        assert not run(group("recap_models"), run_config=changed).success
    assert "not the evaluated model" in store.verify(store_name("boosted_trees", "favorited"), MODEL_DAY,
                                                     recorded("favorited"))
    blocked = run([champion.key])
    assert not blocked.success
    with connect(home) as conn:
        assert conn.scalar("SELECT count(*) FROM champion_decisions") == 0
    assert not (home / "models/recap/boosted_trees/CHAMPION").exists()

    rerun = run(group("recap_models"), run_config=changed)
    assert rerun.success
    meta = {e.asset_key.path[-1]: e.materialization.metadata for e in rerun.get_asset_materialization_events()
            if e.partition == MODEL_DAY.isoformat()}
    assert meta["boosted_trees_favorited"]["model_sha256"].value == recorded("favorited")
    for h in HEADS:
        assert store.verify(store_name("boosted_trees", h), MODEL_DAY, recorded(h)) in (
            None, f"recap/boosted_trees/{h} {MODEL_DAY}: its evaluation records no artifact sha256")  # untrained heads
    assert run([champion.key]).success
    assert (home / "models/recap/boosted_trees/CHAMPION").read_text().strip() == MODEL_DAY.isoformat()


ADD_HEAD = r'''
import dataclasses, datetime as dt, sys
from pathlib import Path

import dagster as dg

from recap_assets import heads, simulator

# The two steps of adding a head: its entry in heads.HEADS, and its planted probability in the simulator.
head = heads.Head("recap.engagement.is_retweeted_or_replied", 1.0, 0.004, 0.0, 0.0,
                  "bool_or(e.engagement_type IN ('retweet', 'reply'))", base_rate=0.01, band=(0.0, 0.3))
heads.HEADS["retweeted_or_replied"] = dataclasses.replace(head, key="retweeted_or_replied")
heads.LABEL_COLUMNS.append(heads.HEADS["retweeted_or_replied"].column)
planted = simulator.World.planted_probabilities
def with_new_head(p):
    out = planted(p)
    return {**out, "retweeted_or_replied": 1 - (1 - out["retweeted"]) * (1 - out["replied"])}
simulator.World.planted_probabilities = staticmethod(with_new_head)

from recap_assets.common import key
from recap_assets.definitions import ALL_ASSETS
from recap_assets.models import split_days
from recap_assets.report import RANGE_END, RANGE_START, resources, selection

home, day = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2])
train_days, valid_days = split_days(day)
for names, first, last in [(["recap_sources", key("user_days")], valid_days[0], day + dt.timedelta(days=1)),
                           ([key("impressions_labeled"), "recap_training"], train_days[0], day),
                           (["recap_models"], day, day)]:
    dg.materialize(ALL_ASSETS, selection=selection(names), resources=resources(home, "tiny", 11),
                   tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat()})
'''


def test_adding_a_head_is_one_entry_and_its_planted_probability(home):
    """A head added to heads.HEADS (and the simulator) on a warehouse built without it: the stored label and planted
    tables gain its column, its training sets and models are built, no table is dropped by hand."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", ADD_HEAD, str(home), MODEL_DAY.isoformat()], text=True,
                         env={**os.environ, "FEEDTRAIN_HOME": str(home)}, capture_output=True)
    assert run.returncode == 0, run.stderr[-3000:]
    train_days, valid_days = split_days(MODEL_DAY)
    with connect(home) as conn:
        assert conn.scalar("SELECT count(DISTINCT ds) FROM train_retweeted_or_replied") == len(train_days + valid_days)
        assert conn.scalar("SELECT count(*) FROM impressions_labeled WHERE ds = ? AND is_retweeted_or_replied IS NULL",
                           [MODEL_DAY]) == 0
        auc = conn.scalar("SELECT auc FROM model_evaluations WHERE ds = ? AND head = 'retweeted_or_replied' "
                          "AND model = 'boosted_trees'", [MODEL_DAY])
    assert auc is not None and auc > 0.6


# -- consistency across assets (docs/consistency.md) ---------------------------------------------------------------------
def test_blocked_features_make_the_training_sets_refuse_the_day(home):
    """Impressions of D are re-delivered with shifted times: the labels commit from the new impressions while the
    features are blocked (their users day is missing), so D's features were built from the old impressions. The
    per-head training sets must refuse D, naming the stale day, instead of joining old features with new labels."""
    with connect(home) as conn:
        conn.execute("UPDATE impressions SET ts = ts + INTERVAL 7 MINUTE WHERE ds = ? AND hour(ts) BETWEEN 1 AND 22 "
                     "AND impression_id % 3 = 0", [D])
        redeliver(conn, "impressions", D)
        conn.execute("DELETE FROM feedtrain_ledger WHERE table_name = 'users' AND ds = ?", [D])
        before = {t: fingerprint(conn, t, D) for t in ("impression_features", "impressions_labeled", train_table("favorited"))}
    assert materialize(home, ["impressions_labeled"], D).success  # labels and features differ in partitions: two runs
    result = materialize(home, ["impression_features"], D)
    assert not result.success and failed_checks(result) == {"upstream_days_present"}
    with connect(home) as conn:
        assert fingerprint(conn, "impressions_labeled", D) != before["impressions_labeled"]  # new labels committed
        assert fingerprint(conn, "impression_features", D) == before["impression_features"]  # old features kept
    result = materialize(home, [train_table(h) for h in HEADS], D)
    assert not result.success
    failures = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert {e.asset_key.path[-1] for e in failures} == {train_table(h) for h in HEADS}
    assert all(f"impression_features {D} is stale: built from impressions {D}" in e.description for e in failures)
    with connect(home) as conn:
        assert fingerprint(conn, train_table("favorited"), D) == before[train_table("favorited")]


def test_a_second_fresh_build_is_byte_identical(built, tmp_path, monkeypatch):
    """The module's build and a second one in a fresh home, same world and config: identical tables (content hash of
    every row, DOUBLEs by their bits), identical model files (so identical predictions and evaluations)."""
    from digest import differences, file_digests, table_digests

    second = tmp_path / "second"
    monkeypatch.setenv("FEEDTRAIN_HOME", str(second))
    report.build(second, "tiny", 11, MODEL_DAY, log=lambda *_: None)
    first = built[0]
    tables = [table_digests(h / "recap_warehouse.duckdb", "recap") for h in (first, second)]
    files = [file_digests(h / "models") for h in (first, second)]
    assert len(tables[0]) > 20 and len(files[0]) > 20
    assert not differences(*tables), differences(*tables)
    assert not differences(*files), differences(*files)
