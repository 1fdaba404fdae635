"""Real Graph's windows (docs/realgraph.md §1) and the daily partitions of each layer, derived from them and ``EVENTS_START``:

- raw logs and their daily aggregates exist from ``EVENTS_START`` to the last complete day;
- candidates for day T need the 31 event days [T-30, T] (docs/realgraph.md §1.3), so they start 30 days later, and read
  the pair's long history [T-90, T] from ``EVENTS_START`` on (``history_window``);
- labels for T need the events of T+1 (docs/realgraph.md §1.5), so their last partition is the day before yesterday
  (``end_offset=-1``): a schedule or a backfill never asks for labels whose T+1 has not happened yet (docs/realgraph.md §6.1);
- the train set for T needs ``TRAIN_WINDOW_DAYS`` labeled days ending at T;
- a model trained on T is evaluated on the next day's labeled candidates, whose labels are from T+2 (``end_offset=-2``).
"""

import datetime as dt

from feedtrain.daily import span
from feedtrain.partitions import daily, events_start

EVENTS_START = events_start("realgraph")  # FEEDTRAIN_REALGRAPH_START_DATE, else FEEDTRAIN_START_DATE
LOOKBACK_DAYS = 31  # docs/realgraph.md §1.3: date_start = T - 30 days, inclusive
LABEL_DELAY_DAYS = 1  # docs/realgraph.md §1.1: date_labels = date_candidates + 1 day
TRAIN_WINDOW_DAYS = 7  # trailing labeled days per train set: one week covers weekday patterns (docs/recap.md §5)
HISTORY_DAYS = 91  # the long memory of a pair (long_num_days, docs/models.md): [T-90, T], clipped at EVENTS_START
DAILY_DECAY = 0.955  # per day of age, the decay of the production aggregate (interaction_graph agg_all, ~15-day half-life)
TWEET_COUNT_DAYS = 4  # docs/realgraph.md §2.3: B's public tweets with DATE(ts) in [d - 3, d]

events_partitions = daily(start=EVENTS_START)
tweet_count_partitions = daily(TWEET_COUNT_DAYS - 1, start=EVENTS_START)
candidate_partitions = daily(LOOKBACK_DAYS - 1, start=EVENTS_START)
label_partitions = daily(LOOKBACK_DAYS - 1, end_offset=-LABEL_DELAY_DAYS, start=EVENTS_START)
train_partitions = daily(LOOKBACK_DAYS - 1 + TRAIN_WINDOW_DAYS - 1, end_offset=-LABEL_DELAY_DAYS, start=EVENTS_START)
model_partitions = daily(LOOKBACK_DAYS - 1 + TRAIN_WINDOW_DAYS - 1, end_offset=-LABEL_DELAY_DAYS - 1, start=EVENTS_START)


def history_window(day: dt.date) -> list[dt.date]:
    """The days of a pair's long history on ``day``: [T - HISTORY_DAYS + 1, T], from the first event day on (a log
    younger than HISTORY_DAYS gives what it has, the same on every re-run)."""
    return [d for d in span(day, -(HISTORY_DAYS - 1)) if d >= EVENTS_START]


def days_needed(first: dt.date, last: dt.date) -> str:
    """What a log of days [first, last] can build, in the words of the layers above: the first candidates day needs
    31 days of look-back, the first model day 7 labeled days and its holdout's labels (2 days after it)."""
    candidates = first + dt.timedelta(days=LOOKBACK_DAYS - 1)
    model = candidates + dt.timedelta(days=TRAIN_WINDOW_DAYS - 1)
    needs = model + dt.timedelta(days=2 * LABEL_DELAY_DAYS)
    if last >= needs:
        return (f"first candidates day {candidates}, first model day {model}; model days up to "
                f"{last - dt.timedelta(days=2 * LABEL_DELAY_DAYS)}")
    return (f"warning: {(last - first).days + 1} days are too few for a model: the first model day, {model}, needs "
            f"events up to {needs} ({LOOKBACK_DAYS} days of look-back, {TRAIN_WINDOW_DAYS} labeled days and its "
            f"holdout's labels); " + (f"candidates build from {candidates}" if last >= candidates else
                                      f"no candidates either (the first needs events {first}..{candidates})"))
