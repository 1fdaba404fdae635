"""Downsampling rules, inverse-probability weights and the calibration correction, in one place.

Real Graph's docs/realgraph.md §1.7 rule: with p the positive rate, negatives are kept with probability p and positives with
1 - p, giving roughly 50/50.  At a 0.5 % positive rate that throws away 99.5 % of the negatives and leaves a few hundred
rows, so the default (``TrainSizing``) keeps every positive and enough negatives for a stated positive share, and never
fewer rows than ``min_rows`` (every row when the window is thin); the SPEC rule is ``rule="spec"``.  Whatever the rule,
each kept row weighs the inverse of its class's keep rate and ``calibrate`` maps scores back with the same two rates.
The draw is a deterministic uniform per (pair, labeled day, seed) instead of BigQuery's unseeded RAND(), so the same
inputs always give the same train set.  Recap (docs/recap.md §3.5) keeps per-task rates.
"""

from __future__ import annotations

from typing import Literal

import dagster as dg
import numpy as np
from pydantic import Field


class TrainSizing(dg.Config):
    """How a Real Graph training set is sized for the data (docs/models.md): the window of labeled days and the
    downsampling target."""

    rule: Literal["positive_share", "negative_keep_rate", "spec"] = Field(
        "positive_share", description="positive_share: keep every positive and negatives for that share; "
        "negative_keep_rate: keep every positive and this share of negatives; spec: SPEC §1.7's literal ~50/50 "
        "(positives kept with 1-p, negatives with p).")
    positive_share: float = Field(0.05, gt=0, lt=1, description="Target share of positives (rule positive_share): "
                                  "0.05 = 19 negatives per positive.")
    negative_keep_rate: float = Field(0.1, gt=0, le=1, description="Share of negatives kept (rule negative_keep_rate).")
    min_rows: int = Field(20_000, ge=0, description="Keep more negatives (up to all) until the set has this many rows: "
                          "thin data is not thinned further.")
    window_days: int = Field(7, ge=1, description="Labeled days [T-window_days+1, T] every train set reads (all "
                             "required: a missing one blocks).")
    max_window_days: int = Field(28, ge=1, description="When the window holds fewer than min_positives positives, "
                                 "older labeled days are added, one at a time while present, up to this many days.")
    min_positives: int = Field(300, ge=0, description="Positives wanted before the window stops widening.")


def sized_keep_rates(cfg: TrainSizing, positives: int, rows: int) -> tuple[float, float]:
    """(pos_rate, neg_rate) for a window with ``positives`` of ``rows`` labeled rows under ``cfg``."""
    negatives = rows - positives
    if positives == 0 or negatives == 0:
        raise ValueError(f"a train window needs both classes to downsample ({positives} positives of {rows} rows)")
    if cfg.rule == "spec":
        return realgraph_keep_rates(positives / rows)
    if cfg.rule == "positive_share":
        neg_rate = positives * (1 - cfg.positive_share) / cfg.positive_share / negatives
    else:
        neg_rate = cfg.negative_keep_rate
    neg_rate = max(neg_rate, (cfg.min_rows - positives) / negatives)
    return 1.0, float(min(1.0, neg_rate))


def keep_rates_from_weights(label: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """The (pos_rate, neg_rate) a train set was drawn with, read back from its weights (1 / keep rate per class)."""
    return float(1.0 / weight[label == 1].max()), float(1.0 / weight[label == 0].max())


def realgraph_keep_rates(positive_rate: float) -> tuple[float, float]:
    """(pos_rate, neg_rate): probabilities of keeping a positive and a negative row (docs/realgraph.md §1.7)."""
    if not 0.0 < positive_rate < 1.0:
        raise ValueError(f"positive rate {positive_rate} must be strictly between 0 and 1 to downsample")
    return 1.0 - positive_rate, positive_rate


def keep(label: np.ndarray, draw: np.ndarray, pos_rate: float, neg_rate: float) -> np.ndarray:
    """Keep a row iff its uniform draw falls under its class's keep rate."""
    return np.where(label == 1, draw < pos_rate, draw < neg_rate)


def weight(label: np.ndarray, pos_rate: float, neg_rate: float) -> np.ndarray:
    """docs/recap.md §3.5: ``w = y / pos_rate + (1 - y) / neg_rate`` (the inverse of each row's keep probability)."""
    return label / pos_rate + (1 - label) / neg_rate


def calibrate(p: np.ndarray, pos_rate: float, neg_rate: float) -> np.ndarray:
    """docs/recap.md §3.5: map a probability learned on downsampled data back to the original base rate."""
    r = neg_rate / pos_rate
    return p * r / (1.0 - p + r * p)
