"""Training sets (docs/realgraph.md §1.7, §1.9): per variant, the last 7 labeled days downsampled to ~50/50 with weights and the
if_eval user split."""

import dagster as dg
import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field

from feedtrain import checks, downsampling, hashing
from feedtrain.daily import span
from feedtrain.warehouse import Warehouse, stage

from .labels import VARIANTS
from .location import dep, warehouse_asset, write_days
from .windows import TRAIN_WINDOW_DAYS, train_partitions


class TrainConfig(dg.Config):
    seed: int = Field(0, description="Seed of the deterministic downsampling draw.")


def train_asset(variant: str):
    """The decorator of the train table of ``variant``: it reads the variant's last TRAIN_WINDOW_DAYS labeled days."""
    suffix = VARIANTS[variant][0]
    return warehouse_asset(
        f"train{suffix}", train_partitions, "training", [dep(f"labeled_candidates{suffix}", -(TRAIN_WINDOW_DAYS - 1))],
        [checks.UPSTREAM_DAYS_PRESENT, checks.NON_EMPTY],
        description=f"The {variant} training set of day T: the labeled days [T-6, T], negatives kept "
                    "with probability p and positives with 1-p (p = the window's positive rate) for a "
                    "~50/50 set, a deterministic draw per (pair, day, seed), the inverse keep probability "
                    "as weight, and the docs/realgraph.md §1.9 if_eval user-hash split.")


@train_asset("prod")
def train(context: dg.AssetExecutionContext, warehouse: Warehouse, config: TrainConfig):
    yield from build_train_days(context, warehouse, config, "prod")


@train_asset("prod_explicit")
def train_explicit(context: dg.AssetExecutionContext, warehouse: Warehouse, config: TrainConfig):
    yield from build_train_days(context, warehouse, config, "prod_explicit")


def build_train_days(context: dg.AssetExecutionContext, warehouse: Warehouse, config: TrainConfig, variant: str):
    """Each day of the run: read the window of labeled days, downsample it (build_train), check and commit the day."""
    suffix = VARIANTS[variant][0]
    labeled_table, train_table = f"labeled_candidates{suffix}", f"train{suffix}"
    with warehouse.connect() as conn:
        def build(day):
            days = span(day, -(TRAIN_WINDOW_DAYS - 1))
            present = checks.upstream_days_present(conn, {labeled_table: days})
            if not present.passed:
                return [present], {}
            frame = conn.execute(f"SELECT * EXCLUDE (ds), ds AS label_ds FROM {labeled_table} "
                                 "WHERE ds BETWEEN $first AND $last", {"first": days[0], "last": day}).pl()
            rows = build_train(frame, config.seed)
            conn.register("train_rows", rows.with_columns(ds=pl.lit(day)).to_arrow())
            n = stage(conn, f"stage_{train_table}", "SELECT * FROM train_rows")
            return ([present, checks.non_empty(conn, f"stage_{train_table}")],
                    {"dagster/row_count": n, "labeled_rows": frame.height,
                     "window_positive_rate": float(frame["label"].mean()),
                     "train_positive_share": float(rows["label"].mean()) if n else 0.0,
                     "eval_rows": int(rows["if_eval"].sum())})

        yield from write_days(context, conn, train_table, build)


def build_train(labeled: pl.DataFrame, seed: int) -> pl.DataFrame:
    """docs/realgraph.md §1.7 downsampling (deterministic, docs/realgraph.md §6.4) with weights and the docs/realgraph.md §1.9 if_eval split."""
    pos_rate, neg_rate = downsampling.realgraph_keep_rates(float(labeled["label"].mean()))
    label = labeled["label"].to_numpy()
    draw = hashing.uniform(labeled["source_id"].to_arrow(), labeled["destination_id"].to_arrow(),
                           labeled["label_ds"].cast(pl.Int32).to_arrow(), pa.array(np.full(labeled.height, seed)))
    kept = downsampling.keep(label, draw, pos_rate, neg_rate)
    return labeled.filter(pl.Series(kept)).with_columns(
        weight=pl.Series(downsampling.weight(label[kept], pos_rate, neg_rate)),
        if_eval=pl.Series(hashing.user_bucket(labeled["source_id"].to_arrow().filter(pa.array(kept)), 10) == 0),
    )
