"""The realgraph_assets code location."""

import dagster as dg

from feedtrain.warehouse import io_manager

from .assets import ALL_ASSETS
from .champion import CHAMPION_ASSETS
from .resources import RealGraphSimulator, realgraph_warehouse

warehouse = realgraph_warehouse()

defs = dg.Definitions(
    assets=[*ALL_ASSETS, *CHAMPION_ASSETS],
    sensors=[dg.AutomationConditionSensorDefinition(
        "realgraph_automation", target=dg.AssetSelection.all(), default_status=dg.DefaultSensorStatus.STOPPED,
        minimum_interval_seconds=60,
        description="Builds each day as soon as its inputs exist (raw logs at 01:00 UTC, then candidates, labels, "
                    "train sets, models, champion). Off by default; turn it on under Automation.")],
    resources={"warehouse": warehouse, "io_manager": io_manager(warehouse), "simulator": RealGraphSimulator()},
)
