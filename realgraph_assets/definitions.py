"""The realgraph_assets code location."""

import dagster as dg

from feedtrain import automation
from feedtrain.warehouse import io_manager

from .assets import ALL_ASSETS
from .champion import CHAMPION_ASSETS
from .resources import RealGraphSimulator, realgraph_warehouse

warehouse = realgraph_warehouse()

defs = dg.Definitions(
    assets=[*ALL_ASSETS, *CHAMPION_ASSETS],
    sensors=[automation.sensor("realgraph")],
    resources={"warehouse": warehouse, "io_manager": io_manager(warehouse), "simulator": RealGraphSimulator()},
)
