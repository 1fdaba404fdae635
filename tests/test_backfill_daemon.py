"""End to end: a real multi-partition asset backfill of every asset of a code location, run by the daemon of a real
`dagster dev` (tests/dagster_server.py), with the repository's dagster.yaml (pools, run queue).

The backfill is launched through GraphQL ``launchPartitionBackfill`` with ``partitionsByAssets``: one
PartitionsByAssetSelector per asset, each with its own partition ranges, because every layer has its own
DailyPartitionsDefinition and the daemon does not wait for parent partitions outside the backfill's selection. The
ranges are the upstream closure of the last MODEL_DAYS model partitions (the newest one is left to the UI test),
computed with the assets' own partition mappings. One backfill per code location (BackfillPolicy.single_run across
two locations fails inside one backfill).
"""

import datetime as dt
import json

import duckdb
from dagster_server import BACKFILL_SUCCESS_STATUSES, plan_backfill, workspace_modules

pytest_plugins = ["dagster_server"]

MODEL_DAYS = 3
LEAVE_NEWEST = 1  # the newest model day stays unmaterialised for tests/test_ui_browser.py
BACKFILL_TIMEOUT_S = 1500  # a bound, not a speed target: a loaded 2-core machine took > 480 s for the whole location

ASSET_NODES = """{ assetNodes { assetKey { path } isMaterializable dependencyKeys { path }
    repository { location { name } }
    assetChecksOrError { __typename ... on AssetChecks { checks { name blocking
        executionForLatestMaterialization { runId status } } } } } }"""
MATERIALIZATIONS = """query($key: AssetKeyInput!, $after: String) { assetOrError(assetKey: $key) { __typename
    ... on Asset { assetMaterializations(afterTimestampMillis: $after, limit: 5000) { runId partition } } } }"""


def user_key(path):
    return "/".join(path)


def run_window(run):
    return run["startTime"], run["endTime"]


