"""Daily partitions (partition key = ``ds``, a UTC day): the helpers every location builds its windows from.

Every asset is partitioned by day, but the first and last day each asset can have differ, so each location derives one
``DailyPartitionsDefinition`` per layer from ``EVENTS_START`` and its own windows (``realgraph_assets/windows.py``).
"""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

# Overridable so a deployment (or a test) can move the history; the default leaves ~6 months of simulated days.
EVENTS_START = dt.date.fromisoformat(os.environ.get("FEEDTRAIN_START_DATE", "2026-06-01"))


def daily(first_day_offset: int = 0, end_offset: int = 0) -> dg.DailyPartitionsDefinition:
    """Daily partitions starting ``first_day_offset`` days after ``EVENTS_START``."""
    start = EVENTS_START + dt.timedelta(days=first_day_offset)
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), end_offset=end_offset)


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
