"""Models (docs/realgraph.md §1.10, §5): per variant, LightGBM boosted trees and a logistic-regression light ranker trained on day
T's train set and evaluated on day T+1's labeled candidates, both read through the engine; a run covers a range of
days. Each day's files and evaluation rows are published together by the ``ModelStore`` (feedtrain/modelstore.py)."""

import datetime as dt
import json

import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from feedtrain import checks, downsampling, plots, training
from feedtrain.automation import OWNERS, WHEN_INPUTS_READY
from feedtrain.modelstore import ModelStore, inputs_json, provenance
from feedtrain.partitions import partition_days
from feedtrain.warehouse import Warehouse, markdown_table

from .labels import VARIANTS
from .location import POLICY, POOL, dep, key
from .resources import SCHEMA
from .windows import LABEL_DELAY_DAYS, model_partitions

FEATURES = [  # docs/realgraph.md §1.8: every selected column but label and if_eval; ids are features in BQML (docs/realgraph.md §6.6), here only with include_id_features
    "source_id", "destination_id", "num_days", "num_tweets", "num_follows", "num_favorites", "num_tweet_clicks",
    "num_profile_views", "days_since_last_interaction", "label_types",
    # point-in-time pair features of sql/candidates.sql (docs/models.md)
    "days_since_first_interaction", "decayed_days", "decayed_explicit", "decayed_favorites", "decayed_replies",
    "decayed_retweets", "decayed_mentions", "decayed_tweet_clicks", "decayed_profile_views", "reciprocal_decayed_days",
    "source_share", "destination_in_degree", "long_num_days",
]
# Learned at fit time from the train set's label days (feedtrain/training.py WEEKDAY_FACTOR), not a stored column:
# train rows carry their labeled day in label_ds, holdout rows in ds; the label is one day later.
WEEKDAY_RULE = {"day_columns": ["label_ds", "ds"], "offset_days": LABEL_DELAY_DAYS}
# Simple scores every model must beat, scored on the same holdout rows (higher = more likely to interact tomorrow).
BASELINES = {
    "num_days_heuristic": "num_days",             # SPEC's heuristic: days with an interaction in the look-back
    "recency": "-days_since_last_interaction",    # the most recent interaction first
    "decayed_count": "decayed_days",              # interaction days decayed 0.955 per day of age
    "reciprocity": "reciprocal_decayed_days",     # B's decayed interaction days toward A
}
MODEL_KINDS = {
    "boosted_trees": "LightGBM boosted trees (docs/realgraph.md §1.10 options with defaults that learn, docs/models.md), early-stopped on the if_eval users.",
    "light_ranker": "Logistic regression on z-scored features; mean and std fit on the training split only (docs/realgraph.md §5, §6.12).",
}


# Directions known in advance (docs/models.md): more, more recent, more reciprocated interaction never lowers the score.
MONOTONE = {"num_days": 1, "decayed_days": 1, "decayed_explicit": 1, "days_since_last_interaction": -1,
            "reciprocal_decayed_days": 1, "long_num_days": 1, training.WEEKDAY_FACTOR: 1}


class RealGraphBoostedTreesConfig(training.BoostedTreesConfig):
    """LightGBM for Real Graph. The defaults are redeclared in a subclass because Dagster builds a nested config's
    defaults from its class, ignoring a ``default_factory``: ``ModelConfig``'s factory used to pass MONOTONE, and every
    run trained without monotone constraints."""

    monotone_constraints: dict[str, int] = Field(
        default=MONOTONE, description="Feature -> +1 (score never decreases as it grows) or -1; default "
        "realgraph_assets/models.py MONOTONE (docs/models.md). {} trains without constraints.")


class ModelConfig(dg.Config):
    boosted_trees: RealGraphBoostedTreesConfig = Field(default_factory=RealGraphBoostedTreesConfig)
    include_id_features: bool = Field(
        False, description="Use source_id/destination_id as numeric features, as BQML does (docs/realgraph.md §6.6). "
        "Off by default: an id's numeric value means nothing on a real log, and on the simulated worlds the ids gained "
        "no AUC (bench/RESULTS.md, issue 12).")
    light_ranker_c: float = Field(1.0, description="Inverse L2 strength of the logistic regression.")
    weekday_factor: bool = Field(
        True, description="Add the label day's weekday as a factor learned from the train set (feedtrain/training.py "
        "WEEKDAY_FACTOR; docs/models.md): calibrates models on logs with a weekly cycle, neutral without one.")


