"""Downsampling rules, inverse-probability weights and the calibration correction, in one place.

Real Graph (docs/realgraph.md §1.7, §6.4): with p the positive rate, negatives are kept with probability p and positives with
1 - p, giving roughly 50/50.  The draw is a deterministic uniform per (pair, labeled day, seed) instead of BigQuery's
unseeded RAND(), so the same inputs always give the same train set.  Recap (docs/recap.md §3.5) keeps per-task rates.
"""

from __future__ import annotations

import numpy as np


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
