"""Declarative automation builds a new day only when its inputs can exist (docs/realgraph.md §1.12, §6.1)."""

import datetime as dt

import dagster as dg

from conftest import D

YESTERDAY = D(40)
NOW = dt.datetime.combine(YESTERDAY + dt.timedelta(days=1), dt.time(1, 30), tzinfo=dt.UTC)
MODELS = ["boosted_trees", "light_ranker", "boosted_trees_explicit", "light_ranker_explicit"]


def test_each_layer_waits_for_its_inputs(realgraph):
    # History as of the day before: events to D(39), labels to D(38), models to D(37).
    h = realgraph
    h.materialize(["group:realgraph_sources", "interaction_days"], D(0), D(39))
    h.materialize(["tweeting_follows"], D(3), D(39))
    h.materialize(["candidates", "candidates_sampled"], D(30), D(39))
    h.materialize(["labeled_candidates", "labeled_candidates_explicit"], D(30), D(38))
    h.materialize(["train", "train_explicit"], D(36), D(38))
    h.materialize(MODELS, D(37))

    cursor = dg.evaluate_automation_conditions(h.defs, h.instance, evaluation_time=NOW - dt.timedelta(hours=1)).cursor
    requested, clock = {}, NOW
    topological = h.defs.resolve_asset_graph().toposorted_asset_keys
    for _ in range(12):  # evaluate, build what was asked, repeat: like the daemon, one tick at a time
        result = dg.evaluate_automation_conditions(h.defs, h.instance, evaluation_time=clock, cursor=cursor)
        cursor, clock = result.cursor, clock + dt.timedelta(minutes=2)
        asked = {key.path[-1]: sorted(result.get_requested_partitions(key)) for key in topological
                 if result.get_num_requested(key)}
        if not asked:
            break
        raw = {k.path[-1] for k in h.defs.resolve_assets_def(dg.AssetKey(["realgraph", "public_tweets"])).keys}
        for name, partitions in asked.items():
            assert name not in requested, f"{name} requested twice"
            requested[name] = partitions
            if name in raw:  # one multi-asset writes all raw tables of a day
                if name == "public_tweets":
                    h.materialize(["group:realgraph_sources"], dt.date.fromisoformat(partitions[0]))
            elif partitions == [None]:
                h.materialize([name], D(0))
            else:
                h.materialize([name], dt.date.fromisoformat(partitions[0]), dt.date.fromisoformat(partitions[-1]))

    day = lambda d: [d.isoformat()]  # noqa: E731
    assert requested.pop("interaction_graph_labels_daily") == day(YESTERDAY)  # the multi-asset's keys go together
    for name in ["interaction_graph_agg_negative_edge_snapshot", "valid_user_follows", "public_tweets",
                 "planted_interaction_probability", "interaction_days", "tweeting_follows", "candidates",
                 "candidates_sampled"]:
        assert requested.pop(name, day(YESTERDAY)) == day(YESTERDAY), name
    for name in ["labeled_candidates", "labeled_candidates_explicit", "train", "train_explicit"]:
        assert requested.pop(name) == day(YESTERDAY - dt.timedelta(days=1)), name  # T+1 = yesterday
    for name in MODELS:
        assert requested.pop(name) == day(YESTERDAY - dt.timedelta(days=2)), name  # holdout labels = yesterday
    assert set(requested) == {"champion", "champion_explicit"}
