"""Model quality per model day: every model, every baseline and the oracle on the same next-day holdout.

    python bench/model_quality.py --world default --model-days 10 [--home /tmp/mq_default] [--models-only]
    python bench/model_quality.py --logs ./my_logs --model-days 20     # a real log (realgraph_assets.from_events)

Builds the days the models need through the real assets (feedtrain.driver, as a backfill would), trains the prod
models of each model day, and prints per day the holdout AUC of LightGBM, the logistic regression, each baseline
(realgraph_assets/models.py BASELINES) and the oracle, then: the share of days LightGBM beats every baseline, the
share of the num_days -> oracle AUC gap it closes (on the mean AUCs), its mean ECE after the downsampling
correction, and its mean margin over each day's best baseline with a 95 % interval from resampling the days (a fair
summary where a day's holdout holds a handful of positives). ``--models-only`` re-trains on the tables already in --home (to compare model settings).
"""

import argparse
import datetime as dt
import os
import time
from pathlib import Path

from chain_day import use_logs  # bench/ is this script's directory, first on sys.path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", default="default")
    parser.add_argument("--home", default=None, help="FEEDTRAIN_HOME (default /tmp/mq_<world>)")
    parser.add_argument("--model-days", type=int, default=10)
    parser.add_argument("--last-model-day", type=dt.date.fromisoformat, default=None,
                        help="default 2026-08-10 on a simulated world; with --logs the last day whose holdout and "
                             "its labels exist (the log's last day - 2)")
    parser.add_argument("--logs", type=Path, help="a folder of Real Graph input files (docs/own_logs.md) to read "
                        "instead of the simulator; its first day is the start of every layer's partitions")
    parser.add_argument("--history-days", type=int, default=None,
                        help="labeled days before the first model day (default: the train window, 28 on sparse worlds "
                             "so thin windows can widen)")
    parser.add_argument("--variants", default="prod", help="prod, prod_explicit or both (comma-separated)")
    parser.add_argument("--models-only", action="store_true")
    parser.add_argument("--report-only", action="store_true", help="print the table of what --home already holds")
    args = parser.parse_args()
    if args.logs:
        days = use_logs(args.logs)  # the files source, its days, partitions from its first day
        args.world = args.logs.resolve().name
        args.last_model_day = args.last_model_day or days[-1] - dt.timedelta(days=2)
    args.last_model_day = args.last_model_day or dt.date(2026, 8, 10)
    os.environ.update(FEEDTRAIN_HOME=args.home or f"/tmp/mq_{args.world}")
    if not args.logs:
        os.environ["FEEDTRAIN_WORLD"] = args.world

    import dagster as dg
    import numpy as np
    import polars as pl

    from feedtrain.driver import materialize_days
    from feedtrain.partitions import days_between
    from feedtrain.warehouse import markdown_table
    from realgraph_assets import demo
    from realgraph_assets.definitions import defs
    from realgraph_assets.labels import VARIANTS
    from realgraph_assets.models import BASELINES
    from realgraph_assets.resources import SCHEMA, realgraph_warehouse

    history = args.history_days or (28 if args.logs or args.world.startswith("sparse") else 7)
    first = args.last_model_day - dt.timedelta(days=args.model_days - 1)
    models = [VARIANTS[v].name(kind) for v in args.variants.split(",") for kind in ("boosted_trees", "light_ranker")]
    started = time.time()
    # The instance is disposed (its storage and compute-log manager closed) before the report, so nothing of the runs
    # outlives them; leftovers are listed at the end instead of keeping the process alive.
    with dg.DagsterInstance.ephemeral() as instance:
        for selection, a, b in [] if args.report_only else demo.steps(first - dt.timedelta(days=history - 7),
                                                                      args.last_model_day):
            if selection == demo.MODELS:
                a = first
                for day in days_between(a, b):
                    assert materialize_days(defs, SCHEMA, models, day, instance=instance).success
            elif not args.models_only:
                if selection[0] == "train":
                    a = first
                assert materialize_days(defs, SCHEMA, selection, a, b, instance=instance).success, selection
            print(f"  {' '.join(selection)} {a}..{b} done at {time.time() - started:.0f}s", flush=True)
    cpu = time.process_time()

    with realgraph_warehouse().connect() as conn:
        ev = conn.polars("SELECT ds, variant, model, auc, ece, rows, positive_rate FROM model_evaluations "
                         "WHERE ds BETWEEN $a AND $b", {"a": first, "b": args.last_model_day})
    print(f"\nworld={args.world}, model days {first}..{args.last_model_day}, {time.time() - started:.0f}s wall, "
          f"{cpu:.0f}s CPU in this process\n")
    for variant in args.variants.split(","):
        v = ev.filter(pl.col("variant") == variant)
        wide = v.pivot(on="model", index="ds", values="auc").sort("ds").drop_nulls("boosted_trees")
        meta = v.filter(pl.col("model") == "boosted_trees").select("ds", "rows", "positive_rate", "ece")
        wide = wide.join(meta, on="ds")
        beats = wide.select(pl.all_horizontal([pl.col("boosted_trees") > pl.col(b) for b in BASELINES]).alias("beats"))
        wide = wide.with_columns(beats["beats"])
        cols = ["ds", "rows", "positive_rate", "boosted_trees", "light_ranker", *BASELINES,
                *(["oracle"] if "oracle" in wide.columns else []), "ece", "beats"]
        print(f"### {variant}\n")
        print(markdown_table(wide.select(cols).with_columns(pl.col(pl.Float64).round(4))))
        mean = {c: wide[c].mean() for c in cols[3:-1]}
        line = (f"\nLightGBM beats every baseline on {int(wide['beats'].sum())}/{wide.height} days "
                f"({wide['beats'].mean():.0%}); mean AUC LightGBM {mean['boosted_trees']:.4f}, logistic regression "
                f"{mean['light_ranker']:.4f}, best baseline {max(mean[b] for b in BASELINES):.4f}; mean ECE {mean['ece']:.4f}")
        # A day's holdout may hold a handful of positives (real logs), so its AUCs swing: the margin over the best
        # baseline of each day, averaged, with a 95 % interval from resampling the days (fixed seed).
        margin = (wide["boosted_trees"] - wide.select(pl.max_horizontal(list(BASELINES)).alias("best"))["best"]).to_numpy()
        resampled = np.random.default_rng(0).choice(margin, (10_000, len(margin))).mean(axis=1)
        line += (f"; margin over each day's best baseline {margin.mean():+.4f} (95 % interval over days "
                 f"{np.quantile(resampled, 0.025):+.4f}..{np.quantile(resampled, 0.975):+.4f})")
        if "oracle" in mean:
            gap = (mean["boosted_trees"] - mean["num_days_heuristic"]) / (mean["oracle"] - mean["num_days_heuristic"])
            line += f"; num_days -> oracle gap closed {gap:.0%} (oracle {mean['oracle']:.4f})"
        print(line + "\n", flush=True)
    leftovers(started)


def leftovers(started: float) -> None:
    """Name whatever would keep the interpreter alive after the report (non-daemon threads, child processes), then
    leave without waiting for it: a lingering thread of a library must not turn a finished benchmark into a hang."""
    import multiprocessing
    import sys
    import threading

    alive = [t.name for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    children = multiprocessing.active_children()
    if alive or children:
        print(f"left running after the report: threads {alive}, child processes {children}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
