"""The recap_assets code location."""

import dagster as dg

from feedtrain import automation
from feedtrain.warehouse import io_manager

from .assets import ALL_ASSETS
from .resources import RecapSimulator, recap_warehouse

warehouse = recap_warehouse()

defs = dg.Definitions(
    assets=ALL_ASSETS,
    sensors=[automation.sensor("recap")],
    resources={"warehouse": warehouse, "io_manager": io_manager(warehouse), "simulator": RecapSimulator()},
)
