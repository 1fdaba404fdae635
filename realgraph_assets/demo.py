"""Materialise a window of Real Graph history through the real assets, and report model quality.

    python -m realgraph_assets.demo seed     # run.sh: fill the UI's instance with simulated history
    python -m realgraph_assets.demo report --home /tmp/rg --world default --model-days 3

``seed`` records the runs in the Dagster instance of $DAGSTER_HOME, so the UI shows them; ``report`` uses an
ephemeral instance and prints, per variant and model day, the holdout metrics of both models, the num_days heuristic
and the simulator's oracle.
"""

import argparse
import datetime as dt
import os
import sys
import time

import dagster as dg

from feedtrain.driver import materialize_days

from .resources import SCHEMA
from .windows import EVENTS_START, HISTORY_DAYS, LABEL_DELAY_DAYS, TRAIN_WINDOW_DAYS, TWEET_COUNT_DAYS

MODELS = ["boosted_trees", "light_ranker", "boosted_trees_explicit", "light_ranker_explicit"]


def steps(first_model_day: dt.date, last_model_day: dt.date) -> list[tuple[list[str], dt.date, dt.date]]:
    """(assets, first day, last day) in dependency order, so every window the models need exists."""
    d = lambda n: dt.timedelta(days=n)  # noqa: E731
    train_first = first_model_day
    label_first = train_first - d(TRAIN_WINDOW_DAYS - 1)
    label_last = last_model_day + d(LABEL_DELAY_DAYS)  # the holdout day
    events_first = max(EVENTS_START, label_first - d(HISTORY_DAYS - 1))  # candidates read the pairs' long history
    events_last = label_last + d(LABEL_DELAY_DAYS)
    return [
        (["group:realgraph_sources", "interaction_days"], events_first, events_last),
        (["tweeting_follows"], label_first - d(TWEET_COUNT_DAYS - 1), label_last),
        (["candidates", "candidates_sampled"], label_first, label_last),
        (["labeled_candidates", "labeled_candidates_explicit"], label_first, label_last),
        (["train", "train_explicit"], train_first, last_model_day),
        (MODELS, first_model_day, last_model_day),
    ]


def materialize(defs, instance, selection, first, last):
    """One step of ``steps``: every asset, models included, takes the whole range of days in one run."""
    started = time.time()
    result = materialize_days(defs, SCHEMA, selection, first, last, instance=instance)
    print(f"  {' '.join(selection)} {first}..{last}: {'ok' if result.success else 'FAILED'} in {time.time() - started:.1f}s",
          flush=True)


def run(instance, last_model_day: dt.date, model_days: int, leave_last_models: bool = False) -> None:
    """Build every table the models of the last ``model_days`` days need, and those models (all but the newest day's
    when ``leave_last_models``: that one is for the user to materialise from the UI)."""
    from .definitions import defs

    first = last_model_day - dt.timedelta(days=model_days - 1)
    for selection, a, b in steps(first, last_model_day):
        if selection == MODELS and leave_last_models:
            b -= dt.timedelta(days=1)
        if a <= b:
            materialize(defs, instance, selection, a, b)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["seed", "report"])
    parser.add_argument("--home", help="FEEDTRAIN_HOME for this run (report: required)")
    parser.add_argument("--world", default=None, help="simulator preset (tiny, small, default, bench)")
    parser.add_argument("--model-days", type=int, default=3)
    parser.add_argument("--last-model-day", type=dt.date.fromisoformat, default=None,
                        help="default: the newest model partition (seed builds its data but leaves its models to you)")
    args = parser.parse_args(argv)
    if args.home:
        os.environ["FEEDTRAIN_HOME"] = args.home
    if args.world:
        os.environ["FEEDTRAIN_WORLD"] = args.world
    from .windows import model_partitions

    last = args.last_model_day or dt.date.fromisoformat(model_partitions.get_last_partition_key())
    started = time.time()
    if args.command == "seed":
        run(dg.DagsterInstance.get(), last, args.model_days + 1, leave_last_models=True)
        print(f"seeded in {time.time() - started:.0f}s; the models of {last} are left for you to materialise")
        return
    run(dg.DagsterInstance.ephemeral(), last, args.model_days)
    print(f"\nmaterialised in {time.time() - started:.0f}s (world {os.environ.get('FEEDTRAIN_WORLD', 'default')})\n")
    print_report()


def print_report() -> None:
    from .resources import realgraph_warehouse

    with realgraph_warehouse().connect() as conn:
        table = conn.polars("""
            SELECT variant, model, count(*) AS days, round(avg(auc), 4) AS auc, round(avg(pr_auc), 4) AS pr_auc,
                   round(avg(log_loss), 4) AS log_loss, round(avg(calibrated_log_loss), 4) AS calibrated_log_loss,
                   round(avg(positive_rate), 4) AS holdout_positive_rate, round(avg(rows))::BIGINT AS holdout_rows
            FROM model_evaluations GROUP BY variant, model
            ORDER BY variant, CASE model WHEN 'oracle' THEN 0 WHEN 'boosted_trees' THEN 1 WHEN 'light_ranker' THEN 2 ELSE 3 END
        """)
    from feedtrain.warehouse import markdown_table

    print(markdown_table(table))


if __name__ == "__main__":
    sys.exit(main())
