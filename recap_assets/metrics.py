"""Ranking metrics of the recap models: per-head AUC and RCE (SPEC §3.6), NDCG@k per (viewer, day) ranking."""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

EPS = 1e-7


def cross_entropy(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def rce(y: np.ndarray, p: np.ndarray) -> float | None:
    """SPEC §3.6: ``100 * (CE_ref - CE_model) / CE_ref`` with CE_ref the entropy of the mean label."""
    if len(y) == 0 or y.min() == y.max():
        return None
    ref = cross_entropy(y, np.full(len(y), y.mean()))
    return 100.0 * (ref - cross_entropy(y, p)) / ref


def auc(y: np.ndarray, score: np.ndarray) -> float | None:
    return float(roc_auc_score(y, score)) if len(y) and y.min() != y.max() else None


def ndcg_at_k(group: np.ndarray, relevance: np.ndarray, score: np.ndarray, k: int = 10,
              tiebreak: np.ndarray | None = None) -> tuple[float | None, int]:
    """Mean NDCG@k over groups (rankings), and the number of groups with a non-zero ideal DCG.

    Gains are the relevance shifted to 0 at each group's least relevant item (the planted utility is negative when
    negative feedback dominates; a standard NDCG needs non-negative gains), discount 1/log2(rank + 1).
    """
    tiebreak = np.arange(len(group)) if tiebreak is None else tiebreak
    df = pl.DataFrame({"g": group, "rel": relevance, "s": score, "t": tiebreak})
    df = df.with_columns(gain=pl.col("rel") - pl.col("rel").min().over("g"))

    def dcg(order: list[str], descending: list[bool]) -> pl.DataFrame:
        ranked = df.sort(["g", *order], descending=[False, *descending])
        ranked = ranked.with_columns(rank=pl.int_range(1, pl.len() + 1).over("g"))
        return (ranked.filter(pl.col("rank") <= k)
                .group_by("g").agg((pl.col("gain") / (pl.col("rank") + 1).cast(pl.Float64).log(2)).sum().alias("dcg")))

    got = dcg(["s", "t"], [True, False])
    ideal = dcg(["gain", "t"], [True, False]).rename({"dcg": "idcg"})
    both = got.join(ideal, on="g").filter(pl.col("idcg") > 0)
    if both.is_empty():
        return None, 0
    return float((both["dcg"] / both["idcg"]).mean()), both.height
