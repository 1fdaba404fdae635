"""Models read through the engine over a range of days, and published crash-consistently by the ModelStore: a model
day's files, its evaluation rows and its input versions are visible together or not at all, whatever point of the
step a crash hits, and the champion never compares against a model whose files are not the evaluated ones."""

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest

from conftest import D, Harness
from feedtrain import ledger, training
from feedtrain.engine.base import Engine
from feedtrain.logsource import LogSource
from feedtrain.modelstore import ModelStore, tree_sha256
from realgraph_assets.resources import RealGraphSimulator
from test_realgraph_pipeline import SAMPLE_ALL

ROOT = Path(__file__).resolve().parent.parent
DAYS = (D(36), D(37))
RESOURCES = {"simulator": RealGraphSimulator(preset="tiny", seed=7), "log_source": LogSource()}
CHANGED = {"boosted_trees": {"boosted_trees": {"n_estimators": 7}}}  # a different model: different files


# -- the store alone ---------------------------------------------------------------------------------------------------
def write_files(text):
    def save(path: Path):
        (path / "manifest.json").write_text(text)
        (path / "model.txt").write_text(text * 3)
    return save


def test_publish_swaps_the_day_atomically_and_keeps_one_version(realgraph):
    store = realgraph.store
    with realgraph.warehouse.connect() as conn:
        first = store.stage("m", D(36), write_files("a"))
        assert not store.path("m", D(36)).exists()  # staged files are not visible
        store.publish(conn, "model_evaluations", row(D(36), first.sha256), ["ds", "variant", "model"], [first])
        assert store.verify("m", D(36), first.sha256) is None
        second = store.stage("m", D(36), write_files("b"))
        assert store.verify("m", D(36), first.sha256) is None  # still the first until published
        store.publish(conn, "model_evaluations", row(D(36), second.sha256), ["ds", "variant", "model"], [second])
        assert conn.rows("SELECT artifact_sha256 FROM model_evaluations") == [(second.sha256,)]
    assert (store.path("m", D(36)) / "manifest.json").read_text() == "b"
    assert store.verify("m", D(36), first.sha256).endswith(f"(sha256 {first.sha256[:12]})")
    assert [p.name for p in (store.directory("m") / ".versions").iterdir()] == [f"{D(36)}.{second.sha256[:16]}"]
    assert not any((store.directory("m") / ".staging").iterdir())


def test_a_leftover_staging_directory_is_ignored_and_cleaned(realgraph):
    store = realgraph.store
    leftover = store.stage("m", D(36), write_files("crashed"))  # a crash right after staging: never published
    assert not store.path("m", D(36)).exists()
    assert "model files missing" in store.verify("m", D(36), leftover.sha256)
    again = store.stage("m", D(36), write_files("crashed"))
    assert not leftover.staging.exists() and again.staging.exists() and again.sha256 == leftover.sha256


def test_a_model_directory_from_before_the_store_is_replaced(realgraph):
    store = realgraph.store
    legacy = store.path("m", D(36))
    legacy.mkdir(parents=True)
    write_files("old")(legacy)
    assert store.verify("m", D(36), None) == f"realgraph/m {D(36)}: its evaluation records no artifact sha256"
    new = store.stage("m", D(36), write_files("new"))
    with realgraph.warehouse.connect() as conn:
        store.publish(conn, "model_evaluations", row(D(36), new.sha256), ["ds", "variant", "model"], [new])
    assert store.path("m", D(36)).is_symlink() and store.verify("m", D(36), new.sha256) is None
    assert len(list((store.directory("m") / ".versions").iterdir())) == 1


def row(day, sha):
    return pl.DataFrame([{"ds": day, "variant": "prod", "model": "m", "holdout_ds": day, "rows": 1, "positive_rate": 0.5,
                          "auc": 0.5, "pr_auc": 0.5, "log_loss": 0.7, "calibrated_log_loss": 0.7, "ece": 0.0,
                          "artifact_sha256": sha, "inputs": "{}"}])


# -- Real Graph models through Dagster ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Everything the models of D(36) and D(37) need (train sets of both days, holdouts to D(38)), built once."""
    from realgraph_assets.definitions import defs
    from realgraph_assets.resources import SQL_DIR

    home = tmp_path_factory.mktemp("realgraph_models")
    h = Harness(home, defs, "realgraph", str(SQL_DIR / "schema.sql"), RESOURCES)
    h.materialize(["group:realgraph_sources", "interaction_days"], D(0), D(39))
    h.materialize(["tweeting_follows"], D(3), D(39))
    h.materialize(["candidates", "candidates_sampled"], D(30), D(39), config=SAMPLE_ALL)
    h.materialize(["labeled_candidates", "labeled_candidates_explicit"], D(30), D(38))
    h.materialize(["train", "train_explicit"], *DAYS)
    return home


