-- Point-in-time features of day $ds's impressions (docs/recap.md §3.3 families that logs can compute), each from events
-- strictly before the impression time i.ts:
-- * batch aggregates ("_50d", "_31d", Real-Graph-style viewer->author) read the complete days [T-50, T-1], which all
--   end before any impression of T (as Twitter's daily aggregate jobs serve yesterday's aggregates);
-- * real-time ones compare timestamps: viewer counts over [i.ts - 24 h, i.ts), tweet counters of everything on the
--   tweet before i.ts, in-network = a follow made before i.ts (ASOF joins with a strict "<" on cumulative counts);
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
viewer_batch AS (
    SELECT user_id AS viewer_id,
           count(*) FILTER (WHERE engagement_type = 'favorite') AS v_favorite_50d,
           count(*) FILTER (WHERE engagement_type = 'retweet') AS v_retweet_50d,
           count(*) FILTER (WHERE engagement_type = 'reply') AS v_reply_50d,
           count(*) FILTER (WHERE engagement_type = 'convo_click') AS v_convo_click_50d,
           count(*) FILTER (WHERE engagement_type = 'profile_click') AS v_profile_click_50d,
           count(*) FILTER (WHERE engagement_type = 'video_playback_50') AS v_video_playback_50_50d,
           count(*) FILTER (WHERE engagement_type = 'negative_feedback') AS v_negative_feedback_50d
    FROM past_eng WHERE user_id IN (SELECT viewer_id FROM imp) AND engagement_type <> 'reply_engaged_by_author'
    GROUP BY user_id
),
viewer_impressions AS (
    SELECT viewer_id, count(*) AS v_impressions_50d FROM past_imp
    WHERE viewer_id IN (SELECT viewer_id FROM imp) GROUP BY viewer_id
),
author_batch AS (
    SELECT author_id,
           count(*) FILTER (WHERE engagement_type = 'favorite') AS a_favorite_50d,
           count(*) FILTER (WHERE engagement_type = 'retweet') AS a_retweet_50d,
           count(*) FILTER (WHERE engagement_type = 'reply') AS a_reply_50d,
           count(*) FILTER (WHERE engagement_type = 'negative_feedback') AS a_negative_feedback_50d,
           count(*) FILTER (WHERE engagement_type = 'report') AS a_report_50d,
           count(*) FILTER (WHERE engagement_type = 'reply_engaged_by_author') AS a_reply_engaged_by_author_50d
    FROM past_eng WHERE author_id IN (SELECT author_id FROM imp) GROUP BY author_id
),
author_impressions AS (
    SELECT author_id, count(*) AS a_impressions_50d FROM past_imp
    WHERE author_id IN (SELECT author_id FROM imp) GROUP BY author_id
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
           sum(n * pow($decay, date_diff('day', ds, $ds::DATE) - 1)) AS va_decayed_engagements,
           min(date_diff('day', ds, $ds::DATE)) AS va_days_since_last_engagement
    FROM pair_days GROUP BY viewer_id, author_id
),
pair_impressions AS (
    SELECT x.viewer_id, x.author_id, count(*) AS va_impressions_50d
    FROM past_imp x SEMI JOIN pairs p ON p.viewer_id = x.viewer_id AND p.author_id = x.author_id
    GROUP BY x.viewer_id, x.author_id
),
-- Real time: cumulative counts per (key, timestamp); an impression takes the last one strictly before it.
viewer_events AS (
    SELECT user_id AS viewer_id, ts,
           count(*) FILTER (WHERE engagement_type = 'favorite') AS favorite,
           count(*) FILTER (WHERE engagement_type = 'retweet') AS retweet,
           count(*) FILTER (WHERE engagement_type = 'reply') AS reply,
           count(*) FILTER (WHERE engagement_type = 'convo_click') AS convo_click,
           count(*) FILTER (WHERE engagement_type = 'negative_feedback') AS negative_feedback
    FROM engagements
    WHERE ds BETWEEN $ds::DATE - 1 AND $ds AND user_id IN (SELECT viewer_id FROM imp)
      AND engagement_type <> 'reply_engaged_by_author'
    GROUP BY user_id, ts
),
viewer_cum AS (
    SELECT viewer_id, ts, sum(favorite) OVER w AS favorite, sum(retweet) OVER w AS retweet, sum(reply) OVER w AS reply,
           sum(convo_click) OVER w AS convo_click, sum(negative_feedback) OVER w AS negative_feedback
    FROM viewer_events WINDOW w AS (PARTITION BY viewer_id ORDER BY ts ROWS UNBOUNDED PRECEDING)
),
viewer_seen AS (
    SELECT viewer_id, ts, sum(count(*)) OVER (PARTITION BY viewer_id ORDER BY ts ROWS UNBOUNDED PRECEDING) AS seen
    FROM impressions WHERE ds BETWEEN $ds::DATE - 1 AND $ds AND viewer_id IN (SELECT viewer_id FROM imp)
    GROUP BY viewer_id, ts
),
viewer_realtime AS (
    SELECT i.impression_id,
           coalesce(n.favorite, 0) - coalesce(o.favorite, 0) AS v_favorite_1d,
           coalesce(n.retweet, 0) - coalesce(o.retweet, 0) AS v_retweet_1d,
           coalesce(n.reply, 0) - coalesce(o.reply, 0) AS v_reply_1d,
           coalesce(n.convo_click, 0) - coalesce(o.convo_click, 0) AS v_convo_click_1d,
           coalesce(n.negative_feedback, 0) - coalesce(o.negative_feedback, 0) AS v_negative_feedback_1d
    FROM imp i
    ASOF LEFT JOIN viewer_cum n ON n.viewer_id = i.viewer_id AND i.ts > n.ts
    ASOF LEFT JOIN viewer_cum o ON o.viewer_id = i.viewer_id AND i.ts - to_hours($realtime_hours::BIGINT) > o.ts
),
viewer_seen_realtime AS (
    SELECT i.impression_id, coalesce(n.seen, 0) - coalesce(o.seen, 0) AS v_impressions_1d
    FROM imp i
    ASOF LEFT JOIN viewer_seen n ON n.viewer_id = i.viewer_id AND i.ts > n.ts
    ASOF LEFT JOIN viewer_seen o ON o.viewer_id = i.viewer_id AND i.ts - to_hours($realtime_hours::BIGINT) > o.ts
),
tweet_events AS (  -- candidates are at most $candidate_days old, so their engagements are all in [T-2, T]
    SELECT tweet_id, ts,
           sum(count(*) FILTER (WHERE engagement_type = 'favorite')) OVER w AS favorites,
           sum(count(*) FILTER (WHERE engagement_type = 'reply')) OVER w AS replies,
           sum(count(*) FILTER (WHERE engagement_type = 'retweet')) OVER w AS retweets
    FROM engagements
    WHERE ds BETWEEN $ds::DATE - $candidate_days AND $ds AND tweet_id IN (SELECT tweet_id FROM imp)
    GROUP BY tweet_id, ts
    WINDOW w AS (PARTITION BY tweet_id ORDER BY ts ROWS UNBOUNDED PRECEDING)
),
tweet_seen AS (
    SELECT tweet_id, ts, sum(count(*)) OVER (PARTITION BY tweet_id ORDER BY ts ROWS UNBOUNDED PRECEDING) AS seen
    FROM impressions
    WHERE ds BETWEEN $ds::DATE - $candidate_days AND $ds AND tweet_id IN (SELECT tweet_id FROM imp)
    GROUP BY tweet_id, ts
),
tweet_realtime AS (
    SELECT i.impression_id, coalesce(c.favorites, 0) AS t_favorites, coalesce(c.replies, 0) AS t_replies,
           coalesce(c.retweets, 0) AS t_retweets, coalesce(s.seen, 0) AS t_impressions
    FROM imp i
    ASOF LEFT JOIN tweet_events c ON c.tweet_id = i.tweet_id AND i.ts > c.ts
    ASOF LEFT JOIN tweet_seen s ON s.tweet_id = i.tweet_id AND i.ts > s.ts
),
first_follow AS (
    SELECT f.source_id AS viewer_id, f.destination_id AS author_id, min(f.ts) AS ts
    FROM follows f SEMI JOIN pairs p ON p.viewer_id = f.source_id AND p.author_id = f.destination_id
    WHERE f.ds <= $ds
    GROUP BY f.source_id, f.destination_id
)
SELECT i.impression_id, i.viewer_id, i.tweet_id, i.author_id, i.ts,
       coalesce(vi.v_impressions_50d, 0)::DOUBLE AS v_impressions_50d,
       coalesce(vb.v_favorite_50d, 0)::DOUBLE AS v_favorite_50d,
       coalesce(vb.v_retweet_50d, 0)::DOUBLE AS v_retweet_50d,
       coalesce(vb.v_reply_50d, 0)::DOUBLE AS v_reply_50d,
       coalesce(vb.v_convo_click_50d, 0)::DOUBLE AS v_convo_click_50d,
       coalesce(vb.v_profile_click_50d, 0)::DOUBLE AS v_profile_click_50d,
       coalesce(vb.v_video_playback_50_50d, 0)::DOUBLE AS v_video_playback_50_50d,
       coalesce(vb.v_negative_feedback_50d, 0)::DOUBLE AS v_negative_feedback_50d,
       vs.v_impressions_1d::DOUBLE AS v_impressions_1d,
       vr.v_favorite_1d::DOUBLE AS v_favorite_1d,
       vr.v_retweet_1d::DOUBLE AS v_retweet_1d,
       vr.v_reply_1d::DOUBLE AS v_reply_1d,
       vr.v_convo_click_1d::DOUBLE AS v_convo_click_1d,
       vr.v_negative_feedback_1d::DOUBLE AS v_negative_feedback_1d,
       coalesce(ai.a_impressions_50d, 0)::DOUBLE AS a_impressions_50d,
       coalesce(ab.a_favorite_50d, 0)::DOUBLE AS a_favorite_50d,
       coalesce(ab.a_retweet_50d, 0)::DOUBLE AS a_retweet_50d,
       coalesce(ab.a_reply_50d, 0)::DOUBLE AS a_reply_50d,
       coalesce(ab.a_negative_feedback_50d, 0)::DOUBLE AS a_negative_feedback_50d,
       coalesce(ab.a_report_50d, 0)::DOUBLE AS a_report_50d,
       coalesce(ab.a_reply_engaged_by_author_50d, 0)::DOUBLE AS a_reply_engaged_by_author_50d,
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
       (epoch_ms(i.ts) - epoch_ms(t.ts)) / 1000.0 AS tweet_age_seconds,
       coalesce(ff.ts < i.ts, false)::DOUBLE AS in_network,
       hour(i.ts)::DOUBLE AS hour_of_day,
       $ds::DATE AS ds
