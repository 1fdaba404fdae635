"""The realgraph_assets code location."""

import dagster as dg

from feedtrain import automation, quality
from feedtrain.daily import with_code_versions
from feedtrain.warehouse import io_manager

from . import candidates, champion, labeled_candidates, models, sources, training_sets
from .resources import SQL_DIR, RealGraphSimulator, realgraph_warehouse

warehouse = realgraph_warehouse()

freshness_checks, freshness_sensor = quality.freshness_checks([sources.simulated_logs], "realgraph")

defs = dg.Definitions(
    # A run's steps go one at a time anyway (one writer per DuckDB file, dagster.yaml's pool limit), so a process per
    # step would only add ~7 s of start-up to each: a 4-model run took 35 s that way and 4 s in process.
    executor=dg.in_process_executor,
    assets=with_code_versions(dg.load_assets_from_modules(
        [sources, candidates, labeled_candidates, training_sets, models, champion]), SQL_DIR),
    asset_checks=freshness_checks,
    sensors=[automation.sensor("realgraph"), freshness_sensor],
    resources={"warehouse": warehouse, "io_manager": io_manager(warehouse), "simulator": RealGraphSimulator()},
)
