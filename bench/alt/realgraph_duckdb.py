"""One day of the Real Graph chain as one hand-written DuckDB SQL script (the bench's yardstick).

Reads the warehouse read-only, computes interaction_days of T+1 and tweeting_follows, candidates (every feature the
assets compute), the sample, both label variants and both train sets of T (the assets' default sizing: every positive,
negatives for a 5 % positive share but at least 20,000 rows, over the 7 labeled days [T-6, T]), and writes each as
Parquet. FARM_FINGERPRINT and the uniform draw are the project's Arrow UDFs (feedtrain.engine.duckdb); the rest is
plain SQL written the way a team would write it by hand: one statement per table, no Python between them.
"""

import datetime as dt
import time
from pathlib import Path

SCRIPT = """
CREATE TEMP TABLE label_bits AS SELECT * FROM (VALUES {label_bits}) b(name, bit);

CREATE TEMP TABLE interaction_days AS  -- the new event day T+1: the day's label set as a bitmask per pair
SELECT e.source_id, e.destination_id, coalesce(bit_or(b.bit), 0)::INTEGER AS label_mask
FROM (SELECT source_id, destination_id, unnest(CASE WHEN len(labels) = 0 THEN [NULL::VARCHAR] ELSE labels END) AS name
      FROM wh.realgraph.interaction_graph_labels_daily WHERE ds = DATE '{t1}' AND source_id <> destination_id) e
LEFT JOIN label_bits b ON b.name = e.name GROUP BY e.source_id, e.destination_id;

CREATE TEMP TABLE tweeting_follows AS
WITH tweet_counts AS (SELECT user_id, count(*) AS num_tweets FROM wh.realgraph.public_tweets
                      WHERE ds BETWEEN DATE '{t}' - 3 AND DATE '{t}' GROUP BY user_id)
SELECT f.source_id, f.destination_id, coalesce(t.num_tweets, 0) AS num_tweets,
       row_number() OVER (PARTITION BY f.source_id ORDER BY coalesce(t.num_tweets, 0) DESC,
                          farm_fingerprint(f.source_id || '_' || f.destination_id), f.destination_id) AS rn
FROM wh.realgraph.valid_user_follows f LEFT JOIN tweet_counts t ON t.user_id = f.destination_id
WHERE f.ds = DATE '{t}' QUALIFY rn <= 2000;

CREATE TEMP TABLE candidates AS
WITH d AS (
    SELECT source_id, destination_id, label_mask, DATE '{t}' - ds AS age,
           pow({decay}, DATE '{t}' - ds)::DECIMAL(18, 12) AS w  -- exact weights: the sum is order-free
    FROM wh.realgraph.interaction_days WHERE ds BETWEEN DATE '{t}' - 30 AND DATE '{t}'),
w AS (
    SELECT source_id, destination_id, count(*) AS num_days,
           count(*) FILTER (label_mask & {bit_follows} <> 0) AS num_follows,
           count(*) FILTER (label_mask & {bit_favorites} <> 0) AS num_favorites,
           count(*) FILTER (label_mask & {bit_tweet_clicks} <> 0) AS num_tweet_clicks,
           count(*) FILTER (label_mask & {bit_profile_views} <> 0) AS num_profile_views,
           min(age) AS last_age, max(age) AS first_age, bit_count(bit_or(label_mask)) AS label_types,
           sum(w) AS decayed_days,
           coalesce(sum(w) FILTER (label_mask & {explicit_mask} <> 0), 0) AS decayed_explicit,
           coalesce(sum(w) FILTER (label_mask & {bit_favorites} <> 0), 0) AS decayed_favorites,
           coalesce(sum(w) FILTER (label_mask & {bit_replies} <> 0), 0) AS decayed_replies,
           coalesce(sum(w) FILTER (label_mask & {bit_retweets} <> 0), 0) AS decayed_retweets,
           coalesce(sum(w) FILTER (label_mask & {bit_mentions} <> 0), 0) AS decayed_mentions,
           coalesce(sum(w) FILTER (label_mask & {bit_tweet_clicks} <> 0), 0) AS decayed_tweet_clicks,
           coalesce(sum(w) FILTER (label_mask & {bit_profile_views} <> 0), 0) AS decayed_profile_views
    FROM d GROUP BY source_id, destination_id),
src AS (SELECT source_id, sum(decayed_days) AS total FROM w GROUP BY source_id),
dst AS (SELECT destination_id, count(*) AS destination_in_degree FROM w GROUP BY destination_id),
x AS (
    SELECT w.*, coalesce(r.decayed_days, 0) AS reciprocal_decayed_days,
           w.decayed_days::DOUBLE / src.total::DOUBLE AS source_share, dst.destination_in_degree
    FROM w JOIN src USING (source_id) JOIN dst USING (destination_id)
    LEFT JOIN w r ON r.source_id = w.destination_id AND r.destination_id = w.source_id),
p AS (
    SELECT source_id, destination_id, coalesce(num_days, 0) AS num_days, coalesce(f.num_tweets, 0) AS num_tweets,
           coalesce(last_age, 30) AS days_since_last_interaction, coalesce(label_types, 0) AS label_types,
           coalesce(num_follows, 0) AS num_follows, coalesce(num_favorites, 0) AS num_favorites,
           coalesce(num_tweet_clicks, 0) AS num_tweet_clicks, coalesce(num_profile_views, 0) AS num_profile_views,
           coalesce(first_age, 31) AS days_since_first_interaction,
           coalesce(decayed_days, 0)::DOUBLE AS decayed_days, coalesce(decayed_explicit, 0)::DOUBLE AS decayed_explicit,
           coalesce(decayed_favorites, 0)::DOUBLE AS decayed_favorites,
           coalesce(decayed_replies, 0)::DOUBLE AS decayed_replies,
           coalesce(decayed_retweets, 0)::DOUBLE AS decayed_retweets,
           coalesce(decayed_mentions, 0)::DOUBLE AS decayed_mentions,
           coalesce(decayed_tweet_clicks, 0)::DOUBLE AS decayed_tweet_clicks,
           coalesce(decayed_profile_views, 0)::DOUBLE AS decayed_profile_views,
           coalesce(reciprocal_decayed_days, 0)::DOUBLE AS reciprocal_decayed_days,
           coalesce(source_share, 0)::DOUBLE AS source_share, coalesce(destination_in_degree, 0) AS destination_in_degree
    FROM x FULL JOIN tweeting_follows f USING (source_id, destination_id)),
h AS (  -- the pair's long history: interaction days over [T-90, T] (the warehouse holds none before the first event day)
    SELECT source_id, destination_id, count(*) AS long_num_days FROM wh.realgraph.interaction_days
    WHERE ds BETWEEN DATE '{t}' - 90 AND DATE '{t}' GROUP BY source_id, destination_id)
SELECT row_number() OVER (PARTITION BY source_id ORDER BY num_days DESC, num_tweets DESC,
                          farm_fingerprint(source_id || '_' || destination_id), destination_id) AS rn, p.*,
       coalesce(h.long_num_days, 0) AS long_num_days
FROM p LEFT JOIN h USING (source_id, destination_id) ANTI JOIN (SELECT source_id, destination_id FROM wh.realgraph.interaction_graph_agg_negative_edge_snapshot
                  WHERE ds = DATE '{t}') n USING (source_id, destination_id)
QUALIFY rn <= 2000;

CREATE TEMP TABLE candidates_sampled AS  -- 10 buckets of 100, more when that would leave under 20,000 rows
SELECT * FROM candidates
WHERE abs(farm_fingerprint(source_id || '_' || destination_id)::HUGEINT) % 100
      < (SELECT least(100, greatest(10, ceil(100 * 20000 / count(*)))) FROM candidates);
"""
LABELED = """
CREATE TEMP TABLE labeled_candidates{suffix} AS
SELECT s.* EXCLUDE (rn), (coalesce(i.label_mask, 0) & {mask} <> 0)::INTEGER AS label
FROM candidates_sampled s LEFT JOIN interaction_days i USING (source_id, destination_id)
ANTI JOIN (SELECT source_id, destination_id FROM wh.realgraph.interaction_graph_agg_negative_edge_snapshot
           WHERE ds = DATE '{t1}') n USING (source_id, destination_id);
"""
TRAIN = """
CREATE TEMP TABLE train{suffix} AS
WITH w AS (
    SELECT * EXCLUDE (ds), ds AS label_ds FROM wh.realgraph.labeled_candidates{suffix}
    WHERE ds BETWEEN DATE '{t}' - 6 AND DATE '{t}' - 1
    UNION ALL BY NAME SELECT *, DATE '{t}' AS label_ds FROM labeled_candidates{suffix}),
r AS (  -- keep every positive, and negatives for a 5 % positive share but at least 20,000 rows in all
    -- in DOUBLE and in the assets' order of operations (feedtrain.downsampling), so the same rows are drawn
    SELECT least(1.0, greatest(sum(label)::DOUBLE * 0.95::DOUBLE / 0.05::DOUBLE / sum(1 - label)::DOUBLE,
                               (20000 - sum(label))::DOUBLE / sum(1 - label)::DOUBLE)) AS neg_rate
    FROM w)
SELECT w.*, label / 1.0::DOUBLE + (1 - label) / neg_rate AS weight,
       abs(farm_fingerprint(source_id::VARCHAR)::HUGEINT) % 10 = 0 AS if_eval
FROM w, r
WHERE label = 1
   OR fingerprint_uniform(concat_ws('_', source_id, destination_id, label_ds - DATE '1970-01-01', 0)) < neg_rate;
"""


