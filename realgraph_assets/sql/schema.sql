-- Tables of the realgraph schema. Partition column ds is a DATE (a VARCHAR day shifts the IO manager's windows).

-- Raw logs (docs/realgraph.md §2), written by the embedded simulator, or by your ingestion in a real deployment.
CREATE TABLE IF NOT EXISTS interaction_graph_labels_daily (
    source_id BIGINT NOT NULL, destination_id BIGINT NOT NULL,
    labels VARCHAR[] NOT NULL,          -- set of FeatureName names A did toward B that day (docs/realgraph.md §2.1)
    dateHour TIMESTAMP NOT NULL,        -- 00:00 UTC of the day
    ds DATE NOT NULL);
CREATE TABLE IF NOT EXISTS interaction_graph_agg_negative_edge_snapshot (
    source_id BIGINT NOT NULL, destination_id BIGINT NOT NULL,
    weight DOUBLE NOT NULL,             -- always 0.0 (docs/realgraph.md §2.2)
    negative_type VARCHAR NOT NULL,     -- num_blocks, num_mutes, num_report_as_abuses, num_report_as_spams, num_unfollows
    age_days INTEGER NOT NULL,          -- days since the negative action
    dateHour TIMESTAMP NOT NULL,
    ds DATE NOT NULL);                  -- snapshot as of the end of day ds
CREATE TABLE IF NOT EXISTS valid_user_follows (
    source_id BIGINT NOT NULL, destination_id BIGINT NOT NULL, ds DATE NOT NULL);
CREATE TABLE IF NOT EXISTS public_tweets (
    user_id BIGINT NOT NULL, tweet_id BIGINT NOT NULL, ts TIMESTAMP NOT NULL, ds DATE NOT NULL);
CREATE TABLE IF NOT EXISTS planted_interaction_probability (
    source_id BIGINT NOT NULL, destination_id BIGINT NOT NULL,
    p_any FLOAT NOT NULL,               -- simulator's planted P(any interaction A->B on day ds)
    p_explicit FLOAT NOT NULL,          -- ... of an explicit interaction (a label variant added since: its column
                                        -- joins at the next load, older days hold NULL)
    ds DATE NOT NULL);

-- Pipeline tables.
CREATE TABLE IF NOT EXISTS interaction_days (
    ds DATE NOT NULL, source_id BIGINT NOT NULL, destination_id BIGINT NOT NULL,
    label_mask INTEGER NOT NULL);       -- the day's label set, one bit per name (realgraph_assets/labels.py)
CREATE TABLE IF NOT EXISTS tweeting_follows (
    source_id BIGINT NOT NULL, destination_id BIGINT NOT NULL, num_tweets BIGINT NOT NULL, rn BIGINT NOT NULL,
    ds DATE NOT NULL);
CREATE TABLE IF NOT EXISTS candidates (
    rn BIGINT NOT NULL, source_id BIGINT NOT NULL, destination_id BIGINT NOT NULL,
    num_days BIGINT NOT NULL, num_tweets BIGINT NOT NULL, days_since_last_interaction BIGINT NOT NULL,
    label_types BIGINT NOT NULL, num_follows BIGINT NOT NULL, num_favorites BIGINT NOT NULL,
    num_tweet_clicks BIGINT NOT NULL, num_profile_views BIGINT NOT NULL,
    -- pair features over the look-back (sql/candidates.sql; docs/models.md): decayed = sum of 0.955^age per day
    days_since_first_interaction BIGINT NOT NULL,
    decayed_days DOUBLE NOT NULL, decayed_explicit DOUBLE NOT NULL, decayed_favorites DOUBLE NOT NULL,
    decayed_replies DOUBLE NOT NULL, decayed_retweets DOUBLE NOT NULL, decayed_mentions DOUBLE NOT NULL,
    decayed_tweet_clicks DOUBLE NOT NULL, decayed_profile_views DOUBLE NOT NULL,
    reciprocal_decayed_days DOUBLE NOT NULL,  -- B's decayed interaction days toward A
    source_share DOUBLE NOT NULL,             -- A's decayed interaction days with B / with everyone
    destination_in_degree BIGINT NOT NULL,    -- distinct sources that interacted with B in the look-back
    long_num_days BIGINT NOT NULL,            -- days with an A->B interaction in [T-90, T] (windows.HISTORY_DAYS)
    ds DATE NOT NULL);
CREATE TABLE IF NOT EXISTS candidates_sampled AS SELECT * FROM candidates LIMIT 0;
-- Labeled candidates: the candidate columns (no rn) and the label (spelled out: CREATE TABLE ... AS SELECT * EXCLUDE
-- does not port to Spark or BigQuery). These and train are the prod variant's tables; every other label variant's
-- (labeled_candidates_explicit, train_explicit, ...: realgraph_assets/labels.py VARIANTS) is created like them on first
-- use (location.variant_table).
CREATE TABLE IF NOT EXISTS labeled_candidates (
    source_id BIGINT NOT NULL, destination_id BIGINT NOT NULL, label INTEGER NOT NULL,
    num_days BIGINT NOT NULL, num_tweets BIGINT NOT NULL, days_since_last_interaction BIGINT NOT NULL,
    label_types BIGINT NOT NULL, num_follows BIGINT NOT NULL, num_favorites BIGINT NOT NULL,
    num_tweet_clicks BIGINT NOT NULL, num_profile_views BIGINT NOT NULL,
    days_since_first_interaction BIGINT NOT NULL,
    decayed_days DOUBLE NOT NULL, decayed_explicit DOUBLE NOT NULL, decayed_favorites DOUBLE NOT NULL,
    decayed_replies DOUBLE NOT NULL, decayed_retweets DOUBLE NOT NULL, decayed_mentions DOUBLE NOT NULL,
    decayed_tweet_clicks DOUBLE NOT NULL, decayed_profile_views DOUBLE NOT NULL,
    reciprocal_decayed_days DOUBLE NOT NULL, source_share DOUBLE NOT NULL, destination_in_degree BIGINT NOT NULL,
    long_num_days BIGINT NOT NULL,
    ds DATE NOT NULL);
CREATE TABLE IF NOT EXISTS train (
    source_id BIGINT NOT NULL, destination_id BIGINT NOT NULL, label INTEGER NOT NULL,
    num_days BIGINT NOT NULL, num_tweets BIGINT NOT NULL, days_since_last_interaction BIGINT NOT NULL,
    label_types BIGINT NOT NULL, num_follows BIGINT NOT NULL, num_favorites BIGINT NOT NULL,
    num_tweet_clicks BIGINT NOT NULL, num_profile_views BIGINT NOT NULL,
    days_since_first_interaction BIGINT NOT NULL,
    decayed_days DOUBLE NOT NULL, decayed_explicit DOUBLE NOT NULL, decayed_favorites DOUBLE NOT NULL,
    decayed_replies DOUBLE NOT NULL, decayed_retweets DOUBLE NOT NULL, decayed_mentions DOUBLE NOT NULL,
    decayed_tweet_clicks DOUBLE NOT NULL, decayed_profile_views DOUBLE NOT NULL,
    reciprocal_decayed_days DOUBLE NOT NULL, source_share DOUBLE NOT NULL, destination_in_degree BIGINT NOT NULL,
    long_num_days BIGINT NOT NULL,
    label_ds DATE NOT NULL,             -- the labeled day the row comes from
    weight DOUBLE NOT NULL,             -- inverse keep probability of the row's class (feedtrain/downsampling.py)
    if_eval BOOLEAN NOT NULL,           -- docs/realgraph.md §1.9 user-hash eval split
    ds DATE NOT NULL);                  -- the train set's day T
CREATE TABLE IF NOT EXISTS model_evaluations (
    ds DATE NOT NULL, variant VARCHAR NOT NULL, model VARCHAR NOT NULL, holdout_ds DATE NOT NULL,
    rows BIGINT NOT NULL, positive_rate DOUBLE NOT NULL,
    auc DOUBLE, pr_auc DOUBLE, log_loss DOUBLE, calibrated_log_loss DOUBLE,
    artifact_sha256 VARCHAR,            -- sha256 of the model's files (feedtrain/modelstore.py); NULL for baselines
    inputs VARCHAR,                     -- JSON {table: {day: ledger version}} the model was trained and evaluated on
    ece DOUBLE);                        -- expected calibration error after the downsampling correction (models only)
CREATE TABLE IF NOT EXISTS champion_decisions (
    variant VARCHAR NOT NULL, model VARCHAR NOT NULL,
    ds DATE NOT NULL,                   -- the challenger: the model trained on day ds
    holdout_ds DATE NOT NULL,           -- both models are scored on this day's labeled candidates
    promoted BOOLEAN NOT NULL,
    champion_ds DATE,                   -- the champion it was compared with (NULL for the first model)
    challenger_auc DOUBLE, champion_auc DOUBLE, max_auc_drop DOUBLE NOT NULL,
    reason VARCHAR NOT NULL);