def test_daemon_backfills_every_asset_in_dependency_order(dagster_dev):
    server = dagster_dev
    modules = workspace_modules()  # every location of workspace.yaml: realgraph_assets, and recap_assets once listed
    assert "realgraph_assets" in modules, f"workspace.yaml locations: {list(modules)}"
    assert all(modules.values()), f"only python_module locations can be planned here: {modules}"

    # Plan and launch one backfill per location, all at once (separate pools and DuckDB files), then wait for all.
    launched = {}
    for name, module in modules.items():
        plan = plan_backfill(server, module, MODEL_DAYS, LEAVE_NEWEST)
        assert not plan["unreached"], f"{name}: partitioned assets no model depends on: {plan['unreached']}"
        backfill_id = server.launch_backfill({
            "partitionsByAssets": plan["partitions_by_assets"],
            "title": f"test_backfill_daemon {name}",
            "tags": [{"key": "feedtrain/test", "value": "test_backfill_daemon"}],
        })
        launched[name] = (backfill_id, plan)
        print(f"\n{name}: backfill {backfill_id}, {len(plan['partitions_by_assets'])} assets, "
              f"{sum(len(p) for p in plan['partitions'].values())} asset partitions, models "
              f"{sorted({d for days in plan['leaves'].values() for d in days})}")

    for name, (backfill_id, plan) in launched.items():
        backfill = server.wait_backfill(backfill_id, timeout=BACKFILL_TIMEOUT_S)
        wall = backfill["endTimestamp"] - backfill["timestamp"]  # as the daemon recorded it
        nodes = server.graphql(ASSET_NODES)["assetNodes"]
        runs = sorted(server.backfill_runs(backfill_id), key=lambda r: r["startTime"] or 0)
        failed = [r for r in runs if r["status"] != "SUCCESS"]
        print(f"{name}: backfill {backfill_id} {backfill['status']} in {wall:.0f}s, {len(runs)} runs, "
              f"{len(failed)} not successful")
        for r in runs:
            assets = ",".join(sorted(user_key(a["path"]).split("/")[-1] for a in r["assetSelection"] or []))
            tags = {t["key"]: t["value"] for t in r["tags"]}
            part = tags.get("dagster/partition") or (f"{tags.get('dagster/asset_partition_range_start')}.."
                                                      f"{tags.get('dagster/asset_partition_range_end')}")
            print(f"  {r['runId'][:8]} {r['status']:8} {r['startTime'] - runs[0]['startTime']:6.1f}s "
                  f"+{r['endTime'] - r['startTime']:5.1f}s {part:23} {assets}")

        assert backfill["status"] in BACKFILL_SUCCESS_STATUSES, (
            f"{name}: backfill {backfill_id} ended {backfill['status']}: {backfill['error']}")
        assert runs, f"{name}: backfill {backfill_id} launched no runs"
        assert not failed, f"{name}: runs not successful: {[(r['runId'], r['status']) for r in failed]}"

        # Every asset of the location was in the backfill.
        location_nodes = {user_key(n["assetKey"]["path"]): n for n in nodes
                          if n["repository"]["location"]["name"] == name and n["isMaterializable"]}
        selected = {user_key(a["path"]) for a in backfill["assetSelection"]}
        assert selected == set(location_nodes), (
            f"{name}: not backfilled: {sorted(set(location_nodes) - selected)}; "
            f"unknown: {sorted(selected - set(location_nodes))}")

        # Every requested asset partition was materialised by a run of this backfill.
        run_ids = {r["runId"] for r in runs}
        after = str(int(backfill["timestamp"] * 1000))
        not_built = {}
        for asset, wanted in {**plan["partitions"], **{a: [None] for a in plan["unpartitioned"]}}.items():
            data = server.graphql(MATERIALIZATIONS, {"key": {"path": asset.split("/")}, "after": after})
            built = {m["partition"] for m in data["assetOrError"]["assetMaterializations"] if m["runId"] in run_ids}
            missing = sorted(set(wanted) - built, key=str)
            if missing:
                not_built[asset] = missing
        assert not not_built, f"{name}: asset partitions not materialised by backfill {backfill_id}: {not_built}"

        # Every blocking asset check's latest execution ran in this backfill and passed (the quality warnings and
        # the raw sources' freshness checks do not block; they are reported, not asserted).
        check_results = {}
        for asset, node in location_nodes.items():
            checks = node["assetChecksOrError"]
            for check in [c for c in checks.get("checks") or [] if c["blocking"]]:
                ex = check["executionForLatestMaterialization"] or {}
                check_results[f"{asset}:{check['name']}"] = (ex.get("status"), ex.get("runId") in run_ids)
        bad = {k: v for k, v in check_results.items() if v != ("SUCCEEDED", True)}
        print(f"{name}: {len(check_results)} asset checks, {len(check_results) - len(bad)} passed in this backfill")
        assert not bad, f"{name}: checks not passed in backfill {backfill_id} (status, ran in it): {bad}"

        # Partition-dependency order: a run starts only after every run that materialised its parents has ended.
        parents = {asset: {user_key(d["path"]) for d in node["dependencyKeys"]} for asset, node in location_nodes.items()}
        violations = []
        for run in runs:
            mine = {user_key(a["path"]) for a in run["assetSelection"]}
            needs = set().union(*(parents[a] for a in mine)) - mine
            for other in runs:
                theirs = {user_key(a["path"]) for a in other["assetSelection"]}
                if other is not run and needs & theirs and run["startTime"] < other["endTime"]:
                    violations.append(f"{run['runId'][:8]} ({sorted(mine)}) started {other['endTime'] - run['startTime']:.1f}s "
                                      f"before {other['runId'][:8]} ({sorted(needs & theirs)}) ended")
        assert not violations, f"{name}: runs started before their parents' runs ended:\n" + "\n".join(violations)

        if name == "realgraph_assets":
            check_realgraph_models(server, plan)


def check_realgraph_models(server, plan):
    """The models' evaluations of every backfilled model day are in the warehouse, with a sane AUC."""
    days = sorted({dt.date.fromisoformat(d) for ds in plan["leaves"].values() for d in ds})
    path = server.feedtrain_home / "realgraph_warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as conn:
        rows = conn.execute(
            "SELECT ds, variant, model, auc FROM realgraph.model_evaluations WHERE ds BETWEEN ? AND ? ORDER BY ALL",
            [days[0], days[-1]]).fetchall()
    got = {(ds, variant, model): auc for ds, variant, model, auc in rows}
    expected = {(d, v, m) for d in days for v in ("prod", "prod_explicit") for m in ("boosted_trees", "light_ranker")}
    assert expected <= set(got), f"model_evaluations misses {sorted(expected - set(got))}"
    weak = {k: got[k] for k in expected if not (got[k] is not None and 0.55 < got[k] <= 1.0)}
    assert not weak, f"models no better than chance on the tiny world: {weak}"
    print("model_evaluations:", json.dumps({f"{d} {v} {m}": round(got[(d, v, m)], 3)
                                            for d, v, m in sorted(expected)}, indent=None))


