"""Recap's windows and the daily partitions of each of its layers (partition key = ``ds``, a UTC day).

Its own first raw day (``EVENTS_START``: FEEDTRAIN_RECAP_START_DATE, else FEEDTRAIN_START_DATE) and windows:
- raw logs (users, follows, tweets, impressions, engagements) exist from EVENTS_START;
- features of day T aggregate the 50 complete days [T-50, T-1] (docs/recap.md §3.3 "50.days" aggregates), so features and
  labels start 50 days after the events;
- labels of day T attribute engagements within a window of hours after each impression, so an impression late on T
  is labeled by engagements of T+1: labels (and all that reads them) end a day earlier (end_offset=-1);
- a model of day T trains on the per-head sets of the RECAP_TRAIN_DAYS days before its validation days and validates
  on the RECAP_VALID_DAYS days ending at T (docs/recap.md §5, §6.8: earlier days train, the following week validates).
"""

from feedtrain.partitions import daily, events_start

EVENTS_START = events_start("recap")  # FEEDTRAIN_RECAP_START_DATE, else FEEDTRAIN_START_DATE

RECAP_FEATURE_WINDOW_DAYS = 50
RECAP_LABEL_DELAY_DAYS = 1  # engagements of T+1 can belong to impressions of T
RECAP_CANDIDATE_AGE_DAYS = 2  # impressed tweets are at most 48 hours old: tweets of [T-2, T]
RECAP_TRAIN_DAYS = 14
RECAP_VALID_DAYS = 7

recap_events_partitions = daily(start=EVENTS_START)
recap_feature_partitions = daily(RECAP_FEATURE_WINDOW_DAYS, start=EVENTS_START)
recap_label_partitions = daily(RECAP_FEATURE_WINDOW_DAYS, end_offset=-RECAP_LABEL_DELAY_DAYS, start=EVENTS_START)
recap_model_partitions = daily(RECAP_FEATURE_WINDOW_DAYS + RECAP_TRAIN_DAYS + RECAP_VALID_DAYS - 1,
                               end_offset=-RECAP_LABEL_DELAY_DAYS, start=EVENTS_START)