FROM imp i
JOIN (SELECT * FROM tweets WHERE ds BETWEEN $ds::DATE - $candidate_days AND $ds) t ON t.tweet_id = i.tweet_id
LEFT JOIN viewer_impressions vi ON vi.viewer_id = i.viewer_id
LEFT JOIN viewer_batch vb ON vb.viewer_id = i.viewer_id
LEFT JOIN viewer_seen_realtime vs ON vs.impression_id = i.impression_id
LEFT JOIN viewer_realtime vr ON vr.impression_id = i.impression_id
LEFT JOIN author_impressions ai ON ai.author_id = i.author_id
LEFT JOIN author_batch ab ON ab.author_id = i.author_id
LEFT JOIN author_followers af ON af.author_id = i.author_id
LEFT JOIN (SELECT user_id, is_verified FROM users WHERE ds = $ds) u ON u.user_id = i.author_id
LEFT JOIN pair_impressions pi ON pi.viewer_id = i.viewer_id AND pi.author_id = i.author_id
LEFT JOIN pair_batch pb ON pb.viewer_id = i.viewer_id AND pb.author_id = i.author_id
LEFT JOIN tweet_realtime tr ON tr.impression_id = i.impression_id
LEFT JOIN first_follow ff ON ff.viewer_id = i.viewer_id AND ff.author_id = i.author_id