@pytest.fixture
def world(built, tmp_path, monkeypatch):
    from realgraph_assets.definitions import defs
    from realgraph_assets.resources import SQL_DIR

    home = tmp_path / "home"
    shutil.copytree(built, home, symlinks=True)
    monkeypatch.setenv("FEEDTRAIN_HOME", str(home))
    return Harness(home, defs, "realgraph", str(SQL_DIR / "schema.sql"), RESOURCES)


def evaluations(h, model="boosted_trees"):
    return {r["ds"]: r for r in h.frame("SELECT * FROM model_evaluations WHERE variant = 'prod' AND model = ? "
                                        "ORDER BY ds", [model]).iter_rows(named=True)}


def test_models_materialise_a_range_of_days_in_one_run_with_each_days_metadata(world):
    result = world.materialize(["boosted_trees", "light_ranker_explicit"], *DAYS)
    assert result.success
    events = result.get_asset_materialization_events()
    assert {(e.asset_key.path[-1], e.partition) for e in events} == {
        (m, d.isoformat()) for m in ("boosted_trees", "light_ranker_explicit") for d in DAYS}
    for e in events:
        name, day = e.asset_key.path[-1], dt.date.fromisoformat(e.partition)
        kind, variant = ("boosted_trees", "prod") if name == "boosted_trees" else ("light_ranker", "prod_explicit")
        meta = e.materialization.metadata
        stored = world.frame("SELECT * FROM model_evaluations WHERE ds = ? AND variant = ? AND model = ?",
                             [day, variant, kind]).row(0, named=True)
        assert meta["auc"].value == stored["auc"] and meta["holdout_rows"].value == stored["rows"]
        assert meta["model_sha256"].value == stored["artifact_sha256"]
        assert Path(meta["model_path"].value) == world.store.path(name, day)
        assert world.store.verify(name, day, stored["artifact_sha256"]) is None
        manifest = training.load_model(world.store.path(name, day)).manifest
        assert manifest["ds"] == day.isoformat() and "created_at" not in manifest
        with world.warehouse.connect() as conn:  # trained on day T's train set, evaluated on T+1's labeled candidates
            suffix = "_explicit" if variant == "prod_explicit" else ""
            expected = {f"labeled_candidates{suffix}": {(day + dt.timedelta(days=1)).isoformat():
                                                        ledger.versions(conn, f"labeled_candidates{suffix}", [day + dt.timedelta(days=1)])[day + dt.timedelta(days=1)]},
                        f"train{suffix}": {day.isoformat(): ledger.versions(conn, f"train{suffix}", [day])[day]}}
        assert manifest["inputs"] == expected and json.loads(stored["inputs"]) == expected
        assert manifest["packages"]["lightgbm"] and manifest["config"]["light_ranker_c"] == 1.0
    # Same inputs and config: byte-identical files, so the re-run publishes the very same version.
    before = evaluations(world)
    assert world.materialize(["boosted_trees"], D(36)).success
    assert evaluations(world)[D(36)]["artifact_sha256"] == before[D(36)]["artifact_sha256"]


def test_a_model_day_fails_naming_a_stale_train_set(world):
    world.execute("UPDATE feedtrain_ledger SET version = 'changed' WHERE table_name = 'labeled_candidates' AND ds = ?",
                  [D(34)])  # an input of train D(36) changed after it was built
    result = world.materialize(["boosted_trees"], D(36), raise_on_error=False)
    assert not result.success
    failure = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert failure and f"train {D(36)} is stale" in failure[0].description
    assert world.frame("SELECT * FROM model_evaluations").is_empty()


class Crash(Exception):
    pass


def crash(*_args, **_kwargs):
    raise Crash("simulated crash")


BOUNDARIES = {  # where the step dies, and what is committed then
    "after staging the files": (Engine, "replace_rows"),
    "after the evaluation commit, before the rename": (ModelStore, "_move_into_place"),
    "after the rename": (ModelStore, "_remove_old_versions"),
}


