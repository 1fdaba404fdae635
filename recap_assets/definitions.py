"""The recap_assets code location."""

import dagster as dg

from feedtrain import automation, quality
from feedtrain.daily import with_code_versions
from feedtrain.warehouse import io_manager

from .champion import champion
from .features import impression_features
from .labels import impressions_labeled
from .models import ranker_models
from .resources import SQL_DIR, RecapSimulator, recap_warehouse
from .sources import simulated_logs
from .training_sets import training_datasets

# The daily-partitioned assets, layer by layer (champion, unpartitioned, decides over all model days).
ALL_ASSETS = with_code_versions(
    [simulated_logs, impressions_labeled, impression_features, training_datasets, ranker_models], SQL_DIR)

warehouse = recap_warehouse()

freshness_checks, freshness_sensor = quality.freshness_checks([simulated_logs], "recap")

defs = dg.Definitions(
    # A run's steps go one at a time anyway (one writer per DuckDB file, dagster.yaml's pool limit), so a process per
    # step would only add ~7 s of start-up to each: a 4-model run took 35 s that way and 4 s in process.
    executor=dg.in_process_executor,
    assets=[*ALL_ASSETS, *with_code_versions([champion], SQL_DIR)],
    asset_checks=freshness_checks,
    sensors=[automation.sensor("recap"), freshness_sensor],
    resources={"warehouse": warehouse, "io_manager": io_manager(warehouse), "simulator": RecapSimulator()},
)
