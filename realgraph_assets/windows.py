"""Real Graph's windows (SPEC §1) and the daily partitions of each layer, derived from them and ``EVENTS_START``:

- raw logs and their daily aggregates exist from ``EVENTS_START`` to the last complete day;
- candidates for day T need the 31 event days [T-30, T] (SPEC §1.3), so they start 30 days later;
- labels for T need the events of T+1 (SPEC §1.5), so their last partition is the day before yesterday
  (``end_offset=-1``): a schedule or a backfill never asks for labels whose T+1 has not happened yet (SPEC §6.1);
- the train set for T needs ``TRAIN_WINDOW_DAYS`` labeled days ending at T;
- a model trained on T is evaluated on the next day's labeled candidates, whose labels are from T+2 (``end_offset=-2``).
"""

from feedtrain.partitions import daily

LOOKBACK_DAYS = 31  # SPEC §1.3: date_start = T - 30 days, inclusive
LABEL_DELAY_DAYS = 1  # SPEC §1.1: date_labels = date_candidates + 1 day
TRAIN_WINDOW_DAYS = 7  # trailing labeled days per train set: one week covers weekday patterns (S001)
DAILY_DECAY = 0.955  # per day of age, the decay of the production aggregate (interaction_graph agg_all, ~15-day half-life)
TWEET_COUNT_DAYS = 4  # SPEC §2.3: B's public tweets with DATE(ts) in [d - 3, d]

events_partitions = daily()
tweet_count_partitions = daily(TWEET_COUNT_DAYS - 1)
candidate_partitions = daily(LOOKBACK_DAYS - 1)
label_partitions = daily(LOOKBACK_DAYS - 1, end_offset=-LABEL_DELAY_DAYS)
train_partitions = daily(LOOKBACK_DAYS - 1 + TRAIN_WINDOW_DAYS - 1, end_offset=-LABEL_DELAY_DAYS)
model_partitions = daily(LOOKBACK_DAYS - 1 + TRAIN_WINDOW_DAYS - 1, end_offset=-LABEL_DELAY_DAYS - 1)
