-- docs/realgraph.md §1.3 (check_candidates_exist.sql): every pair that interacted on a day of [T-30, T] or is a tweeting follow
-- edge of T, minus the negative edges of T's snapshot, with the ten features of docs/realgraph.md §1.8, keeping the top
-- $max_candidates_per_source per source by (num_days, num_tweets) descending.
-- The source's SQL uses RANK(), which keeps every tie: one source with 50,000 destinations all tied at rank 1 kept all
-- of them and became most of a day's rows. Here ROW_NUMBER() breaks ties by FARM_FINGERPRINT of the pair (then the
-- destination id), so the cap holds and the kept set is deterministic; it equals RANK()'s set whenever no tie crosses
-- the cap, and rn equals RANK() whenever there are no ties.
-- Added pair features in the spirit of the production Real Graph edge features (twitter/the-algorithm
-- src/scala/com/twitter/interaction_graph/scio/agg_all/ and .../scio/common/FeatureGeneratorUtil.scala): counts decayed by
-- $decay per day of age (the aggregate's half-life of ~15 days), days since the first and last interaction, B's
-- interactions toward A (reciprocity), A's share of its interactions going to B, and B's in-degree. Everything comes
-- from ONE scan of interaction_days over [T-30, T]: no row at or after T+1 is read. Decayed sums add DECIMAL weights
-- (exact, so the result does not depend on the order in which parallel threads add them) and are cast to DOUBLE last.
-- long_num_days counts the pair's interaction days over the longer history [T - $history_days + 1, T] (a second,
-- narrow scan; the asset reads the days from the first event day on): a tie's rate estimated from 91 days instead
-- of 31, in the spirit of the production aggregate's all-time history. It never decides who is a candidate.
WITH days AS (
    SELECT source_id, destination_id, label_mask, date_diff('day', ds, $ds::DATE) AS age,
           pow($decay, date_diff('day', ds, $ds::DATE))::DECIMAL(18, 12) AS w
    FROM interaction_days
    WHERE ds BETWEEN $ds::DATE - ($lookback_days - 1) AND $ds::DATE
),
window_interactions AS (
    SELECT source_id, destination_id,
           count(*) AS num_days,  -- one row per pair and day: COUNT(DISTINCT dateHour)
           count(*) FILTER (WHERE label_mask & $bit_follows <> 0) AS num_follows,
           count(*) FILTER (WHERE label_mask & $bit_favorites <> 0) AS num_favorites,
           count(*) FILTER (WHERE label_mask & $bit_tweet_clicks <> 0) AS num_tweet_clicks,
           count(*) FILTER (WHERE label_mask & $bit_profile_views <> 0) AS num_profile_views,
           min(age) AS last_age, max(age) AS first_age,
           bit_count(bit_or(label_mask)) AS label_types,
           sum(w) AS decayed_days,
           coalesce(sum(w) FILTER (WHERE label_mask & $explicit_mask <> 0), 0) AS decayed_explicit,
           coalesce(sum(w) FILTER (WHERE label_mask & $bit_favorites <> 0), 0) AS decayed_favorites,
           coalesce(sum(w) FILTER (WHERE label_mask & $bit_replies <> 0), 0) AS decayed_replies,
           coalesce(sum(w) FILTER (WHERE label_mask & $bit_retweets <> 0), 0) AS decayed_retweets,
           coalesce(sum(w) FILTER (WHERE label_mask & $bit_mentions <> 0), 0) AS decayed_mentions,
           coalesce(sum(w) FILTER (WHERE label_mask & $bit_tweet_clicks <> 0), 0) AS decayed_tweet_clicks,
           coalesce(sum(w) FILTER (WHERE label_mask & $bit_profile_views <> 0), 0) AS decayed_profile_views
    FROM days
    GROUP BY source_id, destination_id
),
-- Per-source totals and per-destination in-degrees as GROUP BYs joined back, not as window functions: a window
-- carries every column of its rows through a sort, a hash aggregate only the key (measured: bench/RESULTS.md §4).
source_totals AS (
    SELECT source_id, sum(decayed_days) AS total_decayed_days FROM window_interactions GROUP BY source_id
),
destination_degrees AS (
    SELECT destination_id, count(*) AS destination_in_degree FROM window_interactions GROUP BY destination_id
),
pair_context AS (  -- reciprocity, A's share and B's in-degree, from the same aggregate
    SELECT i.*,
           coalesce(r.decayed_days, 0) AS reciprocal_decayed_days,
           -- divided as DOUBLE, spelled out: DuckDB divides DECIMALs as DOUBLE, Spark as a DECIMAL of reduced scale
           i.decayed_days::DOUBLE / t.total_decayed_days::DOUBLE AS source_share,
           g.destination_in_degree
    FROM window_interactions i
    JOIN source_totals t ON t.source_id = i.source_id
    JOIN destination_degrees g ON g.destination_id = i.destination_id
    LEFT JOIN window_interactions r ON r.source_id = i.destination_id AND r.destination_id = i.source_id
),
history AS (
    SELECT source_id, destination_id, count(*) AS long_num_days
    FROM interaction_days
    WHERE ds BETWEEN $ds::DATE - ($history_days - 1) AND $ds::DATE
    GROUP BY source_id, destination_id
),
follows AS (
    SELECT source_id, destination_id, num_tweets FROM tweeting_follows WHERE ds = $ds
),
pairs AS (
    SELECT coalesce(i.source_id, f.source_id) AS source_id,
           coalesce(i.destination_id, f.destination_id) AS destination_id,
           coalesce(i.num_days, 0) AS num_days,
           coalesce(f.num_tweets, 0) AS num_tweets,
           coalesce(i.last_age, $lookback_days - 1) AS days_since_last_interaction,
           coalesce(i.label_types, 0) AS label_types,
           coalesce(i.num_follows, 0) AS num_follows,
           coalesce(i.num_favorites, 0) AS num_favorites,
           coalesce(i.num_tweet_clicks, 0) AS num_tweet_clicks,
           coalesce(i.num_profile_views, 0) AS num_profile_views,
           coalesce(i.first_age, $lookback_days) AS days_since_first_interaction,  -- lookback_days: never in the window
           coalesce(i.decayed_days, 0)::DOUBLE AS decayed_days,
           coalesce(i.decayed_explicit, 0)::DOUBLE AS decayed_explicit,
           coalesce(i.decayed_favorites, 0)::DOUBLE AS decayed_favorites,
           coalesce(i.decayed_replies, 0)::DOUBLE AS decayed_replies,
           coalesce(i.decayed_retweets, 0)::DOUBLE AS decayed_retweets,
           coalesce(i.decayed_mentions, 0)::DOUBLE AS decayed_mentions,
           coalesce(i.decayed_tweet_clicks, 0)::DOUBLE AS decayed_tweet_clicks,
           coalesce(i.decayed_profile_views, 0)::DOUBLE AS decayed_profile_views,
           coalesce(i.reciprocal_decayed_days, 0)::DOUBLE AS reciprocal_decayed_days,
           coalesce(i.source_share, 0)::DOUBLE AS source_share,
           coalesce(i.destination_in_degree, 0) AS destination_in_degree
    FROM pair_context i
    FULL OUTER JOIN follows f ON f.source_id = i.source_id AND f.destination_id = i.destination_id
),
allowed AS (
    SELECT p.*, coalesce(h.long_num_days, 0) AS long_num_days
    FROM pairs p
    LEFT JOIN history h ON h.source_id = p.source_id AND h.destination_id = p.destination_id
    ANTI JOIN (SELECT source_id, destination_id FROM interaction_graph_agg_negative_edge_snapshot WHERE ds = $ds) n
        ON n.source_id = p.source_id AND n.destination_id = p.destination_id
)
SELECT row_number() OVER (PARTITION BY source_id ORDER BY num_days DESC, num_tweets DESC,
                          farm_fingerprint(source_id::VARCHAR || '_' || destination_id::VARCHAR), destination_id) AS rn,
       *, $ds::DATE AS ds
FROM allowed
QUALIFY rn <= $max_candidates_per_source
