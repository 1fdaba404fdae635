"""The realgraph_assets code location."""

import dagster as dg

from feedtrain import automation, logsource, quality
from feedtrain.daily import with_code_versions
from feedtrain.modelstore import ModelStore
from feedtrain.seed import Layer
from feedtrain.settings import env, env_int
from feedtrain.warehouse import home

from . import candidates, champion, labeled_candidates, models, sources, training_sets
from .labels import VARIANTS
from .resources import SCHEMA, SQL_DIR, RealGraphSimulator, realgraph_warehouse  # SCHEMA: for feedtrain.seed
from .windows import (candidate_partitions, events_partitions, label_partitions, model_partitions, train_partitions,
                      tweet_count_partitions)

warehouse = realgraph_warehouse(env("FEEDTRAIN_HOME", str(home())))

freshness_checks, freshness_sensor = quality.freshness_checks([sources.raw_logs], "realgraph")

defs = dg.Definitions(
    # A run's steps go one at a time anyway (one writer per DuckDB file, dagster.yaml's pool limit), so a process per
    # step would only add ~7 s of start-up to each: a 4-model run took 35 s that way and 4 s in process.
    executor=dg.in_process_executor,
    assets=with_code_versions(dg.load_assets_from_modules(
        [sources, candidates, labeled_candidates, training_sets, models, champion]), SQL_DIR),
    asset_checks=freshness_checks,
    sensors=[automation.sensor("realgraph"), sources.new_log_days, freshness_sensor],
    resources={"warehouse": warehouse, "model_store": ModelStore(location="realgraph"), "simulator": RealGraphSimulator(
        preset=env("FEEDTRAIN_WORLD", "default"), seed=env_int("FEEDTRAIN_REALGRAPH_SEED", 7)),
               "log_source": logsource.log_source("realgraph")},
)

# The layers in dependency order with their partitions: what `python -m feedtrain.seed realgraph` fills (./run.sh).
LAYERS = [
    Layer(("group:realgraph_sources", "interaction_days"), events_partitions),
    Layer(("tweeting_follows",), tweet_count_partitions),
    Layer(("candidates", "candidates_sampled"), candidate_partitions),
    Layer(tuple(v.name("labeled_candidates") for v in VARIANTS.values()), label_partitions),
    Layer(tuple(v.name("train") for v in VARIANTS.values()), train_partitions),
    Layer(tuple(v.name(kind) for v in VARIANTS.values() for kind in models.MODEL_KINDS), model_partitions),
    Layer(tuple(v.name("champion") for v in VARIANTS.values()), None),
]
