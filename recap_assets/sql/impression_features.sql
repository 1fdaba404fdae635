-- Point-in-time features of day $ds's impressions (docs/recap.md §3.3 families that logs can compute), each from events
-- strictly before the impression time i.ts:
-- * batch aggregates ("_50d", "_31d", Real-Graph-style viewer->author) read the complete days [T-50, T-1], which all
--   end before any impression of T (as Twitter's daily aggregate jobs serve yesterday's aggregates);
-- * real-time ones compare timestamps: viewer counts over [i.ts - 24 h, i.ts), tweet counters of everything on the
--   tweet before i.ts, in-network = a follow made before i.ts (running sums read strictly before i.ts);
-- * static ones come from the tweet (content flags, made when it was posted) and the users snapshot of 00:00 of T.
-- reply_engaged_by_author rows are the author's action on the viewer's reply: they count for the author, not the viewer.
WITH imp AS (
    SELECT impression_id, viewer_id, tweet_id, author_id, ts FROM impressions WHERE ds = $ds
),
pairs AS (SELECT DISTINCT viewer_id, author_id FROM imp),
past_eng AS (
    SELECT user_id, author_id, engagement_type, ds FROM engagements
    WHERE ds BETWEEN $ds::DATE - $window_days AND $ds::DATE - 1
),
past_imp AS (
    SELECT viewer_id, author_id FROM impressions WHERE ds BETWEEN $ds::DATE - $window_days AND $ds::DATE - 1
),
viewer_window AS (  -- the viewer's 50 days, summed from the daily rollup (user_days.sql)
    SELECT user_id AS viewer_id, sum(viewer_impressions) AS v_impressions_50d,
           sum(viewer_favorite) AS v_favorite_50d, sum(viewer_retweet) AS v_retweet_50d,
           sum(viewer_reply) AS v_reply_50d, sum(viewer_convo_click) AS v_convo_click_50d,
           sum(viewer_profile_click) AS v_profile_click_50d,
           sum(viewer_video_playback_50) AS v_video_playback_50_50d,
           sum(viewer_negative_feedback) AS v_negative_feedback_50d
    FROM user_days
    WHERE ds BETWEEN $ds::DATE - $window_days AND $ds::DATE - 1 AND user_id IN (SELECT viewer_id FROM imp)
    GROUP BY user_id
),
author_window AS (  -- the author's 50 days, likewise
    SELECT user_id AS author_id, sum(author_impressions) AS a_impressions_50d,
           sum(author_favorite) AS a_favorite_50d, sum(author_retweet) AS a_retweet_50d,
           sum(author_reply) AS a_reply_50d, sum(author_negative_feedback) AS a_negative_feedback_50d,
           sum(author_report) AS a_report_50d, sum(author_reply_engaged_by_author) AS a_reply_engaged_by_author_50d
    FROM user_days
    WHERE ds BETWEEN $ds::DATE - $window_days AND $ds::DATE - 1 AND user_id IN (SELECT author_id FROM imp)
    GROUP BY user_id
),
author_followers AS (  -- as of 00:00 of T
    SELECT destination_id AS author_id, count(DISTINCT source_id) AS a_followers FROM follows
    WHERE ds <= $ds AND ts < $ds::TIMESTAMP AND destination_id IN (SELECT author_id FROM imp) GROUP BY destination_id
),
pair_days AS (  -- viewer -> author engagements per day, for the pairs impressed on T
    SELECT e.user_id AS viewer_id, e.author_id, e.ds, count(*) AS n,
           count(*) FILTER (WHERE e.engagement_type = 'favorite') AS n_favorite,
           count(*) FILTER (WHERE e.engagement_type IN ('negative_feedback', 'report')) AS n_negative
    FROM past_eng e SEMI JOIN pairs p ON p.viewer_id = e.user_id AND p.author_id = e.author_id
    WHERE e.engagement_type <> 'reply_engaged_by_author'
    GROUP BY e.user_id, e.author_id, e.ds
),
pair_batch AS (  -- Real-Graph-style edge features (docs/realgraph.md §1.8, §2.4: decay 0.955 a day)
    SELECT viewer_id, author_id,
           sum(n) AS va_engagements_50d, sum(n_favorite) AS va_favorite_50d, sum(n_negative) AS va_negative_50d,
           count(*) FILTER (WHERE ds >= $ds::DATE - $realgraph_days) AS va_engaged_days_31d,
           -- a DOUBLE sum's result depends on the order DuckDB's threads add the terms (1 ULP between runs):
           -- each term rounded to 18 decimals and summed exactly as DECIMAL, so every run gives the same bits
           sum((n * pow($decay, date_diff('day', ds, $ds::DATE) - 1))::DECIMAL(38, 18))::DOUBLE
               AS va_decayed_engagements,
           min(date_diff('day', ds, $ds::DATE)) AS va_days_since_last_engagement
    FROM pair_days GROUP BY viewer_id, author_id
),
pair_impressions AS (
    SELECT x.viewer_id, x.author_id, count(*) AS va_impressions_50d
    FROM past_imp x SEMI JOIN pairs p ON p.viewer_id = x.viewer_id AND p.author_id = x.author_id
    GROUP BY x.viewer_id, x.author_id
),
-- Real time, without ASOF joins (they do not translate): events and "probes" (an impression's time, and that time
-- minus $realtime_hours) are put in one stream per key ordered by time, probes before events of the same instant, so a
-- running sum read at a probe counts exactly the events strictly before it. A viewer's 1-day count is the sum at the
-- impression's probe minus the sum at the earlier one. (Times are never NULL; NULLS FIRST is spelled out because
-- BigQuery cannot express DuckDB's default NULLS LAST in a window.)
viewer_stream AS (
    SELECT user_id AS viewer_id, ts, 1 AS is_event, CAST(NULL AS BIGINT) AS impression_id, 0 AS sign,
           CASE WHEN engagement_type = 'favorite' THEN 1 ELSE 0 END AS favorite,
           CASE WHEN engagement_type = 'retweet' THEN 1 ELSE 0 END AS retweet,
           CASE WHEN engagement_type = 'reply' THEN 1 ELSE 0 END AS reply,
           CASE WHEN engagement_type = 'convo_click' THEN 1 ELSE 0 END AS convo_click,
           CASE WHEN engagement_type = 'negative_feedback' THEN 1 ELSE 0 END AS negative_feedback,
           0 AS seen
    FROM engagements
    WHERE ds BETWEEN $ds::DATE - 1 AND $ds AND user_id IN (SELECT viewer_id FROM imp)
      AND engagement_type <> 'reply_engaged_by_author'
    UNION ALL
    SELECT viewer_id, ts, 1, NULL, 0, 0, 0, 0, 0, 0, 1 FROM impressions
    WHERE ds BETWEEN $ds::DATE - 1 AND $ds AND viewer_id IN (SELECT viewer_id FROM imp)
    UNION ALL
    SELECT viewer_id, ts, 0, impression_id, 1, 0, 0, 0, 0, 0, 0 FROM imp
    UNION ALL
    SELECT viewer_id, ts - INTERVAL ($realtime_hours) HOUR, 0, impression_id, -1, 0, 0, 0, 0, 0, 0 FROM imp
),
viewer_running AS (
    SELECT impression_id, sign, sum(favorite) OVER w AS favorite, sum(retweet) OVER w AS retweet,
           sum(reply) OVER w AS reply, sum(convo_click) OVER w AS convo_click,
           sum(negative_feedback) OVER w AS negative_feedback, sum(seen) OVER w AS seen, is_event
    FROM viewer_stream WINDOW w AS (PARTITION BY viewer_id ORDER BY ts NULLS FIRST, is_event NULLS FIRST ROWS UNBOUNDED PRECEDING)
),
viewer_realtime AS (
    SELECT impression_id,
           sum(sign * favorite) AS v_favorite_1d, sum(sign * retweet) AS v_retweet_1d, sum(sign * reply) AS v_reply_1d,
           sum(sign * convo_click) AS v_convo_click_1d, sum(sign * negative_feedback) AS v_negative_feedback_1d,
           sum(sign * seen) AS v_impressions_1d
    FROM viewer_running WHERE is_event = 0 GROUP BY impression_id
),
tweet_stream AS (  -- candidates are at most $candidate_days old, so their engagements are all in [T-2, T]
    SELECT tweet_id, ts, 1 AS is_event, CAST(NULL AS BIGINT) AS impression_id,
           CASE WHEN engagement_type = 'favorite' THEN 1 ELSE 0 END AS favorites,
           CASE WHEN engagement_type = 'reply' THEN 1 ELSE 0 END AS replies,
           CASE WHEN engagement_type = 'retweet' THEN 1 ELSE 0 END AS retweets,
           0 AS seen
    FROM engagements
    WHERE ds BETWEEN $ds::DATE - $candidate_days AND $ds AND tweet_id IN (SELECT tweet_id FROM imp)
    UNION ALL
    SELECT tweet_id, ts, 1, NULL, 0, 0, 0, 1 FROM impressions
    WHERE ds BETWEEN $ds::DATE - $candidate_days AND $ds AND tweet_id IN (SELECT tweet_id FROM imp)
    UNION ALL
    SELECT tweet_id, ts, 0, impression_id, 0, 0, 0, 0 FROM imp
),
tweet_realtime AS (
    SELECT impression_id, t_favorites, t_replies, t_retweets, t_impressions FROM (
        SELECT impression_id, is_event, sum(favorites) OVER w AS t_favorites, sum(replies) OVER w AS t_replies,
               sum(retweets) OVER w AS t_retweets, sum(seen) OVER w AS t_impressions
        FROM tweet_stream WINDOW w AS (PARTITION BY tweet_id ORDER BY ts NULLS FIRST, is_event NULLS FIRST ROWS UNBOUNDED PRECEDING)
    ) r WHERE is_event = 0
),
first_follow AS (
    SELECT f.source_id AS viewer_id, f.destination_id AS author_id, min(f.ts) AS ts
    FROM follows f SEMI JOIN pairs p ON p.viewer_id = f.source_id AND p.author_id = f.destination_id
    WHERE f.ds <= $ds
    GROUP BY f.source_id, f.destination_id
)
SELECT i.impression_id, i.viewer_id, i.tweet_id, i.author_id, i.ts,
       coalesce(vw.v_impressions_50d, 0)::DOUBLE AS v_impressions_50d,
       coalesce(vw.v_favorite_50d, 0)::DOUBLE AS v_favorite_50d,
       coalesce(vw.v_retweet_50d, 0)::DOUBLE AS v_retweet_50d,
       coalesce(vw.v_reply_50d, 0)::DOUBLE AS v_reply_50d,
       coalesce(vw.v_convo_click_50d, 0)::DOUBLE AS v_convo_click_50d,
       coalesce(vw.v_profile_click_50d, 0)::DOUBLE AS v_profile_click_50d,
       coalesce(vw.v_video_playback_50_50d, 0)::DOUBLE AS v_video_playback_50_50d,
       coalesce(vw.v_negative_feedback_50d, 0)::DOUBLE AS v_negative_feedback_50d,
       vr.v_impressions_1d::DOUBLE AS v_impressions_1d,
       vr.v_favorite_1d::DOUBLE AS v_favorite_1d,
       vr.v_retweet_1d::DOUBLE AS v_retweet_1d,
       vr.v_reply_1d::DOUBLE AS v_reply_1d,
       vr.v_convo_click_1d::DOUBLE AS v_convo_click_1d,
       vr.v_negative_feedback_1d::DOUBLE AS v_negative_feedback_1d,
       coalesce(aw.a_impressions_50d, 0)::DOUBLE AS a_impressions_50d,
       coalesce(aw.a_favorite_50d, 0)::DOUBLE AS a_favorite_50d,
       coalesce(aw.a_retweet_50d, 0)::DOUBLE AS a_retweet_50d,
       coalesce(aw.a_reply_50d, 0)::DOUBLE AS a_reply_50d,
       coalesce(aw.a_negative_feedback_50d, 0)::DOUBLE AS a_negative_feedback_50d,
       coalesce(aw.a_report_50d, 0)::DOUBLE AS a_report_50d,
       coalesce(aw.a_reply_engaged_by_author_50d, 0)::DOUBLE AS a_reply_engaged_by_author_50d,
       coalesce(af.a_followers, 0)::DOUBLE AS a_followers,
       coalesce(u.is_verified, false)::DOUBLE AS a_is_verified,
       coalesce(pi.va_impressions_50d, 0)::DOUBLE AS va_impressions_50d,
       coalesce(pb.va_engagements_50d, 0)::DOUBLE AS va_engagements_50d,
       coalesce(pb.va_favorite_50d, 0)::DOUBLE AS va_favorite_50d,
       coalesce(pb.va_negative_50d, 0)::DOUBLE AS va_negative_50d,
       coalesce(pb.va_engaged_days_31d, 0)::DOUBLE AS va_engaged_days_31d,
       coalesce(pb.va_decayed_engagements, 0)::DOUBLE AS va_decayed_engagements,
       coalesce(pb.va_days_since_last_engagement, $window_days)::DOUBLE AS va_days_since_last_engagement,
       tr.t_favorites::DOUBLE AS t_favorites,
       tr.t_replies::DOUBLE AS t_replies,
       tr.t_retweets::DOUBLE AS t_retweets,
       tr.t_impressions::DOUBLE AS t_impressions,
       t.has_image::DOUBLE AS has_image, t.has_video::DOUBLE AS has_video, t.has_link::DOUBLE AS has_link,
       t.is_reply::DOUBLE AS is_reply, t.is_retweet::DOUBLE AS is_retweet,
       t.num_hashtags::DOUBLE AS num_hashtags, t.num_mentions::DOUBLE AS num_mentions,
       t.text_quality::DOUBLE AS text_quality,
       date_diff('millisecond', t.ts, i.ts) / 1000.0 AS tweet_age_seconds,
       coalesce(ff.ts < i.ts, false)::DOUBLE AS in_network,
       hour(i.ts)::DOUBLE AS hour_of_day,
       $ds::DATE AS ds
FROM imp i
JOIN (SELECT * FROM tweets WHERE ds BETWEEN $ds::DATE - $candidate_days AND $ds) t ON t.tweet_id = i.tweet_id
LEFT JOIN viewer_window vw ON vw.viewer_id = i.viewer_id
LEFT JOIN viewer_realtime vr ON vr.impression_id = i.impression_id
LEFT JOIN author_window aw ON aw.author_id = i.author_id
LEFT JOIN author_followers af ON af.author_id = i.author_id
LEFT JOIN (SELECT user_id, is_verified FROM users WHERE ds = $ds) u ON u.user_id = i.author_id
LEFT JOIN pair_impressions pi ON pi.viewer_id = i.viewer_id AND pi.author_id = i.author_id
LEFT JOIN pair_batch pb ON pb.viewer_id = i.viewer_id AND pb.author_id = i.author_id
LEFT JOIN tweet_realtime tr ON tr.impression_id = i.impression_id
LEFT JOIN first_follow ff ON ff.viewer_id = i.viewer_id AND ff.author_id = i.author_id
