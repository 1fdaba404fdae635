"""Models (docs/realgraph.md §1.10, §5): per variant, LightGBM boosted trees and a logistic-regression light ranker trained on day
T's train set and evaluated on day T+1's labeled candidates, with their evaluations stored in ``model_evaluations``
and their files under ``model_dir``."""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from feedtrain import downsampling, plots, training
from feedtrain.automation import OWNERS, WHEN_INPUTS_READY
from feedtrain.partitions import window
from feedtrain.warehouse import Warehouse, home, markdown_table, transaction

from .labels import VARIANTS
from .location import POOL, dep, key
from .resources import SCHEMA
from .windows import LABEL_DELAY_DAYS, model_partitions

FEATURES = [  # docs/realgraph.md §1.8: every selected column but label and if_eval; ids are features in BQML (docs/realgraph.md §6.6)
    "source_id", "destination_id", "num_days", "num_tweets", "num_follows", "num_favorites", "num_tweet_clicks",
    "num_profile_views", "days_since_last_interaction", "label_types",
]
MODEL_KINDS = {
    "boosted_trees": "LightGBM boosted trees with the BigQuery ML options of docs/realgraph.md §1.10, early-stopped on the if_eval users.",
    "light_ranker": "Logistic regression on z-scored features; mean and std fit on the training split only (docs/recap.md §5, §6.12).",
}


class ModelConfig(dg.Config):
    boosted_trees: training.BoostedTreesConfig = Field(default_factory=training.BoostedTreesConfig)
    include_id_features: bool = Field(True, description="Use source_id/destination_id as numeric features, as BQML does (docs/realgraph.md §6.6).")
    light_ranker_c: float = Field(1.0, description="Inverse L2 strength of the logistic regression.")


def model_dir(kind: str, suffix: str):
    """Where each day's model of a kind and variant is saved (one sub-directory per day) and its CHAMPION pointer."""
    return home() / "models" / SCHEMA / f"{kind}{suffix}"


def model_asset(variant: str, kind: str):
    """The decorator of the ``kind`` model of ``variant``: it reads day T's train set and day T+1's labeled
    candidates."""
    suffix = VARIANTS[variant][0]
    return dg.asset(
        key=key(f"{kind}{suffix}"), owners=OWNERS, automation_condition=WHEN_INPUTS_READY,
        group_name="realgraph_models", kinds={"lightgbm" if kind == "boosted_trees" else "sklearn"},
        ins={"train": dg.AssetIn(key(f"train{suffix}")),
             "holdout": dg.AssetIn(key(f"labeled_candidates{suffix}"), partition_mapping=window(1, 1))},
        deps=[dep("planted_interaction_probability", LABEL_DELAY_DAYS + 1, LABEL_DELAY_DAYS + 1)],
        partitions_def=model_partitions, pool=POOL,
        description=f"{variant}: {MODEL_KINDS[kind]} Trained on day T's train set and evaluated on day T+1's labeled "
                    "candidates (a time-based holdout) against the num_days heuristic and the simulator's oracle.")


@model_asset("prod", "boosted_trees")
def boosted_trees(context: dg.AssetExecutionContext, warehouse: Warehouse, config: ModelConfig,
                  train: pl.DataFrame, holdout: pl.DataFrame):
    return fit_and_evaluate(context, warehouse, config, train, holdout, "prod", "boosted_trees")


@model_asset("prod", "light_ranker")
def light_ranker(context: dg.AssetExecutionContext, warehouse: Warehouse, config: ModelConfig,
                 train: pl.DataFrame, holdout: pl.DataFrame):
    return fit_and_evaluate(context, warehouse, config, train, holdout, "prod", "light_ranker")


@model_asset("prod_explicit", "boosted_trees")
def boosted_trees_explicit(context: dg.AssetExecutionContext, warehouse: Warehouse, config: ModelConfig,
                           train: pl.DataFrame, holdout: pl.DataFrame):
    return fit_and_evaluate(context, warehouse, config, train, holdout, "prod_explicit", "boosted_trees")


@model_asset("prod_explicit", "light_ranker")
def light_ranker_explicit(context: dg.AssetExecutionContext, warehouse: Warehouse, config: ModelConfig,
                          train: pl.DataFrame, holdout: pl.DataFrame):
    return fit_and_evaluate(context, warehouse, config, train, holdout, "prod_explicit", "light_ranker")


