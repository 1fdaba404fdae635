"""The recap_assets code location."""

import dagster as dg

from feedtrain import automation
from feedtrain.modelstore import ModelStore

from .champion import champion
from .features import impression_features
from .labels import impressions_labeled
from .models import ranker_models
from .resources import RecapSimulator, recap_warehouse
from .sources import simulated_logs
from .training_sets import training_datasets

# The daily-partitioned assets, layer by layer (champion, unpartitioned, decides over all model days).
ALL_ASSETS = [simulated_logs, impressions_labeled, impression_features, training_datasets, ranker_models]

warehouse = recap_warehouse()

defs = dg.Definitions(
    # A run's steps go one at a time anyway (one writer per DuckDB file, dagster.yaml's pool limit), so a process per
    # step would only add ~7 s of start-up to each: a 4-model run took 35 s that way and 4 s in process.
    executor=dg.in_process_executor,
    assets=[*ALL_ASSETS, champion],
    sensors=[automation.sensor("recap")],
    resources={"warehouse": warehouse, "model_store": ModelStore(location="recap"), "simulator": RecapSimulator()},
)
