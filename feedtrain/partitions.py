"""The one place that defines the daily partitions (partition key = ``ds``, a UTC day).

Every asset is partitioned by day, but the first and last day each asset can have differ, so each layer gets its own
``DailyPartitionsDefinition`` derived here from one start date and the windows of SPEC §1:

- raw logs and their daily aggregates exist from ``EVENTS_START`` to the last complete day;
- candidates for day T need the 31 event days [T-30, T] (SPEC §1.3), so they start 30 days later;
- labels for T need the events of T+1 (SPEC §1.5), so their last partition is the day before yesterday
  (``end_offset=-1``): a schedule or a backfill never asks for labels whose T+1 has not happened yet (SPEC §6.1);
- the train set for T needs ``TRAIN_WINDOW_DAYS`` labeled days ending at T;
- a model trained on T is evaluated on the next day's labeled candidates, whose labels are from T+2 (``end_offset=-2``).
"""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

# Overridable so a deployment (or a test) can move the history; the default leaves ~6 months of simulated days.
EVENTS_START = dt.date.fromisoformat(os.environ.get("FEEDTRAIN_START_DATE", "2026-06-01"))

LOOKBACK_DAYS = 31  # SPEC §1.3: date_start = T - 30 days, inclusive
LABEL_DELAY_DAYS = 1  # SPEC §1.1: date_labels = date_candidates + 1 day
TRAIN_WINDOW_DAYS = 7  # trailing labeled days per train set: one week covers weekday patterns (S001)
TWEET_COUNT_DAYS = 4  # SPEC §2.3: B's public tweets with DATE(ts) in [d - 3, d]


def daily(first_day_offset: int = 0, end_offset: int = 0) -> dg.DailyPartitionsDefinition:
    """Daily partitions starting ``first_day_offset`` days after ``EVENTS_START``."""
    start = EVENTS_START + dt.timedelta(days=first_day_offset)
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), end_offset=end_offset)


events_partitions = daily()
tweet_count_partitions = daily(TWEET_COUNT_DAYS - 1)
candidate_partitions = daily(LOOKBACK_DAYS - 1)
label_partitions = daily(LOOKBACK_DAYS - 1, end_offset=-LABEL_DELAY_DAYS)
train_partitions = daily(LOOKBACK_DAYS - 1 + TRAIN_WINDOW_DAYS - 1, end_offset=-LABEL_DELAY_DAYS)
model_partitions = daily(LOOKBACK_DAYS - 1 + TRAIN_WINDOW_DAYS - 1, end_offset=-LABEL_DELAY_DAYS - 1)


def window(start_offset: int, end_offset: int = 0) -> dg.TimeWindowPartitionMapping:
    """Day T depends on the upstream days [T + start_offset, T + end_offset]."""
    return dg.TimeWindowPartitionMapping(start_offset=start_offset, end_offset=end_offset)


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def partition_days(context: dg.AssetExecutionContext) -> list[dt.date]:
    """The days a run covers: one key normally, a range under a single-run backfill policy."""
    tw = context.partition_time_window
    return days_between(tw.start.date(), tw.end.date() - dt.timedelta(days=1))


# ---------------------------------------------------------------------------------------------------------------------
# Recap ("For You" heavy and light rankers, recap_assets). Same events start, its own windows:
# - raw logs (users, follows, tweets, impressions, engagements) exist from EVENTS_START;
# - features of day T aggregate the 50 complete days [T-50, T-1] (SPEC §3.3 "50.days" aggregates), so features and
#   labels start 50 days after the events;
# - labels of day T attribute engagements within a window of hours after each impression, so an impression late on T
#   is labeled by engagements of T+1: labels (and all that reads them) end a day earlier (end_offset=-1);
# - a model of day T trains on the per-head sets of the RECAP_TRAIN_DAYS days before its validation days and validates
#   on the RECAP_VALID_DAYS days ending at T (SPEC §5, §6.8: earlier days train, the following week validates).
RECAP_FEATURE_WINDOW_DAYS = 50
RECAP_LABEL_DELAY_DAYS = 1  # engagements of T+1 can belong to impressions of T
RECAP_CANDIDATE_AGE_DAYS = 2  # impressed tweets are at most 48 hours old: tweets of [T-2, T]
RECAP_TRAIN_DAYS = 14
RECAP_VALID_DAYS = 7

recap_events_partitions = daily()
recap_feature_partitions = daily(RECAP_FEATURE_WINDOW_DAYS)
recap_label_partitions = daily(RECAP_FEATURE_WINDOW_DAYS, end_offset=-RECAP_LABEL_DELAY_DAYS)
recap_model_partitions = daily(RECAP_FEATURE_WINDOW_DAYS + RECAP_TRAIN_DAYS + RECAP_VALID_DAYS - 1,
                               end_offset=-RECAP_LABEL_DELAY_DAYS)
