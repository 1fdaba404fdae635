"""The recap_assets code location."""

import dagster as dg

from feedtrain import automation
from feedtrain.warehouse import io_manager

from .assets import ALL_ASSETS
from .champion import champion
from .resources import RecapSimulator, recap_warehouse

warehouse = recap_warehouse()

defs = dg.Definitions(
    # A run's steps go one at a time anyway (one writer per DuckDB file, dagster.yaml's pool limit), so a process per
    # step would only add ~7 s of start-up to each: a 4-model run took 35 s that way and 4 s in process.
    executor=dg.in_process_executor,
    assets=[*ALL_ASSETS, champion],
    sensors=[automation.sensor("recap")],
    resources={"warehouse": warehouse, "io_manager": io_manager(warehouse), "simulator": RecapSimulator()},
)
