"""candidates (docs/realgraph.md §1.3, §1.8): 31-day window [T-30, T], ten features, negative edges removed, top-K per source."""

import numpy as np
import pyarrow as pa

from conftest import D
from feedtrain import hashing
from realgraph_world import write_raw

T = D(31)


def build_candidates(h, config=None, **raw):
    write_raw(h, D(0), D(32), **raw)
    h.materialize(["interaction_days"], D(0), D(32))
    h.materialize(["tweeting_follows"], D(3), D(32))
    h.materialize(["candidates"], T, config={"candidates": config} if config else None)
    rows = h.frame("SELECT * FROM candidates WHERE ds = ?", [T])
    return {(r["source_id"], r["destination_id"]): r for r in rows.iter_rows(named=True)}


def test_window_is_the_31_days_ending_at_T(realgraph):
    c = build_candidates(realgraph, interactions=[
        (D(0), 1, 2, ["num_favorites"]),      # T-31: outside
        (D(1), 1, 3, ["num_favorites"]),      # T-30: first day inside
        (T, 1, 4, ["num_favorites"]),         # T: last day inside
        (D(32), 1, 5, ["num_favorites"]),     # T+1: the future, outside
    ])
    assert (1, 2) not in c and (1, 5) not in c
    assert c[(1, 3)]["num_days"] == 1 and c[(1, 3)]["days_since_last_interaction"] == 30
    assert c[(1, 4)]["num_days"] == 1 and c[(1, 4)]["days_since_last_interaction"] == 0


def test_features_count_days_and_types(realgraph):
    c = build_candidates(
        realgraph,
        interactions=[(D(10), 1, 2, ["num_favorites", "num_tweet_clicks"]), (D(10), 1, 2, ["num_profile_views"]),
                      (D(20), 1, 2, ["num_favorites"]), (D(25), 1, 2, ["num_follows", "num_replies"])],
        follows=[(T, 1, 2), (T, 7, 8)], tweets=[(D(27), 2), (D(28), 2), (T, 2), (T, 8), (D(29), 8)])
    f = c[(1, 2)]
    assert (f["num_days"], f["num_favorites"], f["num_tweet_clicks"], f["num_profile_views"], f["num_follows"]) == (3, 2, 1, 1, 1)
    assert f["label_types"] == 5  # favorites, clicks, profile views, follows, replies
    assert f["days_since_last_interaction"] == T.toordinal() - D(25).toordinal()
    assert f["num_tweets"] == 2  # B's tweets over [T-3, T]; the one on T-4 does not count
    follow_only = c[(7, 8)]  # a tweeting follow edge with no interaction is still a candidate
    assert (follow_only["num_days"], follow_only["num_tweets"], follow_only["label_types"],
            follow_only["days_since_last_interaction"]) == (0, 2, 0, 30)


def test_negative_edges_never_candidates(realgraph):
    c = build_candidates(
        realgraph,
        interactions=[(D(5), 1, 2, ["num_favorites"]), (D(5), 1, 3, ["num_favorites"]), (D(5), 1, 4, ["num_favorites"])],
        follows=[(T, 1, 4)],
        negatives=[(T, 1, 2, "num_blocks"), (T, 1, 4, "num_unfollows"), (D(32), 1, 3, "num_mutes")])
    assert (1, 2) not in c and (1, 4) not in c
    assert (1, 3) in c  # the mute comes after T: the snapshot of T does not know it yet


def _fingerprint_order(source: int, destinations) -> list[int]:
    """Destinations in the tie-break order of candidates.sql: FARM_FINGERPRINT('<src>_<dst>'), then the id."""
    fps = hashing.fingerprint64(pa.array([f"{source}_{d}" for d in destinations]))
    return [d for _, d in sorted(zip(fps.astype(np.int64).tolist(), destinations))]


