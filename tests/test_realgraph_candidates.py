"""candidates (docs/realgraph.md §1.3, §1.8): 31-day window [T-30, T], ten features, negative edges removed, RANK top-K."""


from conftest import D
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


def test_top_k_uses_rank_so_ties_are_kept(realgraph):
    interactions = [(D(d), 10, 11, ["num_favorites"]) for d in (5, 6, 7)]
    interactions += [(D(d), 10, 12, ["num_favorites"]) for d in (5, 6)]
    interactions += [(D(d), 10, 13, ["num_favorites"]) for d in (8, 9)]
    interactions += [(D(5), 10, 14, ["num_favorites"])]
    c = build_candidates(realgraph, {"max_candidates_per_source": 2}, interactions=interactions)
    kept = {dst: c[(10, dst)]["rn"] for (src, dst) in c if src == 10}
    assert kept == {11: 1, 12: 2, 13: 2}  # RANK 1, 2, 2 keeps both tied rows; 14 (rank 4) goes


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
