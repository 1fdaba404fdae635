"""Layer 4, recap_training: one training set per head (train_<head>), negatives downsampled per docs/recap.md §3.5."""

import dagster as dg
import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field

from feedtrain import checks, downsampling, hashing, quality
from feedtrain.daily import record_day, run_data_version
from feedtrain.automation import OWNERS, WHEN_INPUTS_READY
from feedtrain.partitions import partition_days
from feedtrain.warehouse import Warehouse, engine_kind, stage

from .common import IMPRESSION_CONTRACT, POLICY, POOL, commit, dep, ensure_table, for_asset, key
from .features import FEATURES
from .heads import HEADS, LABEL_COLUMNS, keep_rates
from .resources import SCHEMA
from .windows import recap_label_partitions


class DatasetConfig(dg.Config):
    seed: int = Field(0, description="Seed of the deterministic downsampling draw.")
    neg_rate_scale: float = Field(
        1.0, description="Multiplies every head's negative keep rate (heads.keep_rates: docs/recap.md §3.5 rates scaled to the "
        "data's base rate, about one kept negative per kept positive).")


def train_table(head: str) -> str:
    return f"train_{head}"


def head_salt(head: str) -> int:
    """A stable number per head (from its name), so each head gets its own draw and adding a head changes no other."""
    return int(hashing.fingerprint64([head])[0])


def downsample(frame: pl.DataFrame, head: str, seed: int, neg_rate_scale: float) -> tuple[pl.DataFrame, float, float]:
    """docs/recap.md §3.5: keep positives with pos_rate and negatives with neg_rate (a deterministic draw per impression, head
    and seed), with weight ``y / pos_rate + (1 - y) / neg_rate``."""
    pos_rate, neg_rate = keep_rates(HEADS[head], neg_rate_scale)
    y = frame[HEADS[head].column].to_numpy()
    n = frame.height
    draw = hashing.uniform(frame["impression_id"].to_arrow(), pa.array(np.full(n, head_salt(head))),
                           pa.array(np.full(n, seed)))
    kept = downsampling.keep(y, draw, pos_rate, neg_rate)
    rows = frame.filter(pl.Series(kept)).select(["impression_id", "viewer_id", "tweet_id", "author_id", "ts", *FEATURES])
    return rows.with_columns(label=pl.Series(y[kept], dtype=pl.Int32),
                             weight=pl.Series(downsampling.weight(y[kept], pos_rate, neg_rate))), pos_rate, neg_rate


# training_datasets builds recap/train_<head> for every head of heads.HEADS (train_favorited, train_retweeted, ...),
# all heads of a day committed together.
@dg.multi_asset(
    specs=[dg.AssetSpec(key(train_table(h)), group_name="recap_training", owners=OWNERS, automation_condition=WHEN_INPUTS_READY, kinds={engine_kind()},
                        deps=[dep("impressions_labeled"), dep("impression_features")], metadata={"partition_expr": "ds"},
                        description=f"Training set of the {h} head ({HEADS[h].label}) for day T: every impression of T "
                                    "with its features and that head's label, negatives downsampled at the docs/recap.md §3.5 "
                                    "rate scaled to the base rate, weight y/pos_rate + (1-y)/neg_rate.")
           for h in HEADS],
    check_specs=[s for h in HEADS for s in [*checks.specs(key(train_table(h)), checks.UPSTREAM_DAYS_PRESENT),
                                            *quality.specs(key(train_table(h)))]],
    partitions_def=recap_label_partitions, backfill_policy=POLICY, pool=POOL,
)
def training_datasets(context: dg.AssetExecutionContext, warehouse: Warehouse, config: DatasetConfig):
    """One training dataset per head, from the same labeled and featurised impressions, all heads of a day committed
    in one transaction."""
    meta: dict[str, dict] = {}
    versions: dict[str, dict] = {h: {} for h in HEADS}
    results: list[dg.AssetCheckResult] = []
    with warehouse.connect() as conn:
        for day in partition_days(context):
            present = checks.upstream_days_present(conn, {"impressions_labeled": [day], "impression_features": [day]})
            results = [for_asset(present, key(train_table(h))) for h in HEADS]
            yield from checks.gate(results, f"{SCHEMA}.train_* partition {day}")
            frame = conn.polars(
                f"SELECT f.*, {', '.join('l.' + c for c in LABEL_COLUMNS)} FROM impression_features f "
                "JOIN impressions_labeled l USING (impression_id) WHERE f.ds = $ds AND l.ds = $ds", {"ds": day})
            stale_heads = [h for h, head in HEADS.items() if frame[head.column].null_count()]
            if stale_heads:  # a head added after this day was labeled (common.ensure_table added its column)
                raise dg.Failure(f"{SCHEMA}.impressions_labeled partition {day} has no labels for the head(s) "
                                 f"{stale_heads} (added since it was built): re-run impressions_labeled for {day}")
            staged = {}
            for h, head in HEADS.items():
                rows, pos_rate, neg_rate = downsample(frame, h, config.seed, config.neg_rate_scale)
                conn.register("head_rows", rows.with_columns(ds=pl.lit(day)).to_arrow())
                n = stage(conn, f"stage_{train_table(h)}", "SELECT * FROM head_rows")
                ensure_table(conn, train_table(h), f"stage_{train_table(h)}")
                staged[train_table(h)] = f"stage_{train_table(h)}"
                results += [for_asset(r, key(train_table(h))) for r in quality.evaluate(
                    conn, train_table(h), f"stage_{train_table(h)}", day, IMPRESSION_CONTRACT)]
                positives = int(rows["label"].sum())
                w = rows["weight"].to_numpy()
                meta[h] = {"dagster/row_count": n, "positives": positives, "negatives": n - positives,
                           "pos_rate": pos_rate, "neg_rate": neg_rate,
                           "labeled_positive_rate": float(frame[head.column].mean()),
                           "reweighted_positive_rate": float((w * rows["label"].to_numpy()).sum() / w.sum()) if n else 0.0,
                           "kept_positive_share": positives / n if n else 0.0}
            yield from checks.gate(results, f"{SCHEMA}.train_* partition {day}")
            committed = commit(conn, staged, day, [present])
            for h in HEADS:
                versions[h][day] = committed[train_table(h)]
                record_day(context, key(train_table(h)), day, meta[h], versions[h][day])
            context.log.info(f"{SCHEMA}.train_* {day}: " + ", ".join(f"{h} {m['dagster/row_count']}" for h, m in meta.items()))
    for h in HEADS:
        yield dg.MaterializeResult(asset_key=key(train_table(h)), data_version=run_data_version(versions[h]),
                                   check_results=[r for r in results if r.asset_key == key(train_table(h))])