def assert_consistent(h, days=DAYS):
    """Every evaluation's files either are the evaluated ones or the champion refuses to compare against them; the
    champion and every model it compared with are verified."""
    result = h.materialize(["champion"], D(0))
    assert result.success
    decisions = {r["ds"]: r for r in h.frame("SELECT * FROM champion_decisions WHERE variant = 'prod' "
                                             "AND model = 'boosted_trees'").iter_rows(named=True)}
    ok = {day: h.store.verify("boosted_trees", day, r["artifact_sha256"]) is None for day, r in evaluations(h).items()}
    for day, decision in decisions.items():
        if not ok[day]:
            assert not decision["promoted"] and "re-run boosted_trees" in decision["reason"]
        assert decision["champion_ds"] is None or ok[decision["champion_ds"]]
    champion_day = dt.date.fromisoformat((h.store.directory("boosted_trees") / "CHAMPION").read_text().strip())
    assert ok[champion_day]
    return ok


@pytest.mark.parametrize("boundary", list(BOUNDARIES))
def test_a_crash_at_each_boundary_leaves_models_consistent_and_a_rerun_repairs(world, monkeypatch, boundary):
    assert world.materialize(["boosted_trees"], *DAYS).success
    old = evaluations(world)[D(37)]["artifact_sha256"]
    with monkeypatch.context() as patch:
        patch.setattr(*BOUNDARIES[boundary], crash)
        assert not world.materialize(["boosted_trees"], D(37), config=CHANGED, raise_on_error=False).success
    now = evaluations(world)[D(37)]["artifact_sha256"]
    ok = assert_consistent(world)
    if boundary == "after staging the files":  # nothing visible changed: the old model day stands, verified
        assert now == old and ok[D(37)]
    elif boundary.startswith("after the evaluation commit"):  # new rows, old files: refused until re-run
        assert now != old and not ok[D(37)]
    else:
        assert now != old and ok[D(37)]
    assert world.materialize(["boosted_trees"], D(37), config=CHANGED).success
    assert assert_consistent(world) == {D(36): True, D(37): True}
    directory = world.store.directory("boosted_trees")
    assert [p.name for p in (directory / ".versions").glob(f"{D(37)}.*")] == [
        f"{D(37)}.{evaluations(world)[D(37)]['artifact_sha256'][:16]}"]
    assert not list((directory / ".staging").glob(f"{D(37)}.*"))


KILLED_STEP = """
import sys, time
from pathlib import Path
sys.path[:0] = [{root!r}, {tests!r}]
from conftest import Harness
from feedtrain.logsource import LogSource
from feedtrain.modelstore import ModelStore
from realgraph_assets.definitions import defs
from realgraph_assets.resources import SQL_DIR, RealGraphSimulator
import datetime as dt

def stop_here(self, artifact):  # the evaluation rows are committed; the files are not moved yet
    Path({marker!r}).write_text("committed")
    time.sleep(600)

ModelStore._move_into_place = stop_here
h = Harness(Path({home!r}), defs, "realgraph", str(SQL_DIR / "schema.sql"), {{"simulator": RealGraphSimulator(preset="tiny", seed=7), "log_source": LogSource()}})
h.materialize(["boosted_trees"], dt.date.fromisoformat({day!r}), config={config!r})
"""


def test_kill_9_in_the_middle_of_the_model_step(world, tmp_path):
    assert world.materialize(["boosted_trees"], *DAYS).success
    marker = tmp_path / "committed"
    script = tmp_path / "step.py"
    script.write_text(textwrap.dedent(KILLED_STEP).format(root=str(ROOT), tests=str(ROOT / "tests"), marker=str(marker),
                                                         home=str(world.home), day=D(37).isoformat(), config=CHANGED))
    step = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert step.poll() is None, "the model step ended before reaching the rename"
            assert time.monotonic() < deadline, "the model step never reached the rename"
            time.sleep(0.2)
    finally:
        os.killpg(step.pid, signal.SIGKILL)
        step.wait()
    ok = assert_consistent(world)  # the committed rows survive kill -9 (DuckDB's WAL); the old files do not match
    assert not ok[D(37)]
    assert world.materialize(["boosted_trees"], D(37), config=CHANGED).success
    assert assert_consistent(world) == {D(36): True, D(37): True}
    assert tree_sha256(world.store.path("boosted_trees", D(37)).resolve()) == evaluations(world)[D(37)]["artifact_sha256"]
