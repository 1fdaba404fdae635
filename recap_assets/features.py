"""Layer 3, recap_features: user_days (sql/user_days.sql), the daily per-user rollup the 50-day viewer and author
features sum over; impression_features (sql/impression_features.sql), its feature list and its blocking point-in-time
check.

Feature families (docs/recap.md §3.3, the ones computable from logs): viewer aggregates over 50 days and over the last 24 hours,
author aggregates, viewer x author aggregates with Real-Graph-style edge features, tweet real-time counters as of the
impression, tweet content flags, tweet age, in-network and request context.  Ids, position and labels are not
features: position is decided after ranking.
"""

import datetime as dt
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field

from feedtrain import checks, daily, hashing, quality
from feedtrain.automation import OWNERS, WHEN_INPUTS_READY
from feedtrain.checks import CheckDef
from feedtrain.daily import span
from feedtrain.partitions import window
from feedtrain.warehouse import Warehouse, engine_kind, preview, stage

from .common import EVERY_IMPRESSION, IMPRESSION_CONTRACT, POLICY, POOL, RAW_DAYS, dep, ensure_table, \
    every_impression, key, sql
from .resources import SCHEMA
from .windows import (
    RECAP_CANDIDATE_AGE_DAYS,
    RECAP_FEATURE_WINDOW_DAYS,
    recap_events_partitions,
    recap_feature_partitions,
)

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

REFERENCE_SQL = (Path(__file__).parent / "sql" / "impression_features_reference.sql").read_text()


def point_in_time(conn, staged: str, day: dt.date, params: dict, sample_rows: int) -> dg.AssetCheckResult:
    """Recompute ``sample_rows`` staged rows (the smallest deterministic draws of feedtrain.hashing.uniform over
    (impression_id, day)) with the reference query and compare every feature."""
    ids = conn.arrow(f"SELECT impression_id FROM {staged}")["impression_id"]
    if len(ids) == 0:
        return dg.AssetCheckResult(check_name=POINT_IN_TIME.name, passed=True, description="no rows to check")
    draw = hashing.uniform(ids, pa.array(np.full(len(ids), (day - dt.date(1970, 1, 1)).days)))
    chosen = ids.to_numpy()[np.argsort(draw, kind="stable")[:sample_rows]]
    conn.register("sample_ids", pa.table({"impression_id": chosen}))
    conn.execute(f"CREATE OR REPLACE TEMP TABLE sample_impressions AS SELECT impression_id, viewer_id, tweet_id, "
                 f"author_id, ts FROM {staged} SEMI JOIN sample_ids USING (impression_id)")
    used = {k: v for k, v in params.items() if f"${k}" in REFERENCE_SQL}
    reference = conn.polars(REFERENCE_SQL, used).sort("impression_id")
    got = conn.polars(f"SELECT impression_id, {', '.join(FEATURES)} FROM {staged} SEMI JOIN sample_ids "
                       "USING (impression_id) ORDER BY impression_id")
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


# ---------------------------------------------------------------------------------------------------------------------
# The asset.
REALTIME_HOURS = 24  # "1 day" real-time viewer aggregates: [ts - 24 h, ts)
REALGRAPH_DAYS = 31  # docs/realgraph.md §1.3 look-back of the Real-Graph-style edge features
DECAY = 0.955  # docs/realgraph.md §2.4 daily decay (ONE_MINUS_ALPHA)


class FeaturesConfig(dg.Config):
    point_in_time_sample_rows: int = Field(
        200, description="Rows per day recomputed from raw events by the point-in-time check (deterministic sample).")


def feature_params(day: dt.date) -> dict:
    return {"ds": day, "window_days": RECAP_FEATURE_WINDOW_DAYS, "realtime_hours": REALTIME_HOURS,
            "realgraph_days": REALGRAPH_DAYS, "decay": DECAY, "candidate_days": RECAP_CANDIDATE_AGE_DAYS}


def stage_features(conn, day: dt.date, query: str | None = None) -> int:
    return stage(conn, "stage_impression_features", query or sql("impression_features"), feature_params(day))


USER_DAYS_CONTRACT = quality.Contract(("user_id",))


