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


def test_dg_workspace_matches_workspace_yaml():
    """`dg dev` / `dg check defs` read dg.toml; `dagster dev -w workspace.yaml` reads workspace.yaml: same locations."""
    import tomllib
    from pathlib import Path

    with open("workspace.yaml") as f:
        legacy = {e["python_module"]["location_name"]: e["python_module"]["module_name"]
                  for e in yaml.safe_load(f)["load_from"]}
    workspace = tomllib.loads(Path("dg.toml").read_text())
    assert workspace["directory_type"] == "workspace"
    projects = {}
    for spec in workspace["workspace"]["projects"]:
        project = tomllib.loads((Path(spec["path"]) / "dg.toml").read_text())["project"]
        # dg resolves root_module inside the project directory: the symlink must lead to the package at the root.
        assert (Path(spec["path"]) / project["root_module"]).resolve() == Path(project["root_module"]).resolve()
        projects[project["code_location_name"]] = project["code_location_target_module"]
    assert projects == legacy


@pytest.mark.parametrize("config", [{"sample_percent": 0}, {"sample_percent": 101}, {"mod_remainder": 100}])
def test_config_ranges_are_pydantic_constraints(realgraph, config):
    """Out-of-range config fails the step before it reads anything, naming the field (pydantic, not a hand check)."""
    from conftest import D

    result = realgraph.materialize(["candidates_sampled"], D(30), config={"candidates_sampled": config},
                                   raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error
    assert next(iter(config)) in str(failure) and "validation error" in str(failure)


def test_weights_version_is_a_literal():
    import pydantic

    from recap_assets.models import ModelConfig

    assert ModelConfig(weights_version="v2").weights_version == "v2"
    with pytest.raises(pydantic.ValidationError, match="weights_version"):
        ModelConfig(weights_version="v3")