def test_top_k_cap_holds_with_a_deterministic_tie_break(realgraph):
    """The SPEC's RANK() keeps ties (1, 2, 2 with K = 2 keeps three); ROW_NUMBER with the pair's fingerprint as
    tie-break keeps exactly K, the same ones on every run."""
    interactions = [(D(d), 10, 11, ["num_favorites"]) for d in (5, 6, 7)]
    interactions += [(D(d), 10, 12, ["num_favorites"]) for d in (5, 6)]
    interactions += [(D(d), 10, 13, ["num_favorites"]) for d in (8, 9)]
    interactions += [(D(5), 10, 14, ["num_favorites"])]
    c = build_candidates(realgraph, {"max_candidates_per_source": 2}, interactions=interactions)
    kept = {dst: c[(10, dst)]["rn"] for (src, dst) in c if src == 10}
    assert kept == {11: 1, _fingerprint_order(10, [12, 13])[0]: 2}


def test_a_source_with_far_more_tied_destinations_than_the_cap_and_ids_near_the_bigint_limit(realgraph):
    top = 2**63 - 1
    source, destinations = top, [top - 1 - i for i in range(60)]
    interactions = [(D(5), source, d, ["num_favorites"]) for d in destinations]  # all tied
    c = build_candidates(realgraph, {"max_candidates_per_source": 25}, interactions=interactions)
    kept = {dst: r["rn"] for (src, dst), r in c.items() if src == source}
    assert len(kept) == 25 and sorted(kept.values()) == list(range(1, 26))
    assert kept == {d: i + 1 for i, d in enumerate(_fingerprint_order(source, destinations)[:25])}


def test_rerunning_a_day_replaces_it(realgraph):
    build_candidates(realgraph, interactions=[(D(5), 1, 2, ["num_favorites"])])
    before = realgraph.sql("SELECT count(*) FROM candidates WHERE ds = ?", [T])[0][0]
    realgraph.materialize(["candidates"], T)
    assert realgraph.sql("SELECT count(*) FROM candidates WHERE ds = ?", [T])[0][0] == before


def test_missing_window_day_blocks_and_names_it(realgraph):
    write_raw(realgraph, D(0), D(32), interactions=[(D(5), 1, 2, ["num_favorites"])])
    realgraph.materialize(["interaction_days"], D(0), D(32))
    realgraph.materialize(["tweeting_follows"], D(3), D(32))
    realgraph.execute("DELETE FROM interaction_days WHERE ds = ?", [D(7)])
    result = realgraph.materialize(["candidates"], T, raise_on_error=False)
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [e.check_name for e in failed] == ["upstream_days_present"]
    assert D(7).isoformat() in failed[0].description
    assert realgraph.sql("SELECT count(*) FROM candidates")[0][0] == 0  # nothing written


def test_unknown_label_name_is_a_clear_error(realgraph):
    write_raw(realgraph, D(0), D(0), interactions=[(D(0), 1, 2, ["num_favourites"])])
    result = realgraph.materialize(["interaction_days"], D(0), raise_on_error=False)
    assert not result.success
    message = str([e.event_specific_data.error.message for e in result.all_events if e.is_step_failure])
    assert "num_favourites" in message and "labels" in message and D(0).isoformat() in message
    assert realgraph.sql("SELECT count(*) FROM interaction_days")[0][0] == 0


def test_pair_features_decay_reciprocity_share_and_in_degree(realgraph):
    c = build_candidates(realgraph, interactions=[
        (D(11), 1, 2, ["num_replies"]), (D(21), 1, 2, ["num_favorites", "num_tweet_clicks"]),  # ages 20 and 10
        (D(26), 2, 1, ["num_profile_views"]),                                                  # B -> A, age 5
        (D(29), 1, 3, ["num_tweet_clicks"]), (D(30), 4, 3, ["num_mentions"])])               # ages 2 and 1
    f = c[(1, 2)]
    assert f["days_since_first_interaction"] == 20 and f["days_since_last_interaction"] == 10
    assert abs(f["decayed_days"] - (0.955**20 + 0.955**10)) < 1e-9
    assert abs(f["decayed_explicit"] - (0.955**20 + 0.955**10)) < 1e-9  # replies and favorites are explicit
    assert abs(f["decayed_replies"] - 0.955**20) < 1e-9 and abs(f["decayed_favorites"] - 0.955**10) < 1e-9
    assert abs(f["decayed_tweet_clicks"] - 0.955**10) < 1e-9 and f["decayed_profile_views"] == 0
    assert abs(f["reciprocal_decayed_days"] - 0.955**5) < 1e-9
    assert abs(f["source_share"] - f["decayed_days"] / (f["decayed_days"] + 0.955**2)) < 1e-9
    assert f["destination_in_degree"] == 1 and c[(1, 3)]["destination_in_degree"] == 2
    assert c[(2, 1)]["reciprocal_decayed_days"] == f["decayed_days"]