def model_asset(variant: str, kind: str) -> dg.AssetsDefinition:
    """The ``kind`` model of ``variant``: it reads day T's train set and day T+1's labeled candidates."""
    name = VARIANTS[variant].name

    @dg.asset(
        key=key(name(kind)), owners=OWNERS, automation_condition=WHEN_INPUTS_READY,
        group_name="realgraph_models", kinds={"lightgbm" if kind == "boosted_trees" else "sklearn"},
        deps=[dep(name("train")), dep(name("labeled_candidates"), 1, 1),
              dep("planted_interaction_probability", LABEL_DELAY_DAYS + 1, LABEL_DELAY_DAYS + 1)],
        check_specs=checks.specs(key(name(kind)), checks.UPSTREAM_DAYS_PRESENT),
        partitions_def=model_partitions, backfill_policy=POLICY, pool=POOL,
        description=f"{variant}: {MODEL_KINDS[kind]} Trained on day T's train set and evaluated on day T+1's labeled "
                    "candidates (a time-based holdout) against the baselines (num_days, recency, decayed count, "
                    "reciprocity) and the simulator's oracle.")
    def model(context: dg.AssetExecutionContext, warehouse: Warehouse, model_store: ModelStore, config: ModelConfig):
        yield from train_days(context, warehouse, model_store, config, variant, kind)

    return model


# realgraph/boosted_trees, realgraph/light_ranker, realgraph/boosted_trees_explicit, realgraph/light_ranker_explicit,
# ...: each model kind of each label variant (labels.VARIANTS).
MODELS = [model_asset(v, kind) for v in VARIANTS for kind in MODEL_KINDS]


def train_days(context: dg.AssetExecutionContext, warehouse: Warehouse, store: ModelStore, config: ModelConfig,
               variant: str, kind: str):
    """Every day of the run in order: check that day T's train set and day T+1's holdout are present and current,
    read them, fit, evaluate, publish; the day's figures are recorded as that partition's metadata."""
    suffix = VARIANTS[variant].suffix
    results = []
    with warehouse.connect() as conn:
        for day in partition_days(context):
            holdout_day = day + dt.timedelta(days=1)
            results = [checks.upstream_days_present(conn, {f"train{suffix}": [day],
                                                           f"labeled_candidates{suffix}": [holdout_day]})]
            yield from checks.gate(results, f"{SCHEMA}.{kind}{suffix} partition {day}")
            train, holdout = load_inputs(conn, suffix, day)
            metadata = fit_and_evaluate(conn, store, config, train, holdout, variant, kind, day,
                                        checks.input_versions(results))
            context.add_asset_metadata(metadata, partition_key=day.isoformat())
            context.log.info(f"{SCHEMA}.{kind}{suffix} {day}: published, holdout AUC {metadata['auc']}")
    yield dg.MaterializeResult(check_results=results)


