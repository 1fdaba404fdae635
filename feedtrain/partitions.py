"""Daily partitions (partition key = ``ds``, a UTC day): the helpers every location builds its windows from.

Every asset is partitioned by day, but the first and last day each asset can have differ, so each location derives one
``DailyPartitionsDefinition`` per layer from ``EVENTS_START`` and its own windows (``realgraph_assets/windows.py``).
"""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

# The first day of raw logs. Read when the code location is imported, not through a resource: Dagster builds every
# partitions definition when it loads the definitions, before any resource exists, so the first offered day cannot
# come from run-time configuration. Overridable so a deployment (or a test) can move the history.
EVENTS_START = dt.date.fromisoformat(os.environ.get("FEEDTRAIN_START_DATE", "2026-06-01"))


def events_start(location: str) -> dt.date:
    """A location's first raw day: ``FEEDTRAIN_<LOCATION>_START_DATE`` if set, else ``EVENTS_START``. The two locations'
    windows differ (31 days for Real Graph's candidates, 71 for a Recap model), so ./run.sh starts each one's history
    where its seed fills every offered day."""
    value = os.environ.get(f"FEEDTRAIN_{location.upper()}_START_DATE")
    return dt.date.fromisoformat(value) if value else EVENTS_START


def daily(first_day_offset: int = 0, end_offset: int = 0, start: dt.date = EVENTS_START) -> dg.DailyPartitionsDefinition:
    """Daily partitions starting ``first_day_offset`` days after ``start`` (a location's first raw day)."""
    start = start + dt.timedelta(days=first_day_offset)
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), end_offset=end_offset)


def window(start_offset: int, end_offset: int = 0, clipped: bool = False) -> dg.TimeWindowPartitionMapping:
    """Day T depends on the upstream days [T + start_offset, T + end_offset]; ``clipped``: only those from the
    upstream's first partition on (a window reaching back before the history began reads what exists)."""
    return dg.TimeWindowPartitionMapping(start_offset=start_offset, end_offset=end_offset,
                                         allow_nonexistent_upstream_partitions=clipped)


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def partition_days(context: dg.AssetExecutionContext) -> list[dt.date]:
    """The days a run covers: one key normally, a range under a single-run backfill policy."""
    tw = context.partition_time_window
    return days_between(tw.start.date(), tw.end.date() - dt.timedelta(days=1))
