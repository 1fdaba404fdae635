"""The recap location loads, and its assets follow the repository's conventions."""

from collections import Counter

import dagster as dg
import yaml

from recap_assets.heads import HEADS

LAYER_GROUPS = ("recap_sources", "recap_labels", "recap_features", "recap_training", "recap_models", "recap_champion")


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
    # one group per layer, so the UI graph reads left to right (the per-head models nested in theirs, see below)
    assert {graph.get(k).group_name.split("/")[0] for k in graph.get_all_asset_keys()} == set(LAYER_GROUPS)


def test_per_head_models_collapse_into_a_group_per_kind_inside_their_layer():
    """The UI draws each group as one box until it is opened, and a nested group ("parent/child", Dagster >= 1.13.9)
    as one box inside its parent: opening recap_models shows the two evaluation tables and one box per model kind
    holding its ten heads, not 22 nodes. No group holds more than one asset per head."""
    from recap_assets.definitions import defs
    from recap_assets.models import MODEL_KINDS, model_key

    graph = defs.resolve_asset_graph()
    for h in HEADS:
        for kind in MODEL_KINDS:
            assert graph.get(model_key(kind, h)).group_name == f"recap_models/{kind}"
    for table in ("model_evaluations", "ranking_evaluations"):
        assert graph.get(dg.AssetKey(["recap", table])).group_name == "recap_models"
    sizes = Counter(graph.get(k).group_name for k in graph.get_all_asset_keys())
    assert max(sizes.values()) <= len(HEADS), sizes


def test_every_recap_asset_is_daily_partitioned_grouped_and_in_the_duckdb_pool():
    from recap_assets.definitions import ALL_ASSETS

    for assets_def in ALL_ASSETS:
        assert assets_def.partitions_def is not None
        assert {assets_def.group_names_by_key[k].split("/")[0] for k in assets_def.keys} <= set(LAYER_GROUPS)
        assert assets_def.op.pools == {"duckdb_recap"}, assets_def.op.name  # one writer on recap_warehouse.duckdb


def test_workspace_lists_recap_next_to_realgraph():
    with open("workspace.yaml") as f:
        names = {e["python_module"]["location_name"]: e["python_module"]["module_name"]
                 for e in yaml.safe_load(f)["load_from"]}
    assert names["recap_assets"] == "recap_assets.definitions" and "realgraph_assets" in names
