-- docs/realgraph.md §2.3 (follow_graph_features.sql): follow edges A->B of day T with B's public tweet count over [T-3, T],
-- top $max_follows_per_source per source by tweet count (ROW_NUMBER; ties broken by destination_id for determinism).
WITH tweet_counts AS (
    SELECT user_id, count(*) AS num_tweets
    FROM public_tweets
    WHERE ds BETWEEN $ds::DATE - ($tweet_count_days - 1) AND $ds::DATE
    GROUP BY user_id
)
SELECT f.source_id, f.destination_id, coalesce(t.num_tweets, 0) AS num_tweets,
       row_number() OVER (PARTITION BY f.source_id ORDER BY coalesce(t.num_tweets, 0) DESC, f.destination_id) AS rn,
       $ds::DATE AS ds
FROM valid_user_follows f LEFT JOIN tweet_counts t ON t.user_id = f.destination_id
WHERE f.ds = $ds
QUALIFY rn <= $max_follows_per_source
