"""The point-in-time feature list of impression_features (sql/impression_features.sql) and its blocking check.

Feature families (SPEC §3.3, the ones computable from logs): viewer aggregates over 50 days and over the last 24 hours,
author aggregates, viewer x author aggregates with Real-Graph-style edge features, tweet real-time counters as of the
impression, tweet content flags, tweet age, in-network and request context.  Ids, position and labels are not
features: position is decided after ranking.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pyarrow as pa

from feedtrain import hashing
from feedtrain.checks import CheckDef

VIEWER = ["v_impressions_50d", "v_favorite_50d", "v_retweet_50d", "v_reply_50d", "v_convo_click_50d",
          "v_profile_click_50d", "v_video_playback_50_50d", "v_negative_feedback_50d",
          "v_impressions_1d", "v_favorite_1d", "v_retweet_1d", "v_reply_1d", "v_convo_click_1d",
          "v_negative_feedback_1d"]
AUTHOR = ["a_impressions_50d", "a_favorite_50d", "a_retweet_50d", "a_reply_50d", "a_negative_feedback_50d",
          "a_report_50d", "a_reply_engaged_by_author_50d", "a_followers", "a_is_verified"]
VIEWER_AUTHOR = ["va_impressions_50d", "va_engagements_50d", "va_favorite_50d", "va_negative_50d",
                 "va_engaged_days_31d", "va_decayed_engagements", "va_days_since_last_engagement"]
TWEET_REALTIME = ["t_favorites", "t_replies", "t_retweets", "t_impressions"]
TWEET_CONTENT = ["has_image", "has_video", "has_link", "is_reply", "is_retweet", "num_hashtags", "num_mentions",
                 "text_quality", "tweet_age_seconds"]
CONTEXT = ["in_network", "hour_of_day"]
FEATURES = VIEWER + AUTHOR + VIEWER_AUTHOR + TWEET_REALTIME + TWEET_CONTENT + CONTEXT


def popularity(df: pl.DataFrame) -> np.ndarray:
    """The baseline ranker: the tweet's like rate so far, smoothed towards 1/30 by a prior of 30 impressions. (The
    raw like count is the first idea, but on a simulated world a tweet gets a few impressions a day and its count
    mostly measures how often it was shown: AUC 0.51 for likes on the default world against 0.57 for the rate.)"""
    return ((df["t_favorites"].to_numpy() + 1.0) / (df["t_impressions"].to_numpy() + 30.0))

POINT_IN_TIME = CheckDef(
    "point_in_time", "A deterministic sample of rows recomputes equal from raw events strictly before each impression, "
    "with an independent query (blocking).")
EVERY_IMPRESSION = CheckDef("every_impression", "One row per impression of the day, no more, no less (blocking).")

REFERENCE_SQL = (Path(__file__).parent / "sql" / "impression_features_reference.sql").read_text()


def point_in_time(conn, staged: str, day: dt.date, params: dict, sample_rows: int) -> dg.AssetCheckResult:
    """Recompute ``sample_rows`` staged rows (the smallest deterministic draws of feedtrain.hashing.uniform over
    (impression_id, day)) with the reference query and compare every feature."""
    ids = conn.execute(f"SELECT impression_id FROM {staged}").to_arrow_table()["impression_id"]
    if len(ids) == 0:
        return dg.AssetCheckResult(check_name=POINT_IN_TIME.name, passed=True, description="no rows to check")
    draw = hashing.uniform(ids, pa.array(np.full(len(ids), (day - dt.date(1970, 1, 1)).days)))
    chosen = ids.to_numpy()[np.argsort(draw, kind="stable")[:sample_rows]]
    conn.register("sample_ids", pa.table({"impression_id": chosen}))
    conn.execute(f"CREATE OR REPLACE TEMP TABLE sample_impressions AS SELECT impression_id, viewer_id, tweet_id, "
                 f"author_id, ts FROM {staged} SEMI JOIN sample_ids USING (impression_id)")
    used = {k: v for k, v in params.items() if f"${k}" in REFERENCE_SQL}
    reference = conn.execute(REFERENCE_SQL, used).pl().sort("impression_id")
    got = conn.execute(f"SELECT impression_id, {', '.join(FEATURES)} FROM {staged} SEMI JOIN sample_ids "
                       "USING (impression_id) ORDER BY impression_id").pl()
    a, b = got.select(FEATURES).to_numpy(), reference.select(FEATURES).to_numpy()
    bad = ~np.isclose(a, b, rtol=1e-9, atol=1e-9)
    wrong = {f: int(n) for f, n in zip(FEATURES, bad.sum(axis=0)) if n}
    examples = []
    for r, c in zip(*np.nonzero(bad)):
        if len(examples) == 5:
            break
        examples.append({"impression_id": int(got["impression_id"][int(r)]), "feature": FEATURES[c],
                         "stored": float(a[r, c]), "recomputed": float(b[r, c])})
    return dg.AssetCheckResult(
        check_name=POINT_IN_TIME.name, passed=not wrong and got.height == reference.height,
        description=(f"{len(chosen)} sampled rows recompute equal" if not wrong else
                     f"features differ from their recomputation from past events: {wrong}"),
        metadata={"sampled_rows": len(chosen), "mismatches_per_feature": dg.MetadataValue.json(wrong),
                  "examples": dg.MetadataValue.json(examples)})


def every_impression(conn, staged: str, day: dt.date) -> dg.AssetCheckResult:
    rows, distinct = conn.execute(f"SELECT count(*), count(DISTINCT impression_id) FROM {staged}").fetchone()
    expected = conn.execute("SELECT count(*) FROM impressions WHERE ds = ?", [day]).fetchone()[0]
    return dg.AssetCheckResult(
        check_name=EVERY_IMPRESSION.name, passed=rows == distinct == expected and rows > 0,
        description=f"{rows} rows, {distinct} distinct impressions, {expected} impressions that day",
        metadata={"rows": rows, "distinct_impressions": distinct, "impressions": expected})


def frame_features(df: pl.DataFrame) -> np.ndarray:
    return df.select(FEATURES).to_numpy().astype(np.float64)
