"""Raw logs (docs/realgraph.md §2): every raw Real Graph table of a day, loaded in one step through the one door
(``feedtrain/ingest.py``) from the location's log source: the embedded simulator (default) or a folder of files
(``FEEDTRAIN_REALGRAPH_SOURCE=files``, ``FEEDTRAIN_REALGRAPH_FILES=/path``; README "Use your own logs")."""

import datetime as dt

import dagster as dg
import pyarrow as pa

from feedtrain import logsource
from feedtrain.automation import LANDS_DAILY, OWNERS
from feedtrain.warehouse import Warehouse, engine_kind

from .contract import CONTRACT
from .labels import VARIANTS
from .location import POLICY, POOL, key, label_bits_table
from .resources import RealGraphSimulator
from .simulator import World
from .windows import events_partitions

RAW_SQL = {  # how each simulated Arrow table becomes its raw table (label names instead of the bitmask, dateHour)
    "interaction_graph_labels_daily": """
        SELECT d.source_id, d.destination_id, list(b.name ORDER BY b.bit NULLS FIRST) AS labels,
               $ds::TIMESTAMP AS dateHour, $ds::DATE AS ds
        FROM sim d JOIN label_bits b ON d.label_mask & b.bit <> 0 GROUP BY d.source_id, d.destination_id""",
    "interaction_graph_agg_negative_edge_snapshot": """
        SELECT source_id, destination_id, 0.0::DOUBLE AS weight, negative_type, age_days,
               $ds::TIMESTAMP AS dateHour, $ds::DATE AS ds FROM sim""",
    "valid_user_follows": "SELECT source_id, destination_id, $ds::DATE AS ds FROM sim",
    "public_tweets": "SELECT user_id, tweet_id, ts, $ds::DATE AS ds FROM sim",
    "planted_interaction_probability": "SELECT source_id, destination_id, "  # one planted column per label variant
    + "".join(f"{v.planted}, " for v in VARIANTS.values()) + "$ds::DATE AS ds FROM sim",
}
SIM_FIELD = {"interaction_graph_labels_daily": "labels", "interaction_graph_agg_negative_edge_snapshot": "negative_edges",
             "valid_user_follows": "follows", "public_tweets": "tweets", "planted_interaction_probability": "planted_probability"}


def simulated_day(conn, world: World, day: dt.date) -> dict[str, pa.Table]:
    """One simulated day of every raw table, shaped exactly as the files of a real delivery."""
    label_bits_table(conn)
    sim = world.day(day)
    out = {}
    for table, query in RAW_SQL.items():
        conn.register("sim", getattr(sim, SIM_FIELD[table]))
        out[table] = conn.arrow(query, {"ds": day})
    return out


@dg.multi_asset(
    specs=[dg.AssetSpec(key(t.name), description=t.description, group_name="realgraph_sources", kinds={engine_kind()},
                        owners=OWNERS, automation_condition=LANDS_DAILY, metadata={"partition_expr": "ds"})
           for t in CONTRACT.tables],
    partitions_def=events_partitions, backfill_policy=POLICY, pool=POOL,
)
def raw_logs(context: dg.AssetExecutionContext, warehouse: Warehouse, simulator: RealGraphSimulator,
             log_source: logsource.LogSource):
    """One day of every raw Real Graph log from the log source, validated against the input contract
    (docs/input_contract.md) and committed with all tables of the day in one transaction."""
    with warehouse.connect() as conn:
        yield from logsource.raw_logs(context, conn, CONTRACT, log_source,
                                      lambda day: simulated_day(conn, simulator.world(), day), key,
                                      f"simulator: {simulator.preset} world (seed {simulator.seed})")


new_log_days = logsource.new_days_sensor("realgraph", CONTRACT, [key(t.name) for t in CONTRACT.tables])
