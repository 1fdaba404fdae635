"""How long a day of the Real Graph chain takes at bench size (~100k users), through the real assets and Dagster.

    python bench/realgraph_day.py [--world bench] [--home /tmp/rg_bench] [--model-days 1]

Builds everything one model day needs (39 event days, 8 candidate/label days, the train set, 4 models) with one
single-run materialisation per layer (as a backfill would), and prints seconds per layer and per day, and rows per day.
"""

import argparse
import datetime as dt
import os
import platform
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", default="bench")
    parser.add_argument("--home", default="/tmp/rg_bench")
    parser.add_argument("--model-days", type=int, default=1)
    parser.add_argument("--last-model-day", type=dt.date.fromisoformat, default=dt.date(2026, 7, 20))
    args = parser.parse_args()
    os.environ.update(FEEDTRAIN_HOME=args.home, FEEDTRAIN_WORLD=args.world)

    import dagster as dg

    from realgraph_assets import demo
    from realgraph_assets.definitions import defs
    from realgraph_assets.resources import realgraph_warehouse

    instance = dg.DagsterInstance.ephemeral()
    first = args.last_model_day - dt.timedelta(days=args.model_days - 1)
    rows = []
    for selection, a, b in demo.steps(first, args.last_model_day):
        started = time.time()
        demo.materialize(defs, instance, selection, a, b)
        seconds, days = time.time() - started, (b - a).days + 1
        rows.append((" ".join(s.removeprefix("group:") for s in selection), days, seconds, seconds / days))
    with realgraph_warehouse().connect() as conn:
        sizes = {t: conn.scalar(f"SELECT count(*) / count(DISTINCT ds) FROM {t}") for t in
                 ["interaction_graph_labels_daily", "planted_interaction_probability", "valid_user_follows",
                  "interaction_days", "candidates", "candidates_sampled", "labeled_candidates", "train"]}
    print(f"\nworld={args.world} machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}")
    print("| layer | days | seconds | seconds/day |\n|---|---|---|---|")
    for name, days, seconds, per_day in rows:
        print(f"| {name} | {days} | {seconds:.1f} | {per_day:.2f} |")
    print(f"| **one day of the chain** (sum of seconds/day) | | | **{sum(r[3] for r in rows):.1f}** |")
    print("\n| table | rows per day |\n|---|---|")
    for t, n in sizes.items():
        print(f"| {t} | {n:,.0f} |")


if __name__ == "__main__":
    main()
