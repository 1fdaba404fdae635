"""The embedded Real Graph simulator: deterministic days, and the structure that makes prediction real."""

import datetime as dt

import numpy as np

from realgraph_assets.labels import ANY_MASK, BIT, EXPLICIT_MASK
from realgraph_assets.simulator import World

DAY = dt.date(2026, 7, 6)  # a Monday


def test_a_day_is_a_pure_function_of_seed_and_day():
    a, b = World("tiny", 7), World("tiny", 7)
    later = b.day(DAY + dt.timedelta(days=5)).labels  # generating another day first changes nothing
    assert a.day(DAY).labels.equals(b.day(DAY).labels)
    assert a.day(DAY + dt.timedelta(days=5)).labels.equals(later)
    assert not World("tiny", 8).day(DAY).labels.equals(a.day(DAY).labels)


def test_activity_is_heavy_tailed_and_weekends_are_quieter():
    w = World("small", 7)
    out_degree = np.bincount(w.src, minlength=w.n_users)
    assert out_degree.max() > 5 * np.median(out_degree)
    weekday = np.mean([w.day(DAY + dt.timedelta(days=i)).labels.num_rows for i in range(0, 3)])
    weekend = np.mean([w.day(DAY + dt.timedelta(days=i)).labels.num_rows for i in (5, 6)])
    assert weekend < 0.85 * weekday


def test_label_sets_are_valid_and_explicit_is_a_strict_subset_of_any():
    d = World("small", 7).day(DAY)
    mask = d.labels["label_mask"].to_numpy()
    assert (mask > 0).all() and (mask & ~ANY_MASK == 0).all()
    explicit = (mask & EXPLICIT_MASK) != 0
    assert 0.2 < explicit.mean() < 0.9  # prod_explicit is a different, rarer target
    assert ((mask & BIT["num_favorites"]) != 0).mean() > ((mask & BIT["num_photo_tags"]) != 0).mean()


def test_negative_actions_stop_interactions_and_enter_the_snapshot():
    w = World("small", 7)
    t = w.day_index(DAY)
    ended = np.flatnonzero(w.negative_day <= t)
    assert len(ended) > 0
    later = w.day(DAY)
    keys = later.labels["source_id"].to_numpy() * w.n_users + later.labels["destination_id"].to_numpy()
    assert not np.isin(w.key[ended], keys).any()
    p_any = w.interaction_probability(t)
    assert (p_any[ended] == 0).all()
    snap = later.negative_edges
    snap_keys = snap["source_id"].to_numpy() * w.n_users + snap["destination_id"].to_numpy()
    recent_or_not_unfollow = (w.negative_type[ended] != 4) | (t - w.negative_day[ended] < 90)
    assert set(snap_keys) == set(w.key[ended][recent_or_not_unfollow])


def test_planted_probabilities_predict_the_next_day():
    w = World("small", 7)
    d = w.day(DAY)
    p = d.planted_probability
    assert ((p["p_explicit"].to_numpy() <= p["p_any"].to_numpy() + 1e-6)).all()
    keys = d.labels["source_id"].to_numpy() * w.n_users + d.labels["destination_id"].to_numpy()
    happened = np.isin(p["source_id"].to_numpy() * w.n_users + p["destination_id"].to_numpy(), keys)
    planted = p["p_any"].to_numpy()
    assert abs(happened.mean() - planted.mean()) < 0.01  # calibrated: expected = observed
    assert planted[happened].mean() > 2 * planted[~happened].mean()


def test_sparse_world_is_interactions_only_with_a_low_next_day_rate_and_strong_recency():
    w = World("sparse_tiny", 7)
    days = [w.day(DAY + dt.timedelta(days=i)) for i in range(32)]
    assert all(d.follows.num_rows == 0 and d.tweets.num_rows == 0 and d.negative_edges.num_rows == 0 for d in days)
    keys = [set((d.labels["source_id"].to_numpy() * w.n_users + d.labels["destination_id"].to_numpy()).tolist())
            for d in days]
    candidates = set().union(*keys[:31])
    rate = len(candidates & keys[31]) / len(candidates)
    assert 0.001 < rate < 0.02  # a Q&A log's ~0.5 %, not the default world's tens of per cent
    recent = set().union(*keys[28:31])  # pairs seen in the last 3 days repeat far more often than older ones
    assert len(recent & keys[31]) / len(recent) > 3 * len((candidates - recent) & keys[31]) / len(candidates - recent)
