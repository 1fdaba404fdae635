"""Raw logs: the embedded simulator writes one day of every raw Real Graph table in one step (docs/realgraph.md §2)."""

import dagster as dg

from feedtrain.automation import LANDS_DAILY, OWNERS
from feedtrain.partitions import partition_days
from feedtrain.warehouse import Warehouse, replace_partitions, stage

from .location import POLICY, POOL, key, label_bits_table
from .resources import RealGraphSimulator
from .windows import events_partitions

RAW_TABLES = {
    "interaction_graph_labels_daily": "Per pair and day, the set of interaction types A did toward B (docs/realgraph.md §2.1).",
    "interaction_graph_agg_negative_edge_snapshot": "Negative edges (block, mute, report, recent unfollow) as of the day (docs/realgraph.md §2.2).",
    "valid_user_follows": "Follow edges A->B as of the day (docs/realgraph.md §2.3).",
    "public_tweets": "Public tweets posted that day (docs/realgraph.md §2.3).",
    "planted_interaction_probability": "Simulator only: the planted probability of an interaction of each live tie that day (the oracle).",
}
RAW_SQL = {  # how each simulated Arrow table becomes its raw table (adds ds, label names, dateHour)
    "interaction_graph_labels_daily": """
        SELECT d.source_id, d.destination_id, list(b.name ORDER BY b.bit) AS labels,
               $ds::TIMESTAMP AS dateHour, $ds::DATE AS ds
        FROM sim d JOIN label_bits b ON d.label_mask & b.bit <> 0 GROUP BY d.source_id, d.destination_id""",
    "interaction_graph_agg_negative_edge_snapshot": """
        SELECT source_id, destination_id, 0.0 AS weight, negative_type, age_days,
               $ds::TIMESTAMP AS dateHour, $ds::DATE AS ds FROM sim""",
    "valid_user_follows": "SELECT source_id, destination_id, $ds::DATE AS ds FROM sim",
    "public_tweets": "SELECT user_id, tweet_id, ts, $ds::DATE AS ds FROM sim",
    "planted_interaction_probability": "SELECT source_id, destination_id, p_any, p_explicit, $ds::DATE AS ds FROM sim",
}
SIM_FIELD = {"interaction_graph_labels_daily": "labels", "interaction_graph_agg_negative_edge_snapshot": "negative_edges",
             "valid_user_follows": "follows", "public_tweets": "tweets", "planted_interaction_probability": "planted_probability"}


@dg.multi_asset(
    specs=[dg.AssetSpec(key(t), description=d, group_name="realgraph_sources", kinds={"duckdb"}, owners=OWNERS,
                        automation_condition=LANDS_DAILY,
                        metadata={"partition_expr": "ds"}) for t, d in RAW_TABLES.items()],
    partitions_def=events_partitions, backfill_policy=POLICY, pool=POOL,
)
def simulated_logs(context: dg.AssetExecutionContext, warehouse: Warehouse, simulator: RealGraphSimulator):
    """The embedded default data source: one simulated day of every raw Real Graph log, all tables of a day in one
    transaction."""
    world = simulator.world()
    counts: dict[str, list[int]] = {t: [] for t in RAW_TABLES}
    with warehouse.connect() as conn:
        label_bits_table(conn)
        for day in partition_days(context):
            sim = world.day(day)
            for table in RAW_TABLES:
                conn.register("sim", getattr(sim, SIM_FIELD[table]))
                counts[table].append(stage(conn, f"stage_{table}", RAW_SQL[table], {"ds": day}))
            replace_partitions(conn, day, {table: f"stage_{table}" for table in RAW_TABLES})
            context.log.info(f"simulated {day}: {sim.labels.num_rows} interacting pairs")
    for table, n in counts.items():
        yield dg.MaterializeResult(asset_key=key(table), metadata={
            "dagster/row_count": n[-1], "world": f"{simulator.preset} (seed {simulator.seed})", "rows_per_day": n})
