"""The ten engagement heads of the Recap heavy ranker: ONE table that drives labels, downsampling, models and metrics.

Each entry carries its docs/recap.md §3.1 label, its docs/recap.md §3.5 downsampling rates, its docs/recap.md §3.2 score weights (v1 and v2), the
SQL that derives the 0/1 label from the impression's attributed engagements, what the label implies (a consistency
check), the base rate the data source is expected to have, and the band a day's positive rate must lie in.  Adding a
head is one entry here (plus, for the simulator, a way to produce it).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Head:
    label: str  # docs/recap.md §3.1 feature name of the label
    spec_pos_rate: float  # docs/recap.md §3.5 pos_downsampling_rate
    spec_neg_rate: float  # docs/recap.md §3.5 neg_downsampling_rate
    weight_v1: float  # docs/recap.md §3.2, README @78c3235
    weight_v2: float  # docs/recap.md §3.2, README @b852108
    label_sql: str  # aggregate over the impression's engagements attributed within the window (alias e)
    base_rate: float  # expected share of impressions with this label (the simulator's design rate)
    band: tuple[float, float]  # a day's positive rate must lie in [low, high] (blocking check)
    implies: str | None = None  # SQL over the labeled row (and its tweet t) that must hold when the label is 1
    v1_max_with: str | None = None  # v1 scores this head as weight * max(p_self, p_other) and ignores the other

    @property
    def column(self) -> str:
        return "is_" + self.key

    key: str = ""


def _followed_by(first: str, then: str) -> str:
    """True iff an event matching ``first`` is at or before an event matching ``then`` (both attributed)."""
    return f"coalesce(min(e.ts) FILTER (WHERE {first}) <= max(e.ts) FILTER (WHERE {then}), false)"


_HEADS = {
    "favorited": Head(
        "recap.engagement.is_favorited", 0.8387, 0.01, 0.5, 0.5,
        "bool_or(e.engagement_type = 'favorite')", base_rate=0.03, band=(0.003, 0.3)),
    "retweeted": Head(
        "recap.engagement.is_retweeted", 0.9561, 0.004, 1.0, 1.0,
        "bool_or(e.engagement_type = 'retweet')", base_rate=0.006, band=(0.0005, 0.06)),
    "replied": Head(
        "recap.engagement.is_replied", 1.0, 0.005, 27.0, 13.5,
        "bool_or(e.engagement_type = 'reply')", base_rate=0.004, band=(0.0004, 0.04)),
    # "clicks into the conversation and then likes or replies there": a conversation click followed (or matched) by a
    # like or reply made on the conversation surface, both inside the window.
    "good_clicked_v1": Head(
        "recap.engagement.is_good_clicked_convo_desc_favorited_or_replied", 0.9164, 0.00195, 11.0, 11.0,
        _followed_by("e.engagement_type = 'convo_click'",
                     "e.engagement_type IN ('favorite', 'reply') AND e.surface = 'conversation'"),
        base_rate=0.01, band=(0.001, 0.1), implies="is_favorited = 1 OR is_replied = 1", v1_max_with="good_clicked_v2"),
    # "clicks into the conversation and stays >= 2 minutes"
    "good_clicked_v2": Head(
        "recap.engagement.is_good_clicked_convo_desc_v2", 1.0, 0.00174, 0.0, 10.0,
        "bool_or(e.engagement_type = 'convo_click' AND e.dwell_seconds >= 120)", base_rate=0.012, band=(0.001, 0.12)),
    "profile_engaged": Head(
        "recap.engagement.is_profile_clicked_and_profile_engaged", 1.0, 0.0015, 12.0, 12.0,
        _followed_by("e.engagement_type = 'profile_click'", "e.engagement_type = 'profile_engage'"),
        base_rate=0.003, band=(0.0003, 0.03)),
    # "replies and the author then likes, replies to or retweets that reply"
    "reply_engaged_by_author": Head(
        "recap.engagement.is_replied_reply_engaged_by_author", 1.0, 0.001, 75.0, 75.0,
        _followed_by("e.engagement_type = 'reply'", "e.engagement_type = 'reply_engaged_by_author'"),
        base_rate=0.0008, band=(0.0, 0.01), implies="is_replied = 1"),
    "video_playback_50": Head(
        "recap.engagement.is_video_playback_50", 1.0, 0.00427, 0.005, 0.005,
        "bool_or(e.engagement_type = 'video_playback_50')", base_rate=0.013, band=(0.002, 0.2), implies="t.has_video"),
    "negative_feedback_v2": Head(
        "recap.engagement.is_negative_feedback_v2", 1.0, 0.00280, -74.0, -74.0,
        "bool_or(e.engagement_type = 'negative_feedback')", base_rate=0.003, band=(0.0003, 0.03)),
    # About 1 in 100,000 impressions: a tiny or default day may have no positive at all, so the band starts at 0.
    "report_tweet_clicked": Head(
        "recap.engagement.is_report_tweet_clicked", 1.0, 0.000014, -369.0, -369.0,
        "bool_or(e.engagement_type = 'report')", base_rate=1e-5, band=(0.0, 0.001)),
}
HEADS: dict[str, Head] = {k: dataclasses.replace(h, key=k) for k, h in _HEADS.items()}
LABEL_COLUMNS = [h.column for h in HEADS.values()]
WEIGHT_VERSIONS = ("v1", "v2")


def keep_rates(head: Head, neg_rate_scale: float = 1.0) -> tuple[float, float]:
    """(pos_rate, neg_rate) for the per-head negative downsampling.

    docs/recap.md §3.5's rates were set for Twitter's (unpublished) base rates.  They keep about as many negatives as positives
    when the base rate is ``b_ref = neg / (pos + neg)`` (for reports 1.4e-5, the "about 1 in 100,000" of the issue), so
    we read them as "about one kept negative per kept positive" and scale the negative rate by ``base_rate / b_ref``
    to the data source's base rate; the positive rate is kept.  Applied literally on a simulated world (e.g. 0.001 for
    reply_engaged_by_author on a few thousand impressions) the published rates would keep a handful of negatives a day.
    ``neg_rate_scale`` multiplies the result (e.g. 3 keeps about three negatives per positive).
    """
    b_ref = head.spec_neg_rate / (head.spec_pos_rate + head.spec_neg_rate)
    neg = min(1.0, head.spec_neg_rate * head.base_rate / b_ref * neg_rate_scale)
    return head.spec_pos_rate, neg


def weights(version: str) -> dict[str, float]:
    """Per-head weight of the heavy-ranker score (docs/recap.md §3.2); v1's good-click max rule is applied in ``score``."""
    if version not in WEIGHT_VERSIONS:
        raise ValueError(f"unknown weights version {version!r}; choose one of {WEIGHT_VERSIONS}")
    return {k: (h.weight_v1 if version == "v1" else h.weight_v2) for k, h in HEADS.items()}


def score(p: dict[str, np.ndarray], version: str = "v1") -> np.ndarray:
    """docs/recap.md §3.2: ``score = sum_i w_i p_i``; in v1 the good-click term is ``11 * max(p_gc_v1, p_gc_v2)`` and the other
    good-click prediction is ignored.  A missing prediction counts as 0 (as in serving)."""
    w = weights(version)
    n = len(next(iter(p.values())))
    total = np.zeros(n)
    ignored = {h.v1_max_with for h in HEADS.values() if version == "v1" and h.v1_max_with}
    for k, head in HEADS.items():
        if k in ignored:
            continue
        pk = p.get(k, np.zeros(n))
        if version == "v1" and head.v1_max_with:
            pk = np.maximum(pk, p.get(head.v1_max_with, np.zeros(n)))
        total = total + w[k] * pk
    return total
