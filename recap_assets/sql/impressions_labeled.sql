-- docs/recap.md §3.4: one row per impression of day $ds with the 0/1 label of every head (recap_assets/heads.py, docs/recap.md §3.1).
-- An engagement counts for an impression iff it is the viewer's, on the impressed tweet, and happens in
-- [impression time, impression time + $window_minutes) (the label rectification window W of docs/recap.md §3.4). An impression
-- late on T is engaged with after midnight, so engagements of T and T+1 are read.
-- The label column lists (placeholders in braces below) are generated from the heads table; values are named parameters.
WITH imp AS (
    SELECT impression_id, viewer_id, tweet_id, author_id, ts, position, ds FROM impressions WHERE ds = $ds
),
attributed AS (
    SELECT i.impression_id, e.engagement_type, e.ts, e.surface, e.dwell_seconds
    FROM imp i
    JOIN engagements e
      ON e.user_id = i.viewer_id AND e.tweet_id = i.tweet_id
     AND e.ts >= i.ts AND e.ts < i.ts + to_minutes($window_minutes::BIGINT)
    WHERE e.ds BETWEEN $ds::DATE AND $ds::DATE + $label_delay_days
),
labels AS (
    SELECT e.impression_id, {label_columns}
    FROM attributed e
    GROUP BY e.impression_id
)
SELECT i.impression_id, i.viewer_id, i.tweet_id, i.author_id, i.ts, i.position, {label_outputs}, i.ds
FROM imp i LEFT JOIN labels l USING (impression_id)