def fit_and_evaluate(context: dg.AssetExecutionContext, warehouse: Warehouse, config: ModelConfig,
                     train: pl.DataFrame, holdout: pl.DataFrame, variant: str, kind: str) -> dg.MaterializeResult:
    """Fit the model on day T's train set, save it under model_dir, and score it, the num_days heuristic and the
    simulator's oracle on day T+1's labeled candidates."""
    suffix = VARIANTS[variant][0]
    labeled_table, train_table = f"labeled_candidates{suffix}", f"train{suffix}"
    day = context.partition_time_window.start.date()
    holdout_day = day + dt.timedelta(days=1)
    if holdout.is_empty():
        raise dg.Failure(f"{SCHEMA}.{labeled_table} partition {holdout_day} (the holdout) is missing or empty")
    if train.is_empty():
        raise dg.Failure(f"{SCHEMA}.{train_table} partition {day} is missing or empty")
    features = FEATURES if config.include_id_features else FEATURES[2:]
    eval_mask = train["if_eval"].to_numpy()
    if kind == "boosted_trees":
        fitted = training.fit_boosted_trees(train, features, config.boosted_trees, eval_mask)
    else:
        fitted = training.fit_light_ranker(train, features, eval_mask, config.light_ranker_c)
    window_rate = float(train["label"].cast(pl.Float64).dot(train["weight"]) / train["weight"].sum())
    pos_rate, neg_rate = downsampling.realgraph_keep_rates(window_rate)
    y = holdout["label"].to_numpy()
    predicted = fitted.predict(holdout)
    with warehouse.connect() as conn:
        oracle = planted_for(conn, holdout, variant)
        rows = {
            kind: training.evaluate(y, predicted, pos_rate, neg_rate),
            "num_days_heuristic": training.evaluate(y, holdout["num_days"].to_numpy(), probability=False),
            "oracle": training.evaluate(y, oracle) if oracle is not None else None,
        }
        fitted.manifest.update(variant=variant, ds=day.isoformat(), holdout_ds=holdout_day.isoformat(),
                               metrics=rows[kind], keep_rates={"pos_rate": pos_rate, "neg_rate": neg_rate})
        path = fitted.save(model_dir(kind, suffix) / day.isoformat())
        store_evaluations(conn, day, holdout_day, variant, {k: v for k, v in rows.items() if v is not None})
    m = rows[kind]
    table = pl.DataFrame([{"model": k, **{c: v[c] for c in ("auc", "pr_auc", "log_loss", "calibrated_log_loss")}}
                          for k, v in rows.items() if v is not None])
    metadata = {
        "auc": m["auc"], "pr_auc": m["pr_auc"], "log_loss": m["log_loss"],
        "calibrated_log_loss": m["calibrated_log_loss"], "holdout_rows": m["rows"],
        "holdout_positive_rate": m["positive_rate"], "train_rows": fitted.manifest["trained_rows"],
        "comparison": dg.MetadataValue.md(markdown_table(table)),
        "model_path": dg.MetadataValue.path(str(path)),
        "roc": plots.roc_inline(y, {kind: predicted, "num_days": holdout["num_days"].to_numpy(), "oracle": oracle}),
        "roc_curve": plots.roc(y, {kind: predicted, "num_days": holdout["num_days"].to_numpy(), "oracle": oracle},
                               f"{variant} holdout {holdout_day}"),
        "calibration_curve": plots.calibration(
            y, {f"{kind} (calibrated)": downsampling.calibrate(predicted, pos_rate, neg_rate), "oracle": oracle},
            f"{variant} calibration {holdout_day}"),
    }
    if kind == "boosted_trees":
        imp = fitted.manifest["feature_importance_gain"]
        metadata["feature_importance"] = dg.MetadataValue.md(markdown_table(
            pl.DataFrame({"feature": list(imp), "gain": list(imp.values())}).sort("gain", descending=True)))
        metadata["feature_importance_plot"] = plots.bars(list(imp), list(imp.values()), "gain per feature")
        metadata["best_iteration"] = fitted.manifest["best_iteration"]
    else:
        metadata["coefficients"] = dg.MetadataValue.md(markdown_table(
            pl.DataFrame({"feature": features, "coef": fitted.manifest["coef"]})))
        metadata["feature_importance_plot"] = plots.bars(features, [abs(c) for c in fitted.manifest["coef"]],
                                                         "|coefficient| per z-scored feature")
    return dg.MaterializeResult(metadata={k: v for k, v in metadata.items() if v is not None})


def planted_for(conn, holdout: pl.DataFrame, variant: str) -> np.ndarray | None:
    """The simulator's planted probability of each holdout row's label (day ds + 1); None without a simulator."""
    label_day = holdout["ds"][0] + dt.timedelta(days=LABEL_DELAY_DAYS)
    if not conn.execute("SELECT count(*) FROM planted_interaction_probability WHERE ds = ?", [label_day]).fetchone()[0]:
        return None
    conn.register("holdout_pairs", holdout.select("source_id", "destination_id").with_row_index("i").to_arrow())
    column = "p_any" if variant == "prod" else "p_explicit"
    return conn.execute(
        f"SELECT coalesce(p.{column}, 0.0) AS p FROM holdout_pairs h LEFT JOIN planted_interaction_probability p "
        "ON p.ds = $d AND p.source_id = h.source_id AND p.destination_id = h.destination_id ORDER BY h.i",
        {"d": label_day}).fetchnumpy()["p"]


def store_evaluations(conn, day: dt.date, holdout_day: dt.date, variant: str, rows: dict) -> None:
    frame = pl.DataFrame([{"ds": day, "variant": variant, "model": k, "holdout_ds": holdout_day, **v}
                          for k, v in rows.items()])
    conn.register("evaluations", frame.to_arrow())
    with transaction(conn):
        conn.execute("DELETE FROM model_evaluations m USING evaluations e WHERE m.ds = e.ds AND m.variant = e.variant "
                     "AND m.model = e.model")
        conn.execute("INSERT INTO model_evaluations BY NAME SELECT * FROM evaluations")
