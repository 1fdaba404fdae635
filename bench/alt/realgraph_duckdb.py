"""One day of the Real Graph chain as one hand-written DuckDB SQL script (the bench's yardstick).

Reads the warehouse read-only, computes interaction_days of T+1 and tweeting_follows, candidates, the sample, both
label variants and both train sets of T, and writes each as Parquet. FARM_FINGERPRINT is the project's Arrow UDF
(feedtrain.engine.duckdb); the rest is plain SQL.
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
       row_number() OVER (PARTITION BY f.source_id ORDER BY coalesce(t.num_tweets, 0) DESC, f.destination_id) AS rn
FROM wh.realgraph.valid_user_follows f LEFT JOIN tweet_counts t ON t.user_id = f.destination_id
WHERE f.ds = DATE '{t}' QUALIFY rn <= 2000;

CREATE TEMP TABLE candidates AS
WITH w AS (
    SELECT source_id, destination_id, count(*) AS num_days,
           count(*) FILTER (WHERE label_mask & {bit_follows} <> 0) AS num_follows,
           count(*) FILTER (WHERE label_mask & {bit_favorites} <> 0) AS num_favorites,
           count(*) FILTER (WHERE label_mask & {bit_tweet_clicks} <> 0) AS num_tweet_clicks,
           count(*) FILTER (WHERE label_mask & {bit_profile_views} <> 0) AS num_profile_views,
           max(ds) AS last_day, bit_count(bit_or(label_mask)) AS label_types
    FROM wh.realgraph.interaction_days WHERE ds BETWEEN DATE '{t}' - 30 AND DATE '{t}'
    GROUP BY source_id, destination_id),
p AS (
    SELECT coalesce(w.source_id, f.source_id) AS source_id, coalesce(w.destination_id, f.destination_id) AS destination_id,
           coalesce(num_days, 0) AS num_days, coalesce(f.num_tweets, 0) AS num_tweets,
           coalesce(date_diff('day', last_day, DATE '{t}'), 30) AS days_since_last_interaction,
           coalesce(label_types, 0) AS label_types, coalesce(num_follows, 0) AS num_follows,
           coalesce(num_favorites, 0) AS num_favorites, coalesce(num_tweet_clicks, 0) AS num_tweet_clicks,
           coalesce(num_profile_views, 0) AS num_profile_views
    FROM w FULL JOIN tweeting_follows f USING (source_id, destination_id))
SELECT rank() OVER (PARTITION BY source_id ORDER BY num_days DESC, num_tweets DESC) AS rn, p.*
FROM p ANTI JOIN (SELECT source_id, destination_id FROM wh.realgraph.interaction_graph_agg_negative_edge_snapshot
                  WHERE ds = DATE '{t}') n USING (source_id, destination_id)
QUALIFY rn <= 2000;

CREATE TEMP TABLE candidates_sampled AS
SELECT * FROM candidates WHERE abs(farm_fingerprint(source_id || '_' || destination_id)::HUGEINT) % 100 < 10;
"""
LABELED = """
CREATE TEMP TABLE labeled_candidates{suffix} AS
SELECT s.source_id, s.destination_id, (coalesce(i.label_mask, 0) & {mask} <> 0)::INTEGER AS label, s.num_days,
       s.num_tweets, s.num_follows, s.num_favorites, s.num_tweet_clicks, s.num_profile_views,
       s.days_since_last_interaction, s.label_types
FROM candidates_sampled s LEFT JOIN interaction_days i USING (source_id, destination_id)
ANTI JOIN (SELECT source_id, destination_id FROM wh.realgraph.interaction_graph_agg_negative_edge_snapshot
           WHERE ds = DATE '{t1}') n USING (source_id, destination_id);
"""
TRAIN = """
CREATE TEMP TABLE train{suffix} AS
WITH w AS (
    SELECT * EXCLUDE (ds), ds AS label_ds FROM wh.realgraph.labeled_candidates{suffix}
    WHERE ds BETWEEN DATE '{t}' - 6 AND DATE '{t}' - 1
    UNION ALL SELECT *, DATE '{t}' AS label_ds FROM labeled_candidates{suffix}),
r AS (SELECT avg(label) AS p FROM w)
SELECT w.*, label / (1 - p) + (1 - label) / p AS weight,
       abs(farm_fingerprint(source_id::VARCHAR)::HUGEINT) % 10 = 0 AS if_eval
FROM w, r
WHERE fingerprint_uniform(concat_ws('_', source_id, destination_id, date_diff('day', DATE '1970-01-01', label_ds), 0))
      < CASE WHEN label = 1 THEN 1 - p ELSE p END;
"""


def run(home: Path, day: dt.date, out: Path, _alt: str) -> dict:
    import duckdb

    from feedtrain.engine.duckdb import register_functions
    from realgraph_assets.labels import ALL_LABELS, BIT, VARIANTS

    imported = time.time()
    con = duckdb.connect()
    register_functions(con)
    con.execute(f"ATTACH '{home / 'realgraph_warehouse.duckdb'}' AS wh (READ_ONLY)")
    fmt = {"t": day, "t1": day + dt.timedelta(days=1),
           "label_bits": ", ".join(f"('{n}', {BIT[n]})" for n in ALL_LABELS),
           **{f"bit_{n}": BIT[f"num_{n}"] for n in ["follows", "favorites", "tweet_clicks", "profile_views"]}}
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