@dg.asset(key=key("user_days"), owners=OWNERS, automation_condition=WHEN_INPUTS_READY,
          deps=[dep("impressions"), dep("engagements")], partitions_def=recap_events_partitions,
          group_name="recap_features", kinds={engine_kind()}, backfill_policy=POLICY, pool=POOL,
          metadata={"partition_expr": "ds"},
          check_specs=[*checks.specs(key("user_days"), RAW_DAYS), *quality.specs(key("user_days"))])
def user_days(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Daily per-user activity (sql/user_days.sql): one row per user who saw, was shown, engaged or was engaged with
    that day, with the day's impressions and engagements by type as a viewer and as an author. impression_features
    sums 50 of these partitions for its viewer and author aggregates instead of re-reading 50 days of raw events
    (the day's own rollup is built once, when its raw logs land)."""
    with warehouse.connect() as conn:
        def build(day):
            present = checks.upstream_days_present(conn, {"impressions": [day], "engagements": [day]})
            if not present.passed:
                return [present], {}
            n = stage(conn, "stage_user_days", sql("user_days"), {"first": day, "last": day})
            return [present], {"dagster/row_count": n}

        yield from daily.write_days(context, conn, SCHEMA, "user_days", build, USER_DAYS_CONTRACT)


@dg.asset(key=key("impression_features"), owners=OWNERS, automation_condition=WHEN_INPUTS_READY,
          deps=[dep("impressions", -RECAP_FEATURE_WINDOW_DAYS), dep("engagements", -RECAP_FEATURE_WINDOW_DAYS),
                dep("user_days", -RECAP_FEATURE_WINDOW_DAYS, -1), dep("tweets", -RECAP_CANDIDATE_AGE_DAYS),
                dep("users"),
                # every follow made before T: a window reaching back past the first day, clamped to it by Dagster
                dg.AssetDep(key("follows"), partition_mapping=window(-100_000, 0))],
          partitions_def=recap_feature_partitions, group_name="recap_features", kinds={engine_kind()},
          backfill_policy=POLICY, pool=POOL, metadata={"partition_expr": "ds"},
          check_specs=[*checks.specs(key("impression_features"), RAW_DAYS, EVERY_IMPRESSION, POINT_IN_TIME),
                       *quality.specs(key("impression_features"))])
def impression_features(context: dg.AssetExecutionContext, warehouse: Warehouse, config: FeaturesConfig):
    """Point-in-time features of every impression of day T (features.py): viewer, author and viewer x author
    aggregates over the 50 days before T, viewer counts over the 24 hours before the impression, the tweet's real-time
    counters as of the impression, content flags, tweet age, in-network (a follow made before the impression) and
    Real-Graph-style viewer->author edge features. Nothing at or after the impression's time is read; a blocking check
    recomputes a sample of rows from raw events with an independent query."""
    first_day = recap_events_partitions.start.date()
    with warehouse.connect() as conn:
        def build(day):
            present = checks.upstream_days_present(conn, {
                "impressions": span(day, -RECAP_FEATURE_WINDOW_DAYS), "engagements": span(day, -RECAP_FEATURE_WINDOW_DAYS),
                "user_days": span(day, -RECAP_FEATURE_WINDOW_DAYS, -1),
                "tweets": span(day, -RECAP_CANDIDATE_AGE_DAYS), "users": [day],
                "follows": span(day, (first_day - day).days)})
            if not present.passed:
                return [present], {}
            rel = "stage_impression_features"
            n = stage_features(conn, day)
            ensure_table(conn, "impression_features", rel)
            pit = point_in_time(conn, rel, day, feature_params(day), config.point_in_time_sample_rows)
            return ([present, every_impression(conn, rel, day), pit],
                    {"dagster/row_count": n, "features": len(FEATURES),
                     "in_network_share": conn.scalar(f"SELECT avg(in_network) FROM {rel}"),
                     "point_in_time_rows_checked": pit.metadata["sampled_rows"].value,
                     "preview": preview(conn, f"SELECT impression_id, {', '.join(FEATURES[:12])} FROM {rel}")})

        yield from daily.write_days(context, conn, SCHEMA, "impression_features", build, IMPRESSION_CONTRACT)