GROUP_NODES = """{ assetNodes(group: null) { assetKey { path } groupName isMaterializable
    partitionKeysByDimension { partitionKeys } repository { location { name } } } }"""
STALE = """query($key: AssetKeyInput!, $p: String) { assetNodeOrError(assetKey: $key) {
    ... on AssetNode { staleStatus(partition: $p) staleCauses(partition: $p) { reason } } } }"""


def test_ui_backfill_of_the_training_and_model_groups_runs_every_selected_asset_day(dagster_dev):
    """What the UI sends when a user selects the realgraph_training and realgraph_models groups and one date range
    (launchPartitionBackfill, one selector per asset with that range; the champion unpartitioned): every selected
    (asset, day) must be built by the backfill, each model day after its train day, none left stale."""
    server = dagster_dev
    nodes = [n for n in server.graphql(GROUP_NODES)["assetNodes"]
             if n["repository"]["location"]["name"] == "realgraph_assets" and n["isMaterializable"]
             and n["groupName"] in ("realgraph_training", "realgraph_models")]
    keys = {user_key(n["assetKey"]["path"]): n for n in nodes}
    assert {"realgraph/train", "realgraph/boosted_trees", "realgraph/light_ranker_explicit"} <= set(keys)
    model_days = keys["realgraph/boosted_trees"]["partitionKeysByDimension"][0]["partitionKeys"]
    days = model_days[-2:]  # the seed built everything these two days read
    selectors, wanted = [], {}
    for asset, node in sorted(keys.items()):
        if node["partitionKeysByDimension"]:
            assert set(days) <= set(node["partitionKeysByDimension"][0]["partitionKeys"]), asset
            selectors.append({"assetKey": {"path": asset.split("/")},
                              "partitions": {"ranges": [{"start": days[0], "end": days[-1]}]}})
            wanted[asset] = set(days)
        else:
            selectors.append({"assetKey": {"path": asset.split("/")}, "partitions": None})
            wanted[asset] = {None}
    backfill_id = server.launch_backfill({"partitionsByAssets": selectors, "title": "training + models groups",
                                          "tags": [{"key": "feedtrain/test", "value": "groups"}]})
    backfill = server.wait_backfill(backfill_id, timeout=BACKFILL_TIMEOUT_S)
    runs = server.backfill_runs(backfill_id)
    assert backfill["status"] in BACKFILL_SUCCESS_STATUSES, backfill["error"]
    assert runs and all(r["status"] == "SUCCESS" for r in runs), [(r["runId"], r["status"]) for r in runs]

    run_ids, after = {r["runId"] for r in runs}, str(int(backfill["timestamp"] * 1000))
    built, not_built = {}, {}
    for asset, want in wanted.items():
        mats = server.graphql(MATERIALIZATIONS, {"key": {"path": asset.split("/")}, "after": after})
        built[asset] = {m["partition"] for m in mats["assetOrError"]["assetMaterializations"] if m["runId"] in run_ids}
        if want - built[asset]:
            not_built[asset] = sorted(want - built[asset], key=str)
    assert not not_built, f"selected asset-days the backfill did not build: {not_built}"

    # Each model day was built after the train day it reads (the run that built train had ended first).
    by_asset = {}
    for r in runs:
        for a in r["assetSelection"] or []:
            by_asset.setdefault(user_key(a["path"]), []).append(r)
    for model in ("boosted_trees", "light_ranker", "boosted_trees_explicit", "light_ranker_explicit"):
        train = "realgraph/train" + ("_explicit" if model.endswith("_explicit") else "")
        last_train_end = max(r["endTime"] for r in by_asset[train])
        assert all(r["startTime"] >= last_train_end for r in by_asset[f"realgraph/{model}"]), model
    stale = {}
    for asset in wanted:
        if asset.split("/")[-1].startswith(("boosted_trees", "light_ranker")):
            for day in days:
                node = server.graphql(STALE, {"key": {"path": asset.split("/")}, "p": day})["assetNodeOrError"]
                if node["staleStatus"] != "FRESH":
                    stale[f"{asset} {day}"] = [c["reason"] for c in node["staleCauses"]]
    print(f"groups backfill {backfill_id}: {len(runs)} runs, {sum(len(v) for v in built.values())} asset-days; "
          f"Dagster staleness of the models: {stale or 'all fresh'}")
