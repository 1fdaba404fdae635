"""Valid but extreme data: ids anywhere in the BIGINT range give the same results as small ids."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from recap_assets import metrics


def test_recap_rankings_are_per_viewer_and_day_for_ids_near_the_bigint_limit():
    rng = np.random.default_rng(3)
    small = np.repeat(np.arange(40), 12)
    days = pl.Series([dt.date(2026, 6, 1), dt.date(2026, 6, 2)] * (len(small) // 2))
    relevance, score = rng.random(len(small)), rng.random(len(small))
    top = 2**63 - 1
    for ids in (small, top - small, top - 1 - small * 97_531):
        rows = pl.DataFrame({"viewer_id": ids.astype(np.int64), "ds": days})
        groups = metrics.ranking_groups(rows)
        assert len(np.unique(groups)) == rows.unique().height == 80
        ndcg, rankings = metrics.ndcg_at_k(groups, relevance, score)
        assert rankings == 80 and ndcg == pytest.approx(metrics.ndcg_at_k(
            metrics.ranking_groups(pl.DataFrame({"viewer_id": small, "ds": days})), relevance, score)[0], abs=1e-12)
