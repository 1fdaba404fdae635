"""A 30-day backfill of every asset of both locations on the default world, through a real `dagster dev`.

    python bench/ui_backfill.py [--days 30] [--world default] [--locations realgraph_assets recap_assets]

Launches, per location, the backfill the UI's "Materialize…" dialog launches (GraphQL ``launchPartitionBackfill``
with per-asset partition ranges: the last N model days and everything upstream of them), against the repository's
dagster.yaml (pools, run queue) and default executor, waits for the daemon to finish, and prints wall time, runs,
failed runs and the most runs in flight at once, then each run: its assets, when it started, how long it took and
how long the backfill waited before it (the daemon's loop and the run's launch).
"""

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from dagster_server import DagsterServer, plan_backfill, utc_today  # noqa: E402

MODULES = {"realgraph_assets": "realgraph_assets.definitions", "recap_assets": "recap_assets.definitions"}
FIRST_MODEL_OFFSET = {"realgraph_assets": 38, "recap_assets": 71}  # events needed before the first model day, +1


def in_flight(runs) -> int:
    edges = sorted([(r["startTime"], 1) for r in runs if r["startTime"]] + [(r["endTime"], -1) for r in runs if r["endTime"]])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--world", default="default")
    parser.add_argument("--locations", nargs="+", default=list(MODULES))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ui_backfill_"))
    history = max(FIRST_MODEL_OFFSET[loc] for loc in args.locations) + args.days + 2
    server = DagsterServer(root, start_date=utc_today() - dt.timedelta(days=history))
    server.env["FEEDTRAIN_WORLD"] = args.world
    server.prepare()
    server.start()
    try:
        server.wait_loaded()
        launched = {}
        for loc in args.locations:
            plan = plan_backfill(server, MODULES[loc], args.days)
            launched[loc] = (server.launch_backfill({"partitionsByAssets": plan["partitions_by_assets"],
                                                     "title": f"bench {args.days}-day backfill {loc}"}), plan, time.time())
            print(f"{loc}: {len(plan['partitions_by_assets'])} assets, "
                  f"{sum(len(p) for p in plan['partitions'].values())} asset partitions", flush=True)
        print(f"\nworld={args.world}, {args.days} model days, dagster.yaml as committed\n")
        print("| location | asset partitions | runs | failed runs | most runs in flight | wall (s) |\n|---|---|---|---|---|---|")
        timelines = {}
        for loc, (backfill_id, plan, started) in launched.items():
            backfill = server.wait_backfill(backfill_id, timeout=3 * 3600)
            runs = server.backfill_runs(backfill_id)
            failed = [r for r in runs if r["status"] != "SUCCESS"]
            wall = backfill["endTimestamp"] - backfill["timestamp"]
            print(f"| {loc} | {sum(len(p) for p in plan['partitions'].values())} | {len(runs)} | {len(failed)} | "
                  f"{in_flight(runs)} | {wall:.0f} |", flush=True)
            timelines[loc] = (backfill["timestamp"], runs)
        for loc, (start, runs) in timelines.items():  # where the wall time goes: in runs, or between them
            print(f"\n{loc}: each run, seconds from the backfill's launch\n\n| run | assets | started | took | "
                  "waited before it |\n|---|---|---|---|---|")
            previous_end = start
            for r in sorted((r for r in runs if r["startTime"]), key=lambda r: r["startTime"]):
                assets = sorted(a["path"][-1] for a in r["assetSelection"] or [])
                names = ", ".join(assets[:4]) + (f" +{len(assets) - 4}" if len(assets) > 4 else "")
                print(f"| {r['runId'][:8]} | {names} | {r['startTime'] - start:.0f} | "
                      f"{(r['endTime'] or r['startTime']) - r['startTime']:.0f} | {r['startTime'] - previous_end:.0f} |")
                previous_end = r["endTime"] or r["startTime"]
    finally:
        server.stop()


if __name__ == "__main__":
    main()
