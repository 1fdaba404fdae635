"""Layer 1, recap_sources: the raw logs. Every raw table of a day is loaded in one step through the one door
(``feedtrain/ingest.py``) from the location's log source: the embedded simulator (default) or a folder of files
(``FEEDTRAIN_RECAP_SOURCE=files``, ``FEEDTRAIN_RECAP_FILES=/path``; README "Use your own logs")."""

import datetime as dt

import dagster as dg
import pyarrow as pa

from feedtrain import logsource
from feedtrain.automation import LANDS_DAILY, OWNERS
from feedtrain.warehouse import Warehouse, engine_kind

from .common import POLICY, POOL, key
from .contract import CONTRACT
from .resources import RecapSimulator
from .simulator import World
from .windows import recap_events_partitions

RAW_TABLES = {t.name: t.description for t in CONTRACT.tables}
SIM_FIELD = {"planted_engagement_probability": "planted"}


def simulated_day(world: World, day: dt.date) -> dict[str, pa.Table]:
    """One simulated day of every raw table, shaped exactly as the files of a real delivery (ds from the partition)."""
    sim = world.day(day)
    return {t: getattr(sim, SIM_FIELD.get(t, t)) for t in RAW_TABLES}


# raw_logs builds one asset per raw table: recap/users, recap/follows, recap/tweets, recap/impressions,
# recap/engagements, recap/planted_engagement_probability.
@dg.multi_asset(
    specs=[dg.AssetSpec(key(t), description=d, group_name="recap_sources", kinds={engine_kind()}, owners=OWNERS,
                        automation_condition=LANDS_DAILY,
                        metadata={"partition_expr": "ds"}) for t, d in RAW_TABLES.items()],
    partitions_def=recap_events_partitions, backfill_policy=POLICY, pool=POOL,
)
def raw_logs(context: dg.AssetExecutionContext, warehouse: Warehouse, simulator: RecapSimulator,
             log_source: logsource.LogSource):
    """One day of every raw Recap log from the log source, validated against the input contract
    (docs/input_contract.md) and committed with all tables of the day in one transaction."""
    with warehouse.connect() as conn:
        yield from logsource.raw_logs(context, conn, CONTRACT, log_source,
                                      lambda day: simulated_day(simulator.world(), day), key,
                                      f"simulator: {simulator.preset} world (seed {simulator.seed})")


new_log_days = logsource.new_days_sensor("recap", CONTRACT, [key(t) for t in RAW_TABLES])
