"""The recap_assets code location."""

import dagster as dg

from feedtrain import automation, logsource, quality
from feedtrain.daily import with_code_versions
from feedtrain.modelstore import ModelStore
from feedtrain.seed import Layer
from feedtrain.settings import env, env_int
from feedtrain.warehouse import home

from .champion import champion
from .features import impression_features, user_days
from .labels import impressions_labeled
from .models import ranker_models
from .resources import SCHEMA, SQL_DIR, RecapSimulator, recap_warehouse  # SCHEMA: for feedtrain.seed
from .sources import new_log_days, raw_logs
from .training_sets import training_datasets
from .windows import recap_events_partitions, recap_feature_partitions, recap_label_partitions, recap_model_partitions

# The daily-partitioned assets, layer by layer (champion, unpartitioned, decides over all model days).
ALL_ASSETS = with_code_versions(
    [raw_logs, user_days, impressions_labeled, impression_features, training_datasets, ranker_models], SQL_DIR)

warehouse = recap_warehouse(home_dir=env("FEEDTRAIN_HOME", str(home())))

freshness_checks, freshness_sensor = quality.freshness_checks([raw_logs], "recap")

defs = dg.Definitions(
    # A run's steps go one at a time anyway (one writer per DuckDB file, dagster.yaml's pool limit), so a process per
    # step would only add ~7 s of start-up to each: a 4-model run took 35 s that way and 4 s in process.
    executor=dg.in_process_executor,
    assets=[*ALL_ASSETS, *with_code_versions([champion], SQL_DIR)],
    asset_checks=freshness_checks,
    sensors=[automation.sensor("recap"), new_log_days, freshness_sensor],
    resources={"warehouse": warehouse, "model_store": ModelStore(location="recap"), "simulator": RecapSimulator(
        preset=env("FEEDTRAIN_RECAP_WORLD", "tiny"), seed=env_int("FEEDTRAIN_RECAP_SEED", 11)),
               "log_source": logsource.log_source("recap")},
)

# The layers in dependency order with their partitions: what `python -m feedtrain.seed recap` fills (./run.sh). Assets
# of one run share a partitions definition: features exist a day before labels (which wait for T+1's engagements).
LAYERS = [
    Layer(("group:recap_sources", "user_days"), recap_events_partitions),
    Layer(("impression_features",), recap_feature_partitions),
    Layer(("impressions_labeled", "group:recap_training"), recap_label_partitions),
    Layer(("group:recap_models",), recap_model_partitions),
    Layer(("champion",), None),
]
