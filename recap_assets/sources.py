"""Layer 1, recap_sources: the raw logs. The embedded simulator writes one day of every raw table in one step."""

import dagster as dg

from feedtrain.automation import LANDS_DAILY, OWNERS
from feedtrain.partitions import partition_days
from feedtrain.warehouse import Warehouse, stage

from .common import POLICY, POOL, commit, ensure_table, key
from .resources import RecapSimulator
from .windows import recap_events_partitions

RAW_TABLES = {
    "users": "Users as of 00:00 of the day: account creation time, verified flag.",
    "follows": "Follow edges made that day, with their time (the first day also holds the graph from before it).",
    "tweets": "Tweets posted that day with their content flags and text quality.",
    "impressions": "Tweets shown on the home timeline that day: viewer, tweet, author, time, position.",
    "engagements": "Engagements that happened that day (docs/recap.md §3.1 actions and clicks); an engagement after midnight "
                   "with an impression of the day before is in this day's partition.",
    "planted_engagement_probability": "Simulator only: each impression's planted probability of every head's label "
                                      "(the oracle) and its planted utility (v1-weighted sum), the NDCG relevance.",
}


# simulated_logs builds one asset per RAW_TABLES entry: recap/users, recap/follows, recap/tweets, recap/impressions,
# recap/engagements, recap/planted_engagement_probability.
@dg.multi_asset(
    specs=[dg.AssetSpec(key(t), description=d, group_name="recap_sources", kinds={"duckdb"}, owners=OWNERS,
                        automation_condition=LANDS_DAILY,
                        metadata={"partition_expr": "ds"}) for t, d in RAW_TABLES.items()],
    partitions_def=recap_events_partitions, backfill_policy=POLICY, pool=POOL,
)
def simulated_logs(context: dg.AssetExecutionContext, warehouse: Warehouse, simulator: RecapSimulator):
    """The embedded default data source: one simulated day of every raw Recap log, all tables of a day replaced in one
    transaction."""
    world = simulator.world()
    counts: dict[str, list[int]] = {t: [] for t in RAW_TABLES}
    field = {"planted_engagement_probability": "planted"}
    with warehouse.connect() as conn:
        for day in partition_days(context):
            sim = world.day(day)
            for table in RAW_TABLES:
                conn.register("sim", getattr(sim, field.get(table, table)))
                counts[table].append(stage(conn, f"stage_{table}", "SELECT *, $ds::DATE AS ds FROM sim", {"ds": day}))
                ensure_table(conn, table, f"stage_{table}")
            commit(conn, {t: f"stage_{t}" for t in RAW_TABLES}, day)
            context.log.info(f"simulated {day}: {sim.impressions.num_rows} impressions, "
                             f"{sim.engagements.num_rows} engagements")
    for table, n in counts.items():
        yield dg.MaterializeResult(asset_key=key(table), metadata={
            "dagster/row_count": n[-1], "world": f"{simulator.preset} (seed {simulator.seed})", "rows_per_day": n})