def test_no_feature_changes_when_events_at_or_after_T_plus_1_change(realgraph):
    past = [(D(0), 1, 2, ["num_mentions"]), (D(20), 1, 2, ["num_replies"]), (D(30), 2, 1, ["num_favorites"]),
            (T, 3, 2, ["num_tweet_clicks"])]  # D(0) is before the 31-day look-back, inside the long history
    before = build_candidates(realgraph, interactions=past)
    assert (before[(1, 2)]["num_days"], before[(1, 2)]["long_num_days"]) == (1, 2)
    future = [(D(d), s, t, ["num_replies", "num_favorites", "num_mentions"]) for d in (32, 33)
              for s, t in [(1, 2), (2, 1), (3, 2), (5, 2), (1, 6)]]
    after = build_candidates(realgraph, interactions=past + future)  # T+1 and T+2 re-delivered with more events
    assert before == after


def test_decayed_features_are_byte_identical_on_a_rerun(realgraph):
    realgraph.materialize(["group:realgraph_sources", "interaction_days"], D(0), T)
    realgraph.materialize(["tweeting_follows"], D(3), T)
    realgraph.materialize(["candidates"], T)
    query = "SELECT md5(string_agg(c::VARCHAR, '|' ORDER BY source_id, destination_id)) FROM candidates c WHERE ds = ?"
    first = realgraph.sql(query, [T])
    realgraph.materialize(["candidates"], T)
    assert realgraph.sql(query, [T]) == first


def test_long_num_days_counts_the_91_days_ending_at_T_from_the_first_event_day(realgraph):
    T2 = D(92)  # [T2-90, T2] = [D(2), D(92)]; for T = D(31) the 91 days reach back before D(0): clipped at D(0)
    pair = [(D(d), 1, 2, ["num_replies"]) for d in (0, 1, 2, 31, 70, 92, 93)]  # D(93) is T2 + 1: never read
    write_raw(realgraph, D(0), D(93), interactions=[*pair, (D(0), 3, 4, ["num_replies"]), (D(5), 3, 4, ["num_replies"])])
    realgraph.materialize(["interaction_days"], D(0), D(93))
    for day in (T, T2):
        realgraph.materialize(["tweeting_follows"], day)
        realgraph.materialize(["candidates"], day)
    rows = {r["ds"]: r for r in realgraph.frame("SELECT * FROM candidates WHERE source_id = 1 AND destination_id = 2")
            .iter_rows(named=True)}
    assert (rows[T]["num_days"], rows[T]["long_num_days"]) == (3, 4)     # D(1), D(2), D(31) + D(0)
    assert (rows[T2]["num_days"], rows[T2]["long_num_days"]) == (2, 4)   # D(70), D(92) + D(2), D(31); not D(0), D(1)
    # a pair with history but nothing in [T2-30, T2] is no candidate: the long history never decides who is one
    assert realgraph.sql("SELECT count(*) FROM candidates WHERE ds = ? AND source_id = 3", [T2])[0][0] == 0
    # every day of the long history is required: a missing one blocks the day and is named
    realgraph.execute("DELETE FROM interaction_days WHERE ds = ?", [D(2)])
    result = realgraph.materialize(["candidates"], T2, raise_on_error=False)
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [e.check_name for e in failed] == ["upstream_days_present"] and D(2).isoformat() in failed[0].description
