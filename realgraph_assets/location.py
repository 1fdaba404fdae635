"""What every asset of this location shares: asset keys, SQL files, dependencies, the writer pool, and the settings of
a daily DuckDB table asset, in one place."""

import dagster as dg
import pyarrow as pa

from feedtrain import checks, daily, quality
from feedtrain.automation import OWNERS, WHEN_INPUTS_READY
from feedtrain.warehouse import engine_kind

from .labels import ALL_LABELS, BIT, VARIANTS
from .resources import SCHEMA, SQL_DIR

POLICY = dg.BackfillPolicy.single_run()  # a backfill is one run per asset range: one DuckDB writer, no lock fights
POOL = "duckdb_realgraph"  # dagster.yaml: one step at a time per pool, i.e. one writer per DuckDB file

LOCATION = daily.Location(SCHEMA, SQL_DIR)
key, sql, dep = LOCATION.key, LOCATION.sql, LOCATION.dep


PAIR = ("source_id", "destination_id")
# Each derived table's quality contract (feedtrain/quality.py): its key, and the columns whose mean means nothing
# (ranks, bitmasks), which the drift check skips.
QUALITY = {
    "interaction_days": quality.Contract(PAIR, not_measured=("label_mask",)),
    "tweeting_follows": quality.Contract(PAIR, not_measured=("rn",)),
    **{t: quality.Contract(PAIR, not_measured=("rn", "label_types")) for t in ("candidates", "candidates_sampled")},
    **{v.name("labeled_candidates"): quality.Contract(PAIR, not_measured=("label_types",)) for v in VARIANTS.values()},
    **{v.name("train"): quality.Contract((*PAIR, "label_ds"), not_measured=("label_types",)) for v in VARIANTS.values()},
}


def write_days(context, conn, table, build):
    return daily.write_days(context, conn, SCHEMA, table, build, QUALITY[table])


def variant_table(conn, table: str, like: str) -> None:
    """A label variant's table (``labeled_candidates_explicit``, ``train_explicit``, ...: labels.VARIANTS) has the
    columns of the prod table of sql/schema.sql: created like it on first use, so a new variant needs no DDL, and
    gaining the columns the prod table gained since (a new feature)."""
    if table != like:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM {like} LIMIT 0")
        conn.add_columns(table, conn.table_columns(like))


def warehouse_asset(table: str, partitions_def, group: str, deps: list, checked=(), **kwargs):
    """A daily DuckDB table of this location: the settings every such asset shares, in one place."""
    return dg.asset(key=key(table), deps=deps, partitions_def=partitions_def, group_name=f"realgraph_{group}",
                    kinds={engine_kind()}, owners=OWNERS, automation_condition=WHEN_INPUTS_READY, backfill_policy=POLICY,
                    pool=POOL, metadata={"partition_expr": "ds"}, check_specs=[*checks.specs(key(table), *checked), *quality.specs(key(table))],
                    **kwargs)


def label_bits_table(conn) -> None:
    """TEMP table ``label_bits`` (name, bit): the label vocabulary of labels.py, for SQL that encodes label sets."""
    conn.register("label_bits_arrow", pa.table({"name": list(ALL_LABELS), "bit": [BIT[n] for n in ALL_LABELS]}))
    conn.execute("CREATE OR REPLACE TEMP TABLE label_bits AS SELECT * FROM label_bits_arrow")