def run(home: Path, day: dt.date, out: Path, _alt: str) -> dict:
    import duckdb

    from feedtrain.engine.duckdb import register_functions
    from realgraph_assets.labels import ALL_LABELS, BIT, EXPLICIT_MASK, VARIANTS

    imported = time.time()
    con = duckdb.connect()
    register_functions(con)
    con.execute(f"ATTACH '{home / 'realgraph_warehouse.duckdb'}' AS wh (READ_ONLY)")
    fmt = {"t": day, "t1": day + dt.timedelta(days=1), "decay": 0.955, "explicit_mask": EXPLICIT_MASK,
           "label_bits": ", ".join(f"('{n}', {BIT[n]})" for n in ALL_LABELS),
           **{f"bit_{n}": BIT[f"num_{n}"] for n in ["follows", "favorites", "tweet_clicks", "profile_views", "replies",
                                                   "retweets", "mentions"]}}
    script = SCRIPT + "".join(LABELED.format(suffix=v.suffix, mask=v.positive_mask, **fmt)
                              + TRAIN.format(suffix=v.suffix, **fmt) for v in VARIANTS.values())
    steps = {}
    for statement in script.format(**fmt).split(";"):
        if statement.strip():
            started = time.time()
            con.execute(statement)
            name = statement.split("CREATE TEMP TABLE ")[-1].split()[0]
            if name != "label_bits":
                con.execute(f"COPY {name} TO '{out / name}.parquet' (FORMAT parquet)")
            steps[name] = time.time() - started
    return {"imported": imported, "steps": steps}
