"""The realgraph_assets code location."""

import dagster as dg

from feedtrain import automation
from feedtrain.seed import Layer
from feedtrain.settings import env, env_int
from feedtrain.warehouse import home, io_manager

from . import candidates, champion, labeled_candidates, models, sources, training_sets
from .resources import SCHEMA, RealGraphSimulator, realgraph_warehouse
from .windows import (candidate_partitions, events_partitions, label_partitions, model_partitions, train_partitions,
                      tweet_count_partitions)

warehouse = realgraph_warehouse(env("FEEDTRAIN_HOME", str(home())))

defs = dg.Definitions(
    # A run's steps go one at a time anyway (one writer per DuckDB file, dagster.yaml's pool limit), so a process per
    # step would only add ~7 s of start-up to each: a 4-model run took 35 s that way and 4 s in process.
    executor=dg.in_process_executor,
    assets=dg.load_assets_from_modules([sources, candidates, labeled_candidates, training_sets, models, champion]),
    sensors=[automation.sensor("realgraph")],
    resources={"warehouse": warehouse, "io_manager": io_manager(warehouse), "simulator": RealGraphSimulator(
        preset=env("FEEDTRAIN_WORLD", "default"), seed=env_int("FEEDTRAIN_REALGRAPH_SEED", 7))},
)

# The layers in dependency order with their partitions: what `python -m feedtrain.seed realgraph` fills (./run.sh).
# The models read one day through the IO manager, so they take one run per day.
LAYERS = [
    Layer(("group:realgraph_sources", "interaction_days"), events_partitions),
    Layer(("tweeting_follows",), tweet_count_partitions),
    Layer(("candidates", "candidates_sampled"), candidate_partitions),
    Layer(("labeled_candidates", "labeled_candidates_explicit"), label_partitions),
    Layer(("train", "train_explicit"), train_partitions),
    Layer(("boosted_trees", "light_ranker", "boosted_trees_explicit", "light_ranker_explicit"), model_partitions,
          per_day=True),
    Layer(("champion", "champion_explicit"), None),
]
