-- The point-in-time check's independent recomputation of impression_features for a sample of impressions
-- (temp table sample_impressions). Written differently on purpose: every feature is a filtered count over the raw
-- events joined by timestamp only ("e.ts < the impression's ts", windows as timestamp ranges), with no ASOF join and
-- no cumulative sums. If the main query ever reads an event at or after an impression, or gets a window wrong, the
-- two disagree. The raw tables are read over [T - window - 1, T + 1] only (the `ds BETWEEN` conditions): a day wider
-- than any window on each side, so no event the timestamp conditions count is cut (the input contract keeps ts within
-- its ds), and the check's cost follows the window rather than the whole history (a year of logs would be read for
-- every day).
WITH s AS (
    SELECT impression_id, viewer_id, tweet_id, author_id, ts, $ds::TIMESTAMP AS day_start FROM sample_impressions
),
by_viewer AS (
    SELECT s.impression_id, e.engagement_type AS kind, e.ts,
           e.author_id = s.author_id AS same_author,
           e.ts >= s.day_start - INTERVAL ($window_days) DAY AND e.ts < s.day_start AS in_batch,
           e.ts >= s.ts - INTERVAL ($realtime_hours) HOUR AS in_realtime,
           date_diff('day', e.ts::DATE, s.day_start::DATE) AS days_ago
    FROM s JOIN engagements e ON e.user_id = s.viewer_id AND e.ts < s.ts
        AND e.ds BETWEEN $ds::DATE - ($window_days + 1) AND $ds::DATE + 1
    WHERE e.engagement_type <> 'reply_engaged_by_author'
),
viewer_f AS (
    SELECT impression_id,
           count(*) FILTER (WHERE in_batch AND kind = 'favorite') AS v_favorite_50d,
           count(*) FILTER (WHERE in_batch AND kind = 'retweet') AS v_retweet_50d,
           count(*) FILTER (WHERE in_batch AND kind = 'reply') AS v_reply_50d,
           count(*) FILTER (WHERE in_batch AND kind = 'convo_click') AS v_convo_click_50d,
           count(*) FILTER (WHERE in_batch AND kind = 'profile_click') AS v_profile_click_50d,
           count(*) FILTER (WHERE in_batch AND kind = 'video_playback_50') AS v_video_playback_50_50d,
           count(*) FILTER (WHERE in_batch AND kind = 'negative_feedback') AS v_negative_feedback_50d,
           count(*) FILTER (WHERE in_realtime AND kind = 'favorite') AS v_favorite_1d,
           count(*) FILTER (WHERE in_realtime AND kind = 'retweet') AS v_retweet_1d,
           count(*) FILTER (WHERE in_realtime AND kind = 'reply') AS v_reply_1d,
           count(*) FILTER (WHERE in_realtime AND kind = 'convo_click') AS v_convo_click_1d,
           count(*) FILTER (WHERE in_realtime AND kind = 'negative_feedback') AS v_negative_feedback_1d,
           count(*) FILTER (WHERE in_batch AND same_author) AS va_engagements_50d,
           count(*) FILTER (WHERE in_batch AND same_author AND kind = 'favorite') AS va_favorite_50d,
           count(*) FILTER (WHERE in_batch AND same_author AND kind IN ('negative_feedback', 'report')) AS va_negative_50d,
           count(DISTINCT ts::DATE) FILTER (WHERE in_batch AND same_author AND days_ago <= $realgraph_days)
               AS va_engaged_days_31d,
           sum(pow($decay, days_ago - 1)) FILTER (WHERE in_batch AND same_author) AS va_decayed_engagements,
           min(days_ago) FILTER (WHERE in_batch AND same_author) AS va_days_since_last_engagement
    FROM by_viewer GROUP BY impression_id
),
viewer_seen AS (
    SELECT s.impression_id,
           count(*) FILTER (WHERE x.ts >= s.day_start - INTERVAL ($window_days) DAY AND x.ts < s.day_start)
               AS v_impressions_50d,
           count(*) FILTER (WHERE x.ts >= s.ts - INTERVAL ($realtime_hours) HOUR) AS v_impressions_1d,
           count(*) FILTER (WHERE x.author_id = s.author_id AND x.ts >= s.day_start - INTERVAL ($window_days) DAY
                            AND x.ts < s.day_start) AS va_impressions_50d
    FROM s JOIN impressions x ON x.viewer_id = s.viewer_id AND x.ts < s.ts
        AND x.ds BETWEEN $ds::DATE - ($window_days + 1) AND $ds::DATE + 1
    GROUP BY s.impression_id
),
author_f AS (
    SELECT s.impression_id,
           count(*) FILTER (WHERE e.engagement_type = 'favorite') AS a_favorite_50d,
           count(*) FILTER (WHERE e.engagement_type = 'retweet') AS a_retweet_50d,
           count(*) FILTER (WHERE e.engagement_type = 'reply') AS a_reply_50d,
           count(*) FILTER (WHERE e.engagement_type = 'negative_feedback') AS a_negative_feedback_50d,
           count(*) FILTER (WHERE e.engagement_type = 'report') AS a_report_50d,
           count(*) FILTER (WHERE e.engagement_type = 'reply_engaged_by_author') AS a_reply_engaged_by_author_50d
    FROM s JOIN engagements e ON e.author_id = s.author_id
        AND e.ds BETWEEN $ds::DATE - ($window_days + 1) AND $ds::DATE + 1
        AND e.ts >= s.day_start - INTERVAL ($window_days) DAY AND e.ts < s.day_start
    GROUP BY s.impression_id
),
author_seen AS (
    SELECT s.impression_id, count(*) AS a_impressions_50d
    FROM s JOIN impressions x ON x.author_id = s.author_id
        AND x.ds BETWEEN $ds::DATE - ($window_days + 1) AND $ds::DATE + 1
        AND x.ts >= s.day_start - INTERVAL ($window_days) DAY AND x.ts < s.day_start
    GROUP BY s.impression_id
),
followers AS (
    SELECT s.impression_id, count(DISTINCT f.source_id) AS a_followers
    FROM s JOIN follows f ON f.destination_id = s.author_id AND f.ts < s.day_start
    GROUP BY s.impression_id
),
following AS (
    SELECT DISTINCT s.impression_id FROM s JOIN follows f
        ON f.source_id = s.viewer_id AND f.destination_id = s.author_id AND f.ts < s.ts
),
tweet_f AS (
    SELECT s.impression_id,
           count(*) FILTER (WHERE e.engagement_type = 'favorite') AS t_favorites,
           count(*) FILTER (WHERE e.engagement_type = 'reply') AS t_replies,
           count(*) FILTER (WHERE e.engagement_type = 'retweet') AS t_retweets
    FROM s JOIN engagements e ON e.tweet_id = s.tweet_id AND e.ts < s.ts
        AND e.ds BETWEEN $ds::DATE - ($window_days + 1) AND $ds::DATE + 1
    GROUP BY s.impression_id
),
tweet_seen AS (
    SELECT s.impression_id, count(*) AS t_impressions
    FROM s JOIN impressions x ON x.tweet_id = s.tweet_id AND x.ts < s.ts
        AND x.ds BETWEEN $ds::DATE - ($window_days + 1) AND $ds::DATE + 1
    GROUP BY s.impression_id
)
SELECT s.impression_id,
       coalesce(vs.v_impressions_50d, 0)::DOUBLE AS v_impressions_50d,
       coalesce(v.v_favorite_50d, 0)::DOUBLE AS v_favorite_50d,
       coalesce(v.v_retweet_50d, 0)::DOUBLE AS v_retweet_50d,
       coalesce(v.v_reply_50d, 0)::DOUBLE AS v_reply_50d,
       coalesce(v.v_convo_click_50d, 0)::DOUBLE AS v_convo_click_50d,
       coalesce(v.v_profile_click_50d, 0)::DOUBLE AS v_profile_click_50d,
       coalesce(v.v_video_playback_50_50d, 0)::DOUBLE AS v_video_playback_50_50d,
       coalesce(v.v_negative_feedback_50d, 0)::DOUBLE AS v_negative_feedback_50d,
       coalesce(vs.v_impressions_1d, 0)::DOUBLE AS v_impressions_1d,
       coalesce(v.v_favorite_1d, 0)::DOUBLE AS v_favorite_1d,
       coalesce(v.v_retweet_1d, 0)::DOUBLE AS v_retweet_1d,
       coalesce(v.v_reply_1d, 0)::DOUBLE AS v_reply_1d,
       coalesce(v.v_convo_click_1d, 0)::DOUBLE AS v_convo_click_1d,
       coalesce(v.v_negative_feedback_1d, 0)::DOUBLE AS v_negative_feedback_1d,
       coalesce(asn.a_impressions_50d, 0)::DOUBLE AS a_impressions_50d,
       coalesce(a.a_favorite_50d, 0)::DOUBLE AS a_favorite_50d,
       coalesce(a.a_retweet_50d, 0)::DOUBLE AS a_retweet_50d,
       coalesce(a.a_reply_50d, 0)::DOUBLE AS a_reply_50d,
       coalesce(a.a_negative_feedback_50d, 0)::DOUBLE AS a_negative_feedback_50d,
       coalesce(a.a_report_50d, 0)::DOUBLE AS a_report_50d,
       coalesce(a.a_reply_engaged_by_author_50d, 0)::DOUBLE AS a_reply_engaged_by_author_50d,
       coalesce(fo.a_followers, 0)::DOUBLE AS a_followers,
       coalesce((SELECT u.is_verified FROM users u WHERE u.user_id = s.author_id AND u.ds = s.day_start::DATE), false)::DOUBLE
           AS a_is_verified,
       coalesce(vs.va_impressions_50d, 0)::DOUBLE AS va_impressions_50d,
       coalesce(v.va_engagements_50d, 0)::DOUBLE AS va_engagements_50d,
       coalesce(v.va_favorite_50d, 0)::DOUBLE AS va_favorite_50d,
       coalesce(v.va_negative_50d, 0)::DOUBLE AS va_negative_50d,
       coalesce(v.va_engaged_days_31d, 0)::DOUBLE AS va_engaged_days_31d,
       coalesce(v.va_decayed_engagements, 0)::DOUBLE AS va_decayed_engagements,
       coalesce(v.va_days_since_last_engagement, $window_days)::DOUBLE AS va_days_since_last_engagement,
       coalesce(tf.t_favorites, 0)::DOUBLE AS t_favorites,
       coalesce(tf.t_replies, 0)::DOUBLE AS t_replies,
       coalesce(tf.t_retweets, 0)::DOUBLE AS t_retweets,
       coalesce(ts.t_impressions, 0)::DOUBLE AS t_impressions,
       t.has_image::DOUBLE AS has_image, t.has_video::DOUBLE AS has_video, t.has_link::DOUBLE AS has_link,
       t.is_reply::DOUBLE AS is_reply, t.is_retweet::DOUBLE AS is_retweet,
       t.num_hashtags::DOUBLE AS num_hashtags, t.num_mentions::DOUBLE AS num_mentions,
       t.text_quality::DOUBLE AS text_quality,
       date_diff('millisecond', t.ts, s.ts) / 1000.0 AS tweet_age_seconds,
       (fl.impression_id IS NOT NULL)::DOUBLE AS in_network,
       hour(s.ts)::DOUBLE AS hour_of_day
FROM s
LEFT JOIN (SELECT DISTINCT ON (tweet_id) * FROM tweets WHERE ds BETWEEN $ds::DATE - ($window_days + 1) AND $ds::DATE + 1) t
    ON t.tweet_id = s.tweet_id
LEFT JOIN viewer_f v USING (impression_id)
LEFT JOIN viewer_seen vs USING (impression_id)
LEFT JOIN author_f a USING (impression_id)
LEFT JOIN author_seen asn USING (impression_id)
LEFT JOIN followers fo USING (impression_id)
LEFT JOIN following fl USING (impression_id)
LEFT JOIN tweet_f tf USING (impression_id)
LEFT JOIN tweet_seen ts USING (impression_id)
