"""Candidates (docs/realgraph.md §1.3-1.4): the daily per-pair aggregate, tweeting follow edges, the 31-day candidate pairs with
their features, and the deterministic fingerprint sample that is labeled and trained on."""

import math

import dagster as dg
import pyarrow as pa
from pydantic import Field

from feedtrain import checks, hashing
from feedtrain.daily import span
from feedtrain.warehouse import Warehouse, preview, stage

from .labels import BIT, EXPLICIT_MASK
from .location import dep, label_bits_table, sql, warehouse_asset, write_days
from .resources import SCHEMA
from .windows import (DAILY_DECAY, HISTORY_DAYS, LOOKBACK_DAYS, TWEET_COUNT_DAYS, candidate_partitions, events_partitions,
                      history_window, tweet_count_partitions)


@warehouse_asset("interaction_days", events_partitions, "candidates", [dep("interaction_graph_labels_daily")],
                 [checks.UPSTREAM_DAYS_PRESENT, checks.UNIQUE_PAIRS])  # a day with no interactions is a real day
def interaction_days(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Incremental daily per-pair aggregate: one row per (day, A, B) with the day's label set as a bitmask. Candidates
    read 31 of these narrow partitions instead of re-reading 31 days of raw label arrays."""
    with warehouse.connect() as conn:
        label_bits_table(conn)

        def build(day):
            present = checks.upstream_days_present(conn, {"interaction_graph_labels_daily": [day]})
            if not present.passed:
                return [present], {}
            unknown = conn.rows(
                "SELECT DISTINCT name FROM (SELECT unnest(labels) AS name FROM interaction_graph_labels_daily "
                "WHERE ds = $ds) WHERE name NOT IN (SELECT name FROM label_bits)", {"ds": day})
            if unknown:
                raise dg.Failure(f"{SCHEMA}.interaction_graph_labels_daily partition {day}: column labels holds unknown "
                                 f"label names {sorted(u[0] for u in unknown)}; known names are in realgraph_assets/labels.py")
            n = stage(conn, "stage_interaction_days", sql("interaction_days"), {"ds": day})
            return [present, checks.unique_pairs(conn, "stage_interaction_days")], {"dagster/row_count": n}

        yield from write_days(context, conn, "interaction_days", build)


class TweetingFollowsConfig(dg.Config):
    max_follows_per_source: int = Field(2000, description="Follow edges kept per source, by destination tweet count (docs/realgraph.md §2.3).")


@warehouse_asset("tweeting_follows", tweet_count_partitions, "candidates",
                 [dep("valid_user_follows"), dep("public_tweets", -(TWEET_COUNT_DAYS - 1))],
                 [checks.UPSTREAM_DAYS_PRESENT, checks.UNIQUE_PAIRS])
def tweeting_follows(context: dg.AssetExecutionContext, warehouse: Warehouse, config: TweetingFollowsConfig):
    """Follow edges A->B of the day with B's public tweet count over the last 4 days, top 2000 per source."""
    with warehouse.connect() as conn:
        def build(day):
            present = checks.upstream_days_present(conn, {
                "valid_user_follows": [day], "public_tweets": span(day, -(TWEET_COUNT_DAYS - 1))})
            if not present.passed:
                return [present], {}
            n = stage(conn, "stage_tweeting_follows", sql("tweeting_follows"),
                      {"ds": day, "tweet_count_days": TWEET_COUNT_DAYS,
                       "max_follows_per_source": config.max_follows_per_source})
            return [present, checks.unique_pairs(conn, "stage_tweeting_follows")], {"dagster/row_count": n}

        yield from write_days(context, conn, "tweeting_follows", build)


class CandidatesConfig(dg.Config):
    max_candidates_per_source: int = Field(2000, description="K of the per-source top-K cut (docs/realgraph.md §1.3); ties are broken by "
                                           "the pair's fingerprint so the cap holds (sql/candidates.sql).")


@warehouse_asset("candidates", candidate_partitions, "candidates",
                 [dep("interaction_days", -(HISTORY_DAYS - 1), clipped=True), dep("tweeting_follows"),
                  dep("interaction_graph_agg_negative_edge_snapshot")],
                 [checks.UPSTREAM_DAYS_PRESENT, checks.NON_EMPTY, checks.UNIQUE_PAIRS])
def candidates(context: dg.AssetExecutionContext, warehouse: Warehouse, config: CandidatesConfig):
    """Candidate pairs of day T with their features (docs/realgraph.md §1.3, §1.8, and the decayed/reciprocal pair features of
    docs/models.md): pairs that interacted in [T-30, T] or are tweeting follow edges, negative edges removed, top 2000
    per source by (num_days, num_tweets), ties broken by the pair's fingerprint. ``long_num_days`` reads the pair's
    longer history [T-90, T] (from the first event day on)."""
    with warehouse.connect() as conn:
        def build(day):
            present = checks.upstream_days_present(conn, {
                "interaction_days": history_window(day), "tweeting_follows": [day],
                "interaction_graph_agg_negative_edge_snapshot": [day]})
            if not present.passed:
                return [present], {}
            params = {"ds": day, "lookback_days": LOOKBACK_DAYS, "history_days": HISTORY_DAYS, "decay": DAILY_DECAY,
                      "explicit_mask": EXPLICIT_MASK,
                      "max_candidates_per_source": config.max_candidates_per_source,
                      **{f"bit_{n.removeprefix('num_')}": BIT[n] for n in
                         ("num_follows", "num_favorites", "num_tweet_clicks", "num_profile_views", "num_replies",
                          "num_retweets", "num_mentions")}}
            n = stage(conn, "stage_candidates", sql("candidates"), params)
            sources = conn.scalar("SELECT count(DISTINCT source_id) FROM stage_candidates")
            return ([present, checks.non_empty(conn, "stage_candidates"), checks.unique_pairs(conn, "stage_candidates")],
                    {"dagster/row_count": n, "sources": sources, "preview": preview(conn, "FROM stage_candidates")})

        yield from write_days(context, conn, "candidates", build)


class SamplingConfig(dg.Config):
    mod_remainder: int = Field(0, ge=0, le=99, description="$mod_remainder$ of docs/realgraph.md §1.4: first FARM_FINGERPRINT bucket (0-99) kept.")
    sample_percent: int = Field(
        10, ge=1, le=100, description="Buckets kept, i.e. the sample rate in per cent. docs/realgraph.md §1.4 keeps 1 bucket of 100, sized for "
        "Twitter's billions of candidate pairs; the embedded worlds have 10^4-10^5 users, where 1 % leaves a few "
        "thousand training rows a day, so the default keeps 10. Set 1 for the literal rule.")
    min_rows: int = Field(
        20_000, ge=0, description="Sized for the data: a day with few candidates keeps more buckets, "
        "ceil(100 * min_rows / candidates) of them (all when it has fewer than min_rows), so a sparse log (a few "
        "thousand candidates a day) is labeled whole instead of leaving a handful of positives. Buckets are nested, "
        "so a pair kept at the configured rate is kept at any higher one. 0 gives the literal rule.")


@warehouse_asset("candidates_sampled", candidate_partitions, "candidates", [dep("candidates")],
                 [checks.UPSTREAM_DAYS_PRESENT, checks.NON_EMPTY, checks.UNIQUE_PAIRS])
def candidates_sampled(context: dg.AssetExecutionContext, warehouse: Warehouse, config: SamplingConfig):
    """Deterministic fingerprint sample of the day's candidates (docs/realgraph.md §1.4): a pair is kept iff
    MOD(ABS(FARM_FINGERPRINT('<source_id>_<destination_id>')), 100) falls in the configured buckets, so the same pair
    gets the same decision on every day and every machine."""
    with warehouse.connect() as conn:
        def build(day):
            # Also records the candidates version read, so labels built on this sample go stale when candidates change.
            present = checks.upstream_days_present(conn, {"candidates": [day]})
            if not present.passed:
                return [present], {}
            pairs = conn.arrow("SELECT source_id, destination_id FROM candidates WHERE ds = ?", [day])
            if pairs.num_rows == 0:
                raise dg.Failure(f"{SCHEMA}.candidates partition {day} is empty")
            b = hashing.pair_bucket(pairs["source_id"], pairs["destination_id"])
            buckets = min(100, max(config.sample_percent, math.ceil(100 * config.min_rows / pairs.num_rows)))
            kept = pairs.filter(pa.array((b - config.mod_remainder) % 100 < buckets))
            conn.register("kept_pairs", kept)
            n = stage(conn, "stage_candidates_sampled",
                      "SELECT c.* FROM candidates c SEMI JOIN kept_pairs k "
                      "ON k.source_id = c.source_id AND k.destination_id = c.destination_id WHERE c.ds = $ds", {"ds": day})
            return ([present, checks.non_empty(conn, "stage_candidates_sampled"),
                     checks.unique_pairs(conn, "stage_candidates_sampled")],
                    {"dagster/row_count": n, "candidates": pairs.num_rows, "sample_rate": n / pairs.num_rows,
                     "buckets_kept": buckets})

        yield from write_days(context, conn, "candidates_sampled", build)
