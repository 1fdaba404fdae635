"""Materialise everything one recap model day needs, through Dagster, and print the per-head evaluation.

    python -m recap_assets.report --home /tmp/recap_default --preset default

runs ``dg.materialize`` (ephemeral instance, in-process) in three ranges, each one run as a single-run backfill would:
the raw logs of every day the model day reads, the labels/features/training sets of its training and validation days,
then the models of the day; prints the Markdown tables of model_evaluations and ranking_evaluations and the wall time of
each stage.  The same function builds the tiny world for the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import operator
import os
import time
from pathlib import Path

import dagster as dg
import polars as pl

from feedtrain.driver import group
from feedtrain.logsource import LogSource
from feedtrain.warehouse import markdown_table

from .windows import (
    RECAP_FEATURE_WINDOW_DAYS,
    RECAP_LABEL_DELAY_DAYS,
    RECAP_TRAIN_DAYS,
    RECAP_VALID_DAYS,
    recap_events_partitions,
    recap_model_partitions,
)

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def first_model_day() -> dt.date:
    return recap_model_partitions.start.date()


def stages(model_day: dt.date) -> list[tuple[str, list, dt.date, dt.date]]:
    """(name, asset groups or keys, first day, last day) of each run that builds model_day from nothing. Assets of
    one run must share a partitions definition: features exist a day before labels (which wait for T+1)."""
    from .common import key

    first_feature_day = model_day - dt.timedelta(days=RECAP_TRAIN_DAYS + RECAP_VALID_DAYS - 1)
    return [
        ("raw logs", ["recap_sources", key("user_days")],
         first_feature_day - dt.timedelta(days=RECAP_FEATURE_WINDOW_DAYS),
         model_day + dt.timedelta(days=RECAP_LABEL_DELAY_DAYS)),
        ("features", [key("impression_features")], first_feature_day, model_day),
        ("labels, training sets", [key("impressions_labeled"), "recap_training"], first_feature_day, model_day),
        ("models", ["recap_models"], model_day, model_day),
    ]


def next_day_stages(day: dt.date) -> list[tuple[str, list, dt.date, dt.date]]:
    """The runs that add one day ``day`` once every earlier day exists: the raw logs of day+1 (its late engagements),
    then day's features, labels and training sets, then day's models (as a daily schedule would run them)."""
    from .common import key

    after = day + dt.timedelta(days=RECAP_LABEL_DELAY_DAYS)
    return [("raw logs", ["recap_sources", key("user_days")], after, after),
            ("features", [key("impression_features")], day, day),
            ("labels, training sets", [key("impressions_labeled"), "recap_training"], day, day),
            ("models", ["recap_models"], day, day)]


def selection(items: list) -> dg.AssetSelection:
    sel = dg.AssetSelection.assets(*[i for i in items if isinstance(i, dg.AssetKey)])
    return functools.reduce(operator.or_, [group(i) for i in items if isinstance(i, str)], sel)


def resources(home: Path, preset: str, seed: int) -> dict:
    """Resources with explicit paths under ``home``: the warehouse file and the model store."""
    from feedtrain.modelstore import ModelStore

    from .resources import RecapSimulator, recap_warehouse

    return {"warehouse": recap_warehouse(str(home / "recap_warehouse.duckdb")),
            "model_store": ModelStore(location="recap", root=str(home / "models")),
            "simulator": RecapSimulator(preset=preset, seed=seed), "log_source": LogSource()}


def build(home: Path, preset: str, seed: int = 11, model_day: dt.date | None = None, run_config: dict | None = None,
          log=print, only_next_day: bool = False, instance: dg.DagsterInstance | None = None) -> dict[str, float]:
    """Materialise every asset model_day needs (or, with only_next_day, what model_day adds to the day before it);
    returns the wall time of each stage in seconds."""
    from .definitions import ALL_ASSETS

    model_day = model_day or first_model_day()
    res = resources(home, preset, seed)
    timings = {}
    for name, groups, first, last in (next_day_stages(model_day) if only_next_day else stages(model_day)):
        if first < recap_events_partitions.start.date():
            raise ValueError(f"{model_day} needs raw days from {first}, before the first event day")
        started = time.perf_counter()
        result = dg.materialize(
            ALL_ASSETS, selection=selection(groups), resources=res, instance=instance,
            tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat()},
            run_config=run_config if "models" in name else None, raise_on_error=True)
        timings[name] = time.perf_counter() - started
        assert result.success
        log(f"{name}: {first} .. {last} ({(last - first).days + 1} days) in {timings[name]:.1f} s")
    return timings


def tables(home: Path, model_day: dt.date, weights_version: str = "v1") -> tuple[str, str]:
    import duckdb

    with duckdb.connect(str(home / "recap_warehouse.duckdb"), read_only=True) as conn:
        ev = pl.from_arrow(conn.execute("SELECT head, model, positives, auc, rce FROM recap.model_evaluations "
                                        "WHERE ds = ?", [model_day]).to_arrow_table())
        rk = pl.from_arrow(conn.execute("SELECT weights_version, model, ndcg_at_10, rankings FROM "
                                        "recap.ranking_evaluations WHERE ds = ? ORDER BY weights_version <> ?, "
                                        "ndcg_at_10 DESC", [model_day, weights_version]).to_arrow_table())
    order = ["boosted_trees", "light_ranker", "popularity_heuristic", "oracle"]
    wide = ev.pivot(on="model", index=["head", "positives"], values=["auc", "rce"])
    cols = [c for m in order for c in (f"auc_{m}", f"rce_{m}") if c in wide.columns]
    wide = wide.select("head", pl.col("positives").alias("valid_positives"), *cols)
    return markdown_table(wide), markdown_table(rk)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", required=True, type=Path, help="FEEDTRAIN_HOME for the warehouse and model files")
    parser.add_argument("--preset", default="default", help="world size: tiny, small, default, bench")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--model-day", type=dt.date.fromisoformat, default=None,
                        help="model partition (default: the first one)")
    parser.add_argument("--weights", default="v1", choices=["v1", "v2"], help="docs/recap.md §3.2 weights of the headline NDCG")
    parser.add_argument("--next-day", action="store_true",
                        help="only add --model-day to a home that already holds the day before (times one new day)")
    parser.add_argument("--record-in-instance", action="store_true",
                        help="record the runs in the Dagster instance of $DAGSTER_HOME, so the UI shows them (run.sh)")
    args = parser.parse_args(argv)
    home = args.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["FEEDTRAIN_HOME"] = str(home)
    model_day = args.model_day or first_model_day()
    config = {"ops": {"ranker_models": {"config": {"weights_version": args.weights}}}}
    instance = dg.DagsterInstance.get() if args.record_in_instance else None
    timings = build(home, args.preset, args.seed, model_day, config, only_next_day=args.next_day, instance=instance)
    per_head, ranking = tables(home, model_day, args.weights)
    print(f"\n## Recap, {args.preset} world (seed {args.seed}), model day {model_day}\n")
    print("Per head, on every impression of the validation days (AUC, RCE in %; RCE on calibrated probabilities):\n")
    print(per_head)
    print("\nNDCG@10 per (viewer, day) of the weighted score against the planted utility:\n")
    print(ranking)
    print("\nWall time: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


if __name__ == "__main__":
    main()
