"""The code locations load (catches import and wiring errors first)."""

import importlib

import dagster as dg
import pytest
import yaml


def test_realgraph_definitions_load():
    from realgraph_assets.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"realgraph/candidates", "realgraph/candidates_sampled", "realgraph/labeled_candidates",
            "realgraph/labeled_candidates_explicit", "realgraph/train", "realgraph/train_explicit",
            "realgraph/boosted_trees", "realgraph/light_ranker"} <= keys


def test_workspace_lists_loadable_locations():
    with open("workspace.yaml") as f:
        entries = yaml.safe_load(f)["load_from"]
    names = {e["python_module"]["location_name"] for e in entries}
    assert "realgraph_assets" in names
    for e in entries:
        defs = importlib.import_module(e["python_module"]["module_name"]).defs
        dg.Definitions.validate_loadable(defs)


@pytest.mark.parametrize("path", ["dagster.yaml"])
def test_instance_config_parses(path, tmp_path):
    import shutil

    shutil.copy(path, tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
