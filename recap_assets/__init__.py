"""The Recap ("For You") code location: training data and models of the heavy and light rankers, one day at a time.

One module per layer, each its own asset group (windows.py holds every layer's daily partitions):

sources.py        raw_logs: users, follows, tweets, impressions, engagements, planted_engagement_probability
labels.py         impressions_labeled (ten 0/1 labels per impression, engagements attributed within a window, T and T+1)
features.py       user_days (the daily per-user rollup the 50-day viewer and author features sum), impression_features
                  (point-in-time: only events strictly before each impression)
training_sets.py  training_datasets: train_<head> x 10 (per-head negative downsampling, docs/recap.md §3.5 weights)
models.py         ranker_models: boosted_trees_<head>, light_ranker_<head> (time-based split), model_evaluations,
                  ranking_evaluations; and the training routine (train_and_evaluate)
champion.py       champion: which model day's heavy ranker serves

Every day is staged, checked (blocking checks evaluated before anything is written) and committed in one transaction
(common.py).
"""
