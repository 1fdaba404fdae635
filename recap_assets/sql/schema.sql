-- Tables of the recap schema with a fixed shape. Partition column ds is a DATE (a VARCHAR day shifts the IO manager's
-- windows). Tables whose columns come from recap_assets/heads.py (labels, planted probabilities, per-head training
-- sets) or from the feature query are created from their first staged day (recap_assets/assets.py, ensure_table).

-- Raw logs, written by the embedded simulator (or your ingestion in a real deployment). Times are UTC.
CREATE TABLE IF NOT EXISTS users (
    user_id BIGINT NOT NULL, created_at TIMESTAMP NOT NULL, is_verified BOOLEAN NOT NULL,
    ds DATE NOT NULL);                  -- snapshot as of 00:00 of ds
CREATE TABLE IF NOT EXISTS follows (
    source_id BIGINT NOT NULL,          -- follower
    destination_id BIGINT NOT NULL,     -- followed author
    ts TIMESTAMP NOT NULL,              -- when the follow was made
    ds DATE NOT NULL);                  -- day of ts; the first day also holds the graph imported from before it
CREATE TABLE IF NOT EXISTS tweets (
    tweet_id BIGINT NOT NULL, author_id BIGINT NOT NULL, ts TIMESTAMP NOT NULL,
    has_image BOOLEAN NOT NULL, has_video BOOLEAN NOT NULL, has_link BOOLEAN NOT NULL,
    is_reply BOOLEAN NOT NULL, is_retweet BOOLEAN NOT NULL,
    num_hashtags INTEGER NOT NULL, num_mentions INTEGER NOT NULL,
    text_quality DOUBLE NOT NULL,       -- Earlybird-style static text score in [0, 1]
    ds DATE NOT NULL);
CREATE TABLE IF NOT EXISTS impressions (
    impression_id BIGINT NOT NULL, viewer_id BIGINT NOT NULL, tweet_id BIGINT NOT NULL, author_id BIGINT NOT NULL,
    ts TIMESTAMP NOT NULL,              -- when the tweet was shown
    position INTEGER NOT NULL,          -- slot in the viewer's session, 0 = top
    ds DATE NOT NULL);
CREATE TABLE IF NOT EXISTS engagements (
    user_id BIGINT NOT NULL,            -- the viewer whose engagement (or whose reply, for reply_engaged_by_author) it is
    tweet_id BIGINT NOT NULL, author_id BIGINT NOT NULL,
    engagement_type VARCHAR NOT NULL,   -- favorite, retweet, reply, convo_click, profile_click, profile_engage,
                                        -- video_playback_50, negative_feedback, report, reply_engaged_by_author
    ts TIMESTAMP NOT NULL,
    surface VARCHAR NOT NULL,           -- timeline or conversation (a like/reply made after clicking into it)
    dwell_seconds DOUBLE,               -- convo_click only
    ds DATE NOT NULL);                  -- day of ts: an engagement after midnight is in the next day's partition

-- Daily per-user activity (user_days.sql): the rollup the 50-day viewer and author features sum over.
CREATE TABLE IF NOT EXISTS user_days (
    ds DATE NOT NULL, user_id BIGINT NOT NULL,
    viewer_impressions BIGINT NOT NULL,   -- tweets the user was shown that day
    viewer_favorite BIGINT NOT NULL, viewer_retweet BIGINT NOT NULL, viewer_reply BIGINT NOT NULL,
    viewer_convo_click BIGINT NOT NULL, viewer_profile_click BIGINT NOT NULL,
    viewer_video_playback_50 BIGINT NOT NULL, viewer_negative_feedback BIGINT NOT NULL,  -- the user's engagements
    author_impressions BIGINT NOT NULL,   -- impressions of the user's tweets that day
    author_favorite BIGINT NOT NULL, author_retweet BIGINT NOT NULL, author_reply BIGINT NOT NULL,
    author_negative_feedback BIGINT NOT NULL, author_report BIGINT NOT NULL,
    author_reply_engaged_by_author BIGINT NOT NULL);  -- engagements with the user's tweets (and by them on replies)

-- Model evaluations, one set per model day ds (written by the models step).
CREATE TABLE IF NOT EXISTS model_evaluations (
    ds DATE NOT NULL, head VARCHAR NOT NULL, model VARCHAR NOT NULL,
    valid_first DATE NOT NULL, valid_last DATE NOT NULL,
    rows BIGINT NOT NULL, positives BIGINT NOT NULL, train_rows BIGINT,
    auc DOUBLE, rce DOUBLE,             -- RCE = 100 * (CE_ref - CE) / CE_ref on calibrated probabilities
    note VARCHAR,
    artifact_sha256 VARCHAR,            -- sha256 of the model's files (feedtrain/modelstore.py); NULL for baselines
    inputs VARCHAR);                    -- JSON {table: {day: ledger version}} the model was trained and evaluated on
CREATE TABLE IF NOT EXISTS ranking_evaluations (
    ds DATE NOT NULL, weights_version VARCHAR NOT NULL, model VARCHAR NOT NULL,
    valid_first DATE NOT NULL, valid_last DATE NOT NULL,
    ndcg_at_10 DOUBLE, rankings BIGINT NOT NULL);  -- mean over (viewer, day) rankings of the validation days

CREATE TABLE IF NOT EXISTS champion_decisions (
    ds DATE NOT NULL,                   -- the challenger: the heavy ranker (ten boosted-tree heads) of model day ds
    valid_first DATE NOT NULL, valid_last DATE NOT NULL,  -- both are scored on these validation days
    promoted BOOLEAN NOT NULL,
    champion_ds DATE,                   -- the champion it was compared with (NULL for the first model)
    heads_compared INTEGER NOT NULL,    -- heads trained in both models
    challenger_mean_auc DOUBLE, champion_mean_auc DOUBLE, max_auc_drop DOUBLE NOT NULL,
    reason VARCHAR NOT NULL);
