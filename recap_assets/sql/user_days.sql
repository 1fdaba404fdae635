-- Daily per-user activity of the days [$first, $last]: what the viewer and author aggregates of impression_features
-- sum over their 50-day window. The asset user_days builds one day at a time, when that day's logs land, so a day's
-- features read 50 partitions of one row per active user instead of re-reading 50 days of raw impressions and
-- engagements for them. (The pair features still read the raw days: pair-days are most of the impressions, so a pair
-- rollup would save little.) One row per user who saw, was shown, engaged or was engaged with on the day. As in the
-- features, reply_engaged_by_author is the author's action on the viewer's reply: it counts for the author only.
WITH seen AS (
    SELECT ds, viewer_id AS user_id, count(*) AS viewer_impressions FROM impressions
    WHERE ds BETWEEN $first AND $last GROUP BY ds, viewer_id
),
shown AS (
    SELECT ds, author_id AS user_id, count(*) AS author_impressions FROM impressions
    WHERE ds BETWEEN $first AND $last GROUP BY ds, author_id
),
engaged AS (
    SELECT ds, user_id,
           count(*) FILTER (WHERE engagement_type = 'favorite') AS viewer_favorite,
           count(*) FILTER (WHERE engagement_type = 'retweet') AS viewer_retweet,
           count(*) FILTER (WHERE engagement_type = 'reply') AS viewer_reply,
           count(*) FILTER (WHERE engagement_type = 'convo_click') AS viewer_convo_click,
           count(*) FILTER (WHERE engagement_type = 'profile_click') AS viewer_profile_click,
           count(*) FILTER (WHERE engagement_type = 'video_playback_50') AS viewer_video_playback_50,
           count(*) FILTER (WHERE engagement_type = 'negative_feedback') AS viewer_negative_feedback
    FROM engagements WHERE ds BETWEEN $first AND $last AND engagement_type <> 'reply_engaged_by_author'
    GROUP BY ds, user_id
),
received AS (
    SELECT ds, author_id AS user_id,
           count(*) FILTER (WHERE engagement_type = 'favorite') AS author_favorite,
           count(*) FILTER (WHERE engagement_type = 'retweet') AS author_retweet,
           count(*) FILTER (WHERE engagement_type = 'reply') AS author_reply,
           count(*) FILTER (WHERE engagement_type = 'negative_feedback') AS author_negative_feedback,
           count(*) FILTER (WHERE engagement_type = 'report') AS author_report,
           count(*) FILTER (WHERE engagement_type = 'reply_engaged_by_author') AS author_reply_engaged_by_author
    FROM engagements WHERE ds BETWEEN $first AND $last GROUP BY ds, author_id
),
active AS (
    SELECT ds, user_id FROM seen UNION SELECT ds, user_id FROM shown
    UNION SELECT ds, user_id FROM engaged UNION SELECT ds, user_id FROM received
)
SELECT a.ds, a.user_id,
       coalesce(s.viewer_impressions, 0) AS viewer_impressions,
       coalesce(e.viewer_favorite, 0) AS viewer_favorite,
       coalesce(e.viewer_retweet, 0) AS viewer_retweet,
       coalesce(e.viewer_reply, 0) AS viewer_reply,
       coalesce(e.viewer_convo_click, 0) AS viewer_convo_click,
       coalesce(e.viewer_profile_click, 0) AS viewer_profile_click,
       coalesce(e.viewer_video_playback_50, 0) AS viewer_video_playback_50,
       coalesce(e.viewer_negative_feedback, 0) AS viewer_negative_feedback,
       coalesce(h.author_impressions, 0) AS author_impressions,
       coalesce(r.author_favorite, 0) AS author_favorite,
       coalesce(r.author_retweet, 0) AS author_retweet,
       coalesce(r.author_reply, 0) AS author_reply,
       coalesce(r.author_negative_feedback, 0) AS author_negative_feedback,
       coalesce(r.author_report, 0) AS author_report,
       coalesce(r.author_reply_engaged_by_author, 0) AS author_reply_engaged_by_author
FROM active a
LEFT JOIN seen s ON s.ds = a.ds AND s.user_id = a.user_id
LEFT JOIN shown h ON h.ds = a.ds AND h.user_id = a.user_id
LEFT JOIN engaged e ON e.ds = a.ds AND e.user_id = a.user_id
LEFT JOIN received r ON r.ds = a.ds AND r.user_id = a.user_id
