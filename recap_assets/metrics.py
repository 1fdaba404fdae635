"""Ranking metrics of the recap models: per-head AUC and RCE (docs/recap.md §3.6), NDCG@k per (viewer, day) ranking."""

from __future__ import annotations

import numpy as np
import polars as pl

EPS = 1e-7


def cross_entropy(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def rce(y: np.ndarray, p: np.ndarray) -> float | None:
    """docs/recap.md §3.6: ``100 * (CE_ref - CE_model) / CE_ref`` with CE_ref the entropy of the mean label."""
    if len(y) == 0 or y.min() == y.max():
        return None
    ref = cross_entropy(y, np.full(len(y), y.mean()))
    return 100.0 * (ref - cross_entropy(y, p)) / ref


def auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """ROC AUC as the Mann-Whitney statistic on average ranks (equal to sklearn's roc_auc_score, a few times faster on
    the millions of validation rows scored forty times per model day)."""
    if not len(y) or y.min() == y.max():
        return None
    from scipy.stats import rankdata  # lazily: scipy.stats is seconds of every run's start-up

    ranks = rankdata(score)
    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def ranking_groups(rows: pl.DataFrame) -> np.ndarray:
    """One ranking per (viewer_id, ds), numbered 1, 2, ... without id arithmetic: ids are any BIGINT, so a formula
    like viewer_id * 100000 + day overflows and merges different viewers' rankings."""
    return rows.select(pl.struct("viewer_id", "ds").rank("dense")).to_series().to_numpy()


def ndcg_at_k(group: np.ndarray, relevance: np.ndarray, score: np.ndarray, k: int = 10,
              tiebreak: np.ndarray | None = None) -> tuple[float | None, int]:
    """Mean NDCG@k over groups (rankings), and the number of groups with a non-zero ideal DCG.

    Gains are the relevance shifted to 0 at each group's least relevant item (the planted utility is negative when
    negative feedback dominates; a standard NDCG needs non-negative gains), discount 1/log2(rank + 1).
    """
    return ndcg_many(group, relevance, {"s": score}, k, tiebreak)["s"]


def ndcg_many(group: np.ndarray, relevance: np.ndarray, scores: dict[str, np.ndarray], k: int = 10,
              tiebreak: np.ndarray | None = None) -> dict[str, tuple[float | None, int]]:
    """``ndcg_at_k`` of several scores over the same rankings (the ideal DCG is computed once); ties in a score are
    broken by ``tiebreak`` (default: row order)."""
    tiebreak = np.arange(len(group)) if tiebreak is None else tiebreak
    df = pl.DataFrame({"g": group, "rel": relevance, "t": tiebreak})
    df = df.with_columns(gain=pl.col("rel") - pl.col("rel").min().over("g"))

    def dcg(frame: pl.DataFrame, by: str) -> pl.DataFrame:
        ranked = frame.sort(["g", by, "t"], descending=[False, True, False])
        ranked = ranked.with_columns(rank=pl.int_range(1, pl.len() + 1).over("g"))
        return (ranked.filter(pl.col("rank") <= k)
                .group_by("g").agg((pl.col("gain") / (pl.col("rank") + 1).cast(pl.Float64).log(2)).sum().alias("dcg")))

    ideal = dcg(df, "gain").rename({"dcg": "idcg"}).filter(pl.col("idcg") > 0)
    out = {}
    for name, score in scores.items():
        both = dcg(df.with_columns(s=pl.Series(score)), "s").join(ideal, on="g")
        out[name] = (float((both["dcg"] / both["idcg"]).mean()), both.height) if both.height else (None, 0)
    return out