def load_inputs(conn, suffix: str, day: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Day T's train set and day T+1's labeled candidates, in a fixed row order (training is then deterministic)."""
    train = conn.polars(f"SELECT * FROM train{suffix} WHERE ds = ? ORDER BY label_ds, source_id, destination_id", [day])
    holdout = conn.polars(f"SELECT * FROM labeled_candidates{suffix} WHERE ds = ? ORDER BY source_id, destination_id",
                          [day + dt.timedelta(days=1)])
    return train, holdout


def require_features(frame: pl.DataFrame, features: list[str], where: str) -> None:
    """Every feature has a value on every row. A NULL would be read by LightGBM as "missing" and refused by the
    logistic regression with a NumPy message; the usual cause is a feature column added after these days were built
    (feedtrain/warehouse.py adds it to the stored table as NULLs), which rebuilding them fixes."""
    for column in (c for c in features if c in frame.columns and frame[c].null_count()):
        example = frame.filter(pl.col(column).is_null()).row(0, named=True)
        raise dg.Failure(
            f"{where}: feature column {column} is NULL in {frame[column].null_count()} of {frame.height} rows (e.g. "
            f"source_id {example['source_id']}, destination_id {example['destination_id']}). A column added to the "
            f"features after a day was built is NULL on that day: re-materialise candidates and everything downstream "
            f"of it for the days involved.")


def fit_and_evaluate(conn, store: ModelStore, config: ModelConfig, train: pl.DataFrame, holdout: pl.DataFrame,
                     variant: str, kind: str, day: dt.date, inputs: dict) -> dict:
    """Fit the model on day T's train set, score it, the num_days heuristic and the simulator's oracle on day T+1's
    labeled candidates, and publish the model with its evaluation rows; returns the day's metadata."""
    suffix = VARIANTS[variant].suffix
    holdout_day = day + dt.timedelta(days=1)
    if holdout.is_empty() or train.is_empty():
        raise dg.Failure(f"{SCHEMA}.train{suffix} {day} or {SCHEMA}.labeled_candidates{suffix} {holdout_day} is empty")
    features = (FEATURES if config.include_id_features else FEATURES[2:]) + (
        [training.WEEKDAY_FACTOR] if config.weekday_factor else [])
    for frame, where in ((train, f"{SCHEMA}.train{suffix} partition {day}"),
                         (holdout, f"{SCHEMA}.labeled_candidates{suffix} partition {holdout_day}")):
        require_features(frame, features, where)
    eval_mask = train["if_eval"].to_numpy()
    if kind == "boosted_trees":
        fitted = training.fit_boosted_trees(train, features, config.boosted_trees, eval_mask, WEEKDAY_RULE)
    else:
        fitted = training.fit_light_ranker(train, features, eval_mask, config.light_ranker_c, WEEKDAY_RULE)
    pos_rate, neg_rate = downsampling.keep_rates_from_weights(train["label"].to_numpy(), train["weight"].to_numpy())
    y = holdout["label"].to_numpy()
    predicted = fitted.predict(holdout)
    oracle = planted_for(conn, holdout, variant)
    rows = {
        kind: training.evaluate(y, predicted, pos_rate, neg_rate),
        **{name: training.evaluate(y, baseline_score(holdout, name), probability=False) for name in BASELINES},
        "oracle": training.evaluate(y, oracle) if oracle is not None else None,
    }
    fitted.manifest.update(variant=variant, ds=day.isoformat(), holdout_ds=holdout_day.isoformat(),
                           metrics=rows[kind], keep_rates={"pos_rate": pos_rate, "neg_rate": neg_rate},
                           **provenance(inputs, config))
    artifact = store.stage(f"{kind}{suffix}", day, fitted.save)
    store.publish(conn, "model_evaluations", pl.DataFrame(
        [{"ds": day, "variant": variant, "model": k, "holdout_ds": holdout_day, **v,
          "artifact_sha256": artifact.sha256 if k == kind else None, "inputs": json.dumps(inputs_json(inputs))}
         for k, v in rows.items() if v is not None]), ["ds", "variant", "model"], [artifact])
    path = store.path(f"{kind}{suffix}", day)
    m = rows[kind]
    table = pl.DataFrame([{"model": k, **{c: v[c] for c in ("auc", "pr_auc", "log_loss", "calibrated_log_loss", "ece")}}
                          for k, v in rows.items() if v is not None],
                         schema_overrides={c: pl.Float64 for c in ("auc", "pr_auc", "log_loss", "calibrated_log_loss", "ece")})
    best = max(BASELINES, key=lambda b: rows[b]["auc"] if rows[b]["auc"] is not None else -1.0)
    metadata = {
        "auc": m["auc"], "pr_auc": m["pr_auc"], "log_loss": m["log_loss"],
        "calibrated_log_loss": m["calibrated_log_loss"], "ece": m["ece"], "holdout_rows": m["rows"],
        "best_baseline": best, "best_baseline_auc": rows[best]["auc"],
        "beats_every_baseline": m["auc"] is not None and all(
            rows[b]["auc"] is not None and m["auc"] > rows[b]["auc"] for b in BASELINES),
        "holdout_positive_rate": m["positive_rate"], "train_rows": fitted.manifest["trained_rows"],
        "comparison": dg.MetadataValue.md(markdown_table(table)),
        "model_path": dg.MetadataValue.path(str(path)), "model_sha256": artifact.sha256,
        "roc": plots.roc_inline(y, {kind: predicted, "num_days": holdout["num_days"].to_numpy(), "oracle": oracle}),
        "roc_curve": plots.roc(y, {kind: predicted, "num_days": holdout["num_days"].to_numpy(),
                                   "recency": baseline_score(holdout, "recency"), "oracle": oracle},
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
    return {k: v for k, v in metadata.items() if v is not None}


def baseline_score(holdout: pl.DataFrame, name: str) -> np.ndarray:
    column = BASELINES[name]
    sign = -1.0 if column.startswith("-") else 1.0
    return sign * holdout[column.lstrip("-")].to_numpy().astype(np.float64)


def planted_for(conn, holdout: pl.DataFrame, variant: str) -> np.ndarray | None:
    """The simulator's planted probability of each holdout row's label (day ds + 1); None without a simulator, or for
    a day loaded before the variant (and its planted column) was added."""
    label_day = holdout["ds"][0] + dt.timedelta(days=LABEL_DELAY_DAYS)
    column = VARIANTS[variant].planted
    if column not in dict(conn.table_columns("planted_interaction_probability")) or not conn.scalar(
            f"SELECT count({column}) FROM planted_interaction_probability WHERE ds = ?", [label_day]):
        return None
    conn.register("holdout_pairs", holdout.select("source_id", "destination_id").with_row_index("i").to_arrow())
    # The column is FLOAT: DuckDB keeps coalesce(FLOAT, 0.0) a FLOAT, Spark widens it to DOUBLE, and scikit-learn's
    # log_loss clips at the input dtype's epsilon, so the oracle's log loss differed (0.1966 vs 0.1973): DOUBLE on both.
    return conn.arrow(
        f"SELECT CAST(coalesce(p.{column}, 0.0) AS DOUBLE) AS p FROM holdout_pairs h "
        "LEFT JOIN planted_interaction_probability p "
        "ON p.ds = ? AND p.source_id = h.source_id AND p.destination_id = h.destination_id ORDER BY h.i",
        [label_day]).column("p").to_numpy()
