"""The recap location loads, and its assets follow the repository's conventions."""

import dagster as dg
import yaml

from recap_assets.heads import HEADS


def test_recap_definitions_load_with_every_head():
    from recap_assets.definitions import defs

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"recap/impressions", "recap/engagements", "recap/impressions_labeled", "recap/impression_features",
            "recap/model_evaluations", "recap/ranking_evaluations"} <= keys
    for h in HEADS:
        assert {f"recap/train_{h}", f"recap/boosted_trees_{h}", f"recap/light_ranker_{h}"} <= keys
    assert all(k.path[0] == "recap" for k in graph.get_all_asset_keys())
    # one group per layer, so the UI graph reads left to right
    assert {graph.get(k).group_name for k in graph.get_all_asset_keys()} == {
        "recap_sources", "recap_labels", "recap_features", "recap_training", "recap_models", "recap_champion"}


def test_every_recap_asset_is_daily_partitioned_grouped_and_in_the_duckdb_pool():
    from recap_assets.definitions import ALL_ASSETS

    for assets_def in ALL_ASSETS:
        assert assets_def.partitions_def is not None
        assert {assets_def.group_names_by_key[k] for k in assets_def.keys} <= {
            "recap_sources", "recap_labels", "recap_features", "recap_training", "recap_models"}
        assert assets_def.op.pools == {"duckdb_recap"}, assets_def.op.name  # one writer on recap_warehouse.duckdb


def test_workspace_lists_recap_next_to_realgraph():
    with open("workspace.yaml") as f:
        names = {e["python_module"]["location_name"]: e["python_module"]["module_name"]
                 for e in yaml.safe_load(f)["load_from"]}
    assert names["recap_assets"] == "recap_assets.definitions" and "realgraph_assets" in names
