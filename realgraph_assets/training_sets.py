"""Training sets (docs/realgraph.md §1.7, §1.9): per variant, the last 7 labeled days (more when they hold few positives), every
positive and enough negatives for the configured positive share (feedtrain/downsampling.py TrainSizing), with
inverse-keep-rate weights and the if_eval user split."""

import dagster as dg
import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field

from feedtrain import checks, downsampling, hashing
from feedtrain.daily import span
from feedtrain.warehouse import Warehouse

from .labels import VARIANTS
from .location import dep, variant_table, warehouse_asset, write_days
from .windows import TRAIN_WINDOW_DAYS, train_partitions


class TrainConfig(downsampling.TrainSizing):
    seed: int = Field(0, description="Seed of the deterministic downsampling draw.")


def train_asset(variant: str) -> dg.AssetsDefinition:
    """The train asset of ``variant``: it reads the variant's last TRAIN_WINDOW_DAYS labeled days."""
    name = VARIANTS[variant].name

    @warehouse_asset(
        name("train"), train_partitions, "training", [dep(name("labeled_candidates"), -(TRAIN_WINDOW_DAYS - 1))],
        [checks.UPSTREAM_DAYS_PRESENT, checks.NON_EMPTY],
        description=f"The {variant} training set of day T: the labeled days [T-6, T] (widened with older present "
                    "days while it holds fewer positives than configured), every positive and enough negatives for "
                    "the configured positive share (never fewer rows than min_rows), a deterministic draw per "
                    "(pair, day, seed), the inverse keep probability as weight, and the docs/realgraph.md §1.9 if_eval user-hash "
                    "split.")
    def train_set(context: dg.AssetExecutionContext, warehouse: Warehouse, config: TrainConfig):
        yield from build_train_days(context, warehouse, config, variant)

    return train_set


# realgraph/train, realgraph/train_explicit, ...: one asset per label variant (labels.VARIANTS).
TRAIN = [train_asset(v) for v in VARIANTS]


def build_train_days(context: dg.AssetExecutionContext, warehouse: Warehouse, config: TrainConfig, variant: str):
    """Each day of the run: read the window of labeled days, downsample it (build_train), check and commit the day."""
    labeled_table, train_table = VARIANTS[variant].name("labeled_candidates"), VARIANTS[variant].name("train")
    with warehouse.connect() as conn:
        variant_table(conn, train_table, "train")
        def build(day):
            days = window(conn, labeled_table, day, config)
            present = checks.upstream_days_present(conn, {labeled_table: days})
            if not present.passed:
                return [present], {}
            frame = conn.polars(f"SELECT * FROM {labeled_table} WHERE ds BETWEEN $first AND $last",
                                {"first": days[0], "last": day}).rename({"ds": "label_ds"})  # ds is the last column
            try:
                rows, (pos_rate, neg_rate) = build_train(frame, config)
            except ValueError as e:
                hint = ("; no candidate pair (A interacted with B in the look-back) interacted again the next day: the "
                        "model learns repeat interactions, so a log where each pair interacts once (ratings, first "
                        "contacts) gives it nothing to learn; with a few, a longer window (train config "
                        "max_window_days) may gather enough" if frame["label"].sum() == 0 else "")
                raise dg.Failure(f"{labeled_table} days {days[0]}..{day}: {e}{hint}") from e
            conn.register("train_rows", rows.with_columns(ds=pl.lit(day)).to_arrow())
            n = conn.stage(f"stage_{train_table}", "SELECT * FROM train_rows")
            return ([present, checks.non_empty(conn, f"stage_{train_table}")],
                    {"dagster/row_count": n, "labeled_rows": frame.height, "window_days": len(days),
                     "window_positives": int(frame["label"].sum()),
                     "window_positive_rate": float(frame["label"].mean()),
                     "train_positive_share": float(rows["label"].mean()) if n else 0.0,
                     "pos_keep_rate": pos_rate, "neg_keep_rate": neg_rate,
                     "eval_rows": int(rows["if_eval"].sum())})

        yield from write_days(context, conn, train_table, build)


def window(conn, labeled_table: str, day, sizing: downsampling.TrainSizing) -> list:
    """The labeled days a train set of ``day`` reads: the required [T - window_days + 1, T], then older days, newest
    first, while each is present and the window holds fewer than ``min_positives`` positives (up to
    ``max_window_days``). Thin data gets a longer history instead of a set too small to learn from."""
    days = span(day, -(sizing.window_days - 1))
    extra = span(day, -(max(sizing.max_window_days, sizing.window_days) - 1), -sizing.window_days)[::-1]
    if not extra:
        return days
    counts = dict(conn.rows(f"SELECT ds, sum(label) FROM {labeled_table} WHERE ds BETWEEN $first AND $last GROUP BY ds",
                            {"first": extra[-1], "last": day}))
    present = conn.present_days(labeled_table, extra)
    positives = sum(int(counts.get(d) or 0) for d in days)
    for d in extra:
        if positives >= sizing.min_positives or d not in present:
            break
        days.insert(0, d)
        positives += int(counts.get(d) or 0)
    return days


def build_train(labeled: pl.DataFrame, sizing: downsampling.TrainSizing, seed: int | None = None):
    """Downsampling (feedtrain/downsampling.py; deterministic, docs/realgraph.md §6.4) with weights and the docs/realgraph.md §1.9 if_eval split.
    Returns the rows and the (pos_rate, neg_rate) they were drawn with."""
    label = labeled["label"].to_numpy()
    pos_rate, neg_rate = downsampling.sized_keep_rates(sizing, int(label.sum()), len(label))
    seed = getattr(sizing, "seed", 0) if seed is None else seed
    draw = hashing.uniform(labeled["source_id"].to_arrow(), labeled["destination_id"].to_arrow(),
                           labeled["label_ds"].cast(pl.Int32).to_arrow(), pa.array(np.full(labeled.height, seed)))
    kept = downsampling.keep(label, draw, pos_rate, neg_rate)
    rows = labeled.filter(pl.Series(kept)).with_columns(
        weight=pl.Series(downsampling.weight(label[kept], pos_rate, neg_rate)),
        if_eval=pl.Series(hashing.user_bucket(labeled["source_id"].to_arrow().filter(pa.array(kept)), 10) == 0),
    )
    return rows, (pos_rate, neg_rate)
