-- docs/realgraph.md §1.3 (check_candidates_exist.sql): every pair that interacted on a day of [T-30, T] or is a tweeting follow
-- edge of T, minus the negative edges of T's snapshot, with the ten features of docs/realgraph.md §1.8, keeping the top
-- $max_candidates_per_source per source by RANK over (num_days, num_tweets) descending: ties are kept, so a source
-- can exceed the limit, as in the source.
WITH window_interactions AS (
    SELECT source_id, destination_id,
           count(*) AS num_days,  -- one row per pair and day: COUNT(DISTINCT dateHour)
           count(*) FILTER (WHERE label_mask & $bit_follows <> 0) AS num_follows,
           count(*) FILTER (WHERE label_mask & $bit_favorites <> 0) AS num_favorites,
           count(*) FILTER (WHERE label_mask & $bit_tweet_clicks <> 0) AS num_tweet_clicks,
           count(*) FILTER (WHERE label_mask & $bit_profile_views <> 0) AS num_profile_views,
           max(ds) AS last_interaction_day,
           bit_count(bit_or(label_mask)) AS label_types
    FROM interaction_days
    WHERE ds BETWEEN $ds::DATE - ($lookback_days - 1) AND $ds::DATE
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
           coalesce(date_diff('day', i.last_interaction_day, $ds::DATE), $lookback_days - 1) AS days_since_last_interaction,
           coalesce(i.label_types, 0) AS label_types,
           coalesce(i.num_follows, 0) AS num_follows,
           coalesce(i.num_favorites, 0) AS num_favorites,
           coalesce(i.num_tweet_clicks, 0) AS num_tweet_clicks,
           coalesce(i.num_profile_views, 0) AS num_profile_views
    FROM window_interactions i
    FULL OUTER JOIN follows f ON f.source_id = i.source_id AND f.destination_id = i.destination_id
),
allowed AS (
    SELECT * FROM pairs p
    ANTI JOIN (SELECT source_id, destination_id FROM interaction_graph_agg_negative_edge_snapshot WHERE ds = $ds) n
        ON n.source_id = p.source_id AND n.destination_id = p.destination_id
)
SELECT rank() OVER (PARTITION BY source_id ORDER BY num_days DESC, num_tweets DESC) AS rn,
       source_id, destination_id, num_days, num_tweets, days_since_last_interaction, label_types,
       num_follows, num_favorites, num_tweet_clicks, num_profile_views, $ds::DATE AS ds
FROM allowed
QUALIFY rn <= $max_candidates_per_source
