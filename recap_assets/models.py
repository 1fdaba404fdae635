"""Layer 5, recap_models: per head, LightGBM (heavy-ranker stand-in) and the light ranker on the time-based split,
then their evaluations (model_evaluations: AUC/RCE per head; ranking_evaluations: NDCG@10 of the weighted score).
Inputs are read through the engine, a run covers a range of days, and each day's twenty model files are published
together with its evaluation rows by the ``ModelStore`` (feedtrain/modelstore.py)."""

import datetime as dt
import json
from typing import Literal

import dagster as dg
import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field

from feedtrain import checks, downsampling, hashing, training
from feedtrain.automation import OWNERS, WHEN_INPUTS_READY
from feedtrain.daily import span
from feedtrain.modelstore import ModelStore, inputs_json, provenance
from feedtrain.partitions import partition_days
from feedtrain.warehouse import Warehouse, engine_kind, markdown_table

from . import light_ranker, metrics
from .common import POLICY, POOL, dep, key
from .features import FEATURES, popularity
from .heads import HEADS, LABEL_COLUMNS, keep_rates, score
from .resources import SCHEMA
from .training_sets import train_table
from .windows import RECAP_TRAIN_DAYS, RECAP_VALID_DAYS, recap_model_partitions


class RecapBoostedTreesConfig(training.BoostedTreesConfig):
    """LightGBM for the heavy-ranker stand-in. docs/realgraph.md §1.10's BigQuery ML options are Real Graph's, not Recap's (the
    heavy ranker is a MaskNet, docs/recap.md §3.6), so: more rounds at a lower rate, every row in every tree, LightGBM's usual
    minimum leaf size, early stopping on the last training day. (The defaults are redeclared in a subclass because
    Dagster builds a nested config's defaults from its class, ignoring a ``default_factory``.)"""

    n_estimators: int = Field(300, description="Boosting rounds at most (early stopping on the last training day).")
    learning_rate: float = Field(0.08, description="Shrinkage per round.")
    num_leaves: int = Field(31, description="Leaves per tree (LightGBM's default).")
    subsample: float = Field(1.0, description="Share of rows per tree: all of them (Real Graph's published 0.01 is not Recap's).")
    min_rows_per_tree: int = Field(0, description="Unused with subsample 1.0.")
    min_child_samples: int = Field(40, description="Minimum rows per leaf.")
    min_rel_progress: float = Field(0.0005, description="Early stop once the last training day's log loss improves "
                                    "by less than this share in a round.")


class ModelConfig(dg.Config):
    boosted_trees: RecapBoostedTreesConfig = Field(default_factory=RecapBoostedTreesConfig)
    light_ranker_bins: int = Field(20, description="Quantile bins per feature of the light ranker (docs/recap.md §4: 20).")
    light_ranker_c: float = Field(
        0.05, description="Inverse L2 strength of the light ranker's logistic regression (C=1 overfits the ~900 bins on "
        "a tiny world's few thousand rows: negative RCE).")
    weights_version: Literal["v1", "v2"] = Field("v1", description="docs/recap.md §3.2 score weights of the headline NDCG: v1 (default) or v2.")
    min_positives: int = Field(5, description="A head with fewer training positives is not trained (noted, not failed).")


def split_days(day: dt.date) -> tuple[list[dt.date], list[dt.date]]:
    """docs/recap.md §5: the model of day T trains on the RECAP_TRAIN_DAYS days before its validation days and validates on
    the RECAP_VALID_DAYS days ending at T; no day is in both."""
    return (span(day, -(RECAP_TRAIN_DAYS + RECAP_VALID_DAYS - 1), -RECAP_VALID_DAYS),
            span(day, -(RECAP_VALID_DAYS - 1)))


MODEL_KINDS = {"boosted_trees": "LightGBM boosted trees (heavy-ranker stand-in)",
               "light_ranker": "Earlybird-style logistic regression on 20 quantile bins per feature (docs/recap.md §4, §6.11)"}


def model_key(kind: str, head: str) -> dg.AssetKey:
    return key(f"{kind}_{head}")


_TRAIN_START, _TRAIN_END = -(RECAP_TRAIN_DAYS + RECAP_VALID_DAYS - 1), -RECAP_VALID_DAYS
_VALID_DEPS = [dep("impression_features", -(RECAP_VALID_DAYS - 1)), dep("impressions_labeled", -(RECAP_VALID_DAYS - 1)),
               dep("planted_engagement_probability", -(RECAP_VALID_DAYS - 1))]


# ranker_models builds, for every head of heads.HEADS, recap/boosted_trees_<head> and recap/light_ranker_<head>
# (one model per MODEL_KINDS entry), plus recap/model_evaluations and recap/ranking_evaluations. The per-head models
# sit in a group per kind nested in recap_models (recap_models/boosted_trees, recap_models/light_ranker), so the UI
# shows each kind's ten heads as one collapsed box next to the two evaluation tables (docs/recap.md, *The graph*).
@dg.multi_asset(
    specs=[dg.AssetSpec(model_key(kind, h), group_name=f"recap_models/{kind}", owners=OWNERS, automation_condition=WHEN_INPUTS_READY,
                        kinds={"lightgbm" if kind == "boosted_trees" else "sklearn"},
                        deps=[dep(train_table(h), _TRAIN_START, _TRAIN_END), *_VALID_DEPS],
                        description=f"{what} for the {h} head, trained on the {RECAP_TRAIN_DAYS} days before the "
                                    f"{RECAP_VALID_DAYS} validation days ending at T; calibrated with docs/recap.md §3.5.")
           for h in HEADS for kind, what in MODEL_KINDS.items()]
    + [dg.AssetSpec(key("model_evaluations"), group_name="recap_models", owners=OWNERS, automation_condition=WHEN_INPUTS_READY, kinds={engine_kind()},
                    deps=[model_key(k, h) for h in HEADS for k in MODEL_KINDS], metadata={"partition_expr": "ds"},
                    description="Per head and model (LightGBM, light ranker, popularity heuristic, oracle): AUC and RCE "
                                "on every impression of the validation days."),
       dg.AssetSpec(key("ranking_evaluations"), group_name="recap_models", owners=OWNERS, automation_condition=WHEN_INPUTS_READY, kinds={engine_kind()},
                    deps=[model_key(k, h) for h in HEADS for k in MODEL_KINDS], metadata={"partition_expr": "ds"},
                    description="NDCG@10 per (viewer, day) of the weighted heavy-ranker score (docs/recap.md §3.2, v1 and v2) "
                                "against the planted utility, for each model, the heuristic, the oracle and random.")],
    partitions_def=recap_model_partitions, backfill_policy=POLICY, pool=POOL,
)
def ranker_models(context: dg.AssetExecutionContext, warehouse: Warehouse, model_store: ModelStore, config: ModelConfig):
    """Per head: LightGBM and the light ranker on the time-based split, probabilities calibrated back to the base rate
    (docs/recap.md §3.5); then the weighted score of docs/recap.md §3.2 ranked per viewer and day against the simulator's
    utility. Each day's figures are recorded as that partition's metadata of each asset."""
    with warehouse.connect() as conn:
        for day in partition_days(context):
            for asset_key, metadata in train_and_evaluate(context, conn, model_store, day, config).items():
                context.add_asset_metadata(metadata, asset_key=asset_key, partition_key=day.isoformat())
    for spec in context.assets_def.specs:
        yield dg.MaterializeResult(asset_key=spec.key)


def load_validation(conn, days: list[dt.date]) -> pl.DataFrame:
    planted = [c for c, _ in conn.table_columns("planted_engagement_probability") if c not in ("impression_id", "ds")]
    join = ("LEFT JOIN planted_engagement_probability p ON p.impression_id = f.impression_id AND p.ds = f.ds"
            if planted else "")
    cols = "".join(f", p.{c}" for c in planted)
    return conn.polars(
        f"SELECT f.*, {', '.join('l.' + c for c in LABEL_COLUMNS)}{cols} FROM impression_features f "
        "JOIN impressions_labeled l ON l.impression_id = f.impression_id AND l.ds = f.ds "
        f"{join} WHERE f.ds BETWEEN $first AND $last ORDER BY f.impression_id", {"first": days[0], "last": days[-1]})


def class_rates(train: pl.DataFrame, head: str) -> tuple[float, float]:
    """The keep rates the training rows were drawn with, read back from their weights (1 / rate)."""
    default = keep_rates(HEADS[head])
    out = []
    for label, fallback in ((1, default[0]), (0, default[1])):
        w = train.filter(pl.col("label") == label)["weight"].unique()
        if len(w) > 1:
            raise dg.Failure(f"{SCHEMA}.{train_table(head)}: training days were drawn with different keep rates "
                             f"({sorted(1 / w.to_numpy())}); rebuild them with one DatasetConfig")
        out.append(1.0 / w[0] if len(w) else fallback)
    return out[0], out[1]


def store_name(kind: str, head: str) -> str:
    """A head's model in the ModelStore: models/recap/<kind>/<head>/<day>."""
    return f"{kind}/{head}"


def engagement_rate(df: pl.DataFrame, prefix: str, kinds: tuple[str, ...]) -> np.ndarray:
    """(engagements + 1) / (impressions + 30) over 50 days: a one-column baseline every head must beat."""
    engaged = sum(df[f"{prefix}_{k}_50d"].to_numpy().astype(np.float64) for k in kinds)
    return (engaged + 1.0) / (df[f"{prefix}_impressions_50d"].to_numpy().astype(np.float64) + 30.0)


# Baselines scored on every head's validation rows beside the models (docs/models.md): how engaging the author's
# tweets are, and how engaged the viewer is.
ENGAGEMENT_BASELINES = {
    "author_engagement_rate": lambda df: engagement_rate(df, "a", ("favorite", "retweet", "reply")),
    "viewer_engagement_rate": lambda df: engagement_rate(df, "v", ("favorite", "retweet", "reply", "convo_click")),
}
BASELINE_MODELS = ("popularity_heuristic", *ENGAGEMENT_BASELINES)


def train_and_evaluate(context, conn, store: ModelStore, day: dt.date,
                       config: ModelConfig) -> dict[dg.AssetKey, dict]:
    """Train, evaluate and publish the models of ``day``; returns each asset's metadata for that day."""
    train_days, valid_days = split_days(day)
    inputs = {}
    for present in (checks.upstream_days_present(conn, {train_table(h): train_days for h in HEADS}),
                    checks.upstream_days_present(conn, {"impression_features": valid_days,
                                                        "impressions_labeled": valid_days})):
        if not present.passed:
            raise dg.Failure(f"{SCHEMA} models {day}: {present.description}")
        inputs.update(checks.input_versions([present]))
    valid = load_validation(conn, valid_days)
    x_valid = valid.select(FEATURES).to_numpy().astype(np.float64)
    columns_valid = light_ranker.Columns(x_valid)
    has_oracle = "utility" in valid.columns and valid["utility"].null_count() == 0
    heuristic = np.log(popularity(valid))
    predictions: dict[str, dict[str, np.ndarray]] = {"boosted_trees": {}, "light_ranker": {}}
    evaluations, artifacts, out = [], [], {}
    for h, head in HEADS.items():
        train = conn.polars(f"SELECT * FROM {train_table(h)} WHERE ds BETWEEN ? AND ? ORDER BY impression_id",
                            [train_days[0], train_days[-1]])
        head_inputs = {t: v for t, v in inputs.items() if t == train_table(h) or not t.startswith("train_")}
        y_valid = valid[head.column].to_numpy()
        positives = int(train["label"].sum()) if train.height else 0
        negatives = train.height - positives
        pos_rate, neg_rate = class_rates(train, h)
        note = None
        if positives < config.min_positives or negatives < config.min_positives:
            note = (f"not trained: {positives} positives and {negatives} negatives in the training days "
                    f"(minimum {config.min_positives} each)")
        row = {"ds": day, "head": h, "valid_first": valid_days[0], "valid_last": valid_days[-1],
               "rows": len(y_valid), "positives": int(y_valid.sum()), "train_rows": train.height,
               "artifact_sha256": None, "inputs": json.dumps(inputs_json(head_inputs))}
        head_meta = {}
        for kind in MODEL_KINDS:
            path = store.path(store_name(kind, h), day)
            if note:
                evaluations.append({**row, "model": kind, "auc": None, "rce": None, "note": note})
                head_meta[kind] = {"note": note, "train_rows": train.height, "train_positives": positives}
                continue
            x_train = train.select(FEATURES).to_numpy().astype(np.float64)
            y_train = train["label"].to_numpy()
            if kind == "boosted_trees":
                eval_mask = (train["ds"] == train_days[-1]).to_numpy()
                fitted = training.fit_boosted_trees(train, FEATURES, config.boosted_trees, eval_mask)
                raw = fitted.booster.predict(x_valid)
            else:
                fitted, _ = light_ranker.fit(x_train, y_train, FEATURES, config.light_ranker_bins, config.light_ranker_c)
                raw = fitted.predict_array(columns_valid)
            p = downsampling.calibrate(raw, pos_rate, neg_rate)
            predictions[kind][h] = p
            m = {"auc": metrics.auc(y_valid, p), "rce": metrics.rce(y_valid, p)}
            fitted.manifest.update(head=h, label=head.label, ds=day.isoformat(), train_days=[d.isoformat() for d in (train_days[0], train_days[-1])],
                                   valid_days=[valid_days[0].isoformat(), valid_days[-1].isoformat()],
                                   keep_rates={"pos_rate": pos_rate, "neg_rate": neg_rate}, metrics=m,
                                   **provenance(head_inputs, config))
            artifacts.append(store.stage(store_name(kind, h), day, fitted.save))
            evaluations.append({**row, "model": kind, **m, "note": None, "artifact_sha256": artifacts[-1].sha256})
            head_meta[kind] = {**m, "train_rows": train.height, "train_positives": positives,
                               "model_path": dg.MetadataValue.path(str(path)), "model_sha256": artifacts[-1].sha256}
        # Baselines: the tweet's like rate so far (Platt-scaled on the training rows, then calibrated), and the oracle.
        if positives and negatives:
            from sklearn.linear_model import LogisticRegression  # lazily: seconds of every run's start-up

            platt = LogisticRegression().fit(np.log(popularity(train))[:, None], train["label"].to_numpy())
            p_h = downsampling.calibrate(platt.predict_proba(heuristic[:, None])[:, 1], pos_rate, neg_rate)
            evaluations.append({**row, "model": "popularity_heuristic", "auc": metrics.auc(y_valid, heuristic),
                                "rce": metrics.rce(y_valid, p_h), "note": "tweet's smoothed like rate so far, Platt-scaled"})
        else:
            evaluations.append({**row, "model": "popularity_heuristic", "auc": metrics.auc(y_valid, heuristic),
                                "rce": None, "note": "no training rows of both classes to scale it"})
        for name, rate in ENGAGEMENT_BASELINES.items():
            evaluations.append({**row, "model": name, "auc": metrics.auc(y_valid, rate(valid)), "rce": None,
                                "note": "smoothed engagement rate over 50 days (a score, not a probability)"})
        if has_oracle:
            p_o = valid[f"p_{h}"].to_numpy()
            evaluations.append({**row, "model": "oracle", "auc": metrics.auc(y_valid, p_o), "rce": metrics.rce(y_valid, p_o),
                                "note": "simulator's planted probabilities"})
        for kind in MODEL_KINDS:
            base = {e["model"]: e for e in evaluations if e["head"] == h}
            meta = {**head_meta[kind], "heuristic_auc": base["popularity_heuristic"]["auc"],
                    "oracle_auc": base.get("oracle", {}).get("auc"), "oracle_rce": base.get("oracle", {}).get("rce"),
                    "validation_rows": len(y_valid), "validation_positives": int(y_valid.sum()),
                    "keep_rates": dg.MetadataValue.json({"pos_rate": pos_rate, "neg_rate": neg_rate})}
            out[model_key(kind, h)] = {k: v for k, v in meta.items() if v is not None}
        context.log.info(f"{SCHEMA} {h} {day}: " + ", ".join(f"{e['model']} auc={e['auc']}" for e in evaluations if e["head"] == h))

    rankings = ranking_rows(valid, predictions, has_oracle, day, valid_days)
    store_rankings(conn, rankings, day)
    # The commit point of the day: its evaluation rows (with each model's sha256) replace the day's, then the twenty
    # model files move into place.
    store.publish(conn, "model_evaluations", pl.DataFrame(evaluations, infer_schema_length=None), ["ds"], artifacts)
    eval_table = evaluation_table(pl.DataFrame(evaluations, infer_schema_length=None))
    rank_table = pl.DataFrame(rankings).select("weights_version", "model", "ndcg_at_10", "rankings")
    headline = {r["model"]: r["ndcg_at_10"] for r in rankings if r["weights_version"] == config.weights_version}
    out[key("model_evaluations")] = {
        "dagster/row_count": len(evaluations), "per_head": dg.MetadataValue.md(eval_table),
        "validation_days": f"{valid_days[0]} .. {valid_days[-1]}", "train_days": f"{train_days[0]} .. {train_days[-1]}"}
    out[key("ranking_evaluations")] = {
        "dagster/row_count": len(rankings), "weights_version": config.weights_version,
        **{f"ndcg_at_10/{m}": v for m, v in headline.items() if v is not None},
        "ndcg_at_10": dg.MetadataValue.md(markdown_table(rank_table))}
    return out


def ranking_rows(valid: pl.DataFrame, predictions: dict, has_oracle: bool, day: dt.date, valid_days) -> list[dict]:
    """NDCG@10 of each ranker per (viewer, day) against the planted utility (simulator only)."""
    if not has_oracle:
        return []
    group = metrics.ranking_groups(valid)
    ids = pa.array(valid["impression_id"].to_numpy())
    scores = {}
    for version in ("v1", "v2"):
        scores.update({(version, kind): score(p, version) for kind, p in predictions.items() if p})
        scores[(version, "oracle")] = score({h: valid[f"p_{h}"].to_numpy() for h in HEADS}, version)
    for version in ("v1", "v2"):  # weight-free rankers: the same ranking under both versions
        scores[(version, "popularity_heuristic")] = popularity(valid)
        scores[(version, "random")] = hashing.uniform(ids)
    ndcg = metrics.ndcg_many(group, valid["utility"].to_numpy(), scores, 10,
                             tiebreak=hashing.uniform(ids, pa.array(np.ones(len(ids), dtype=np.int64))))
    return [{"ds": day, "weights_version": version, "model": model, "valid_first": valid_days[0],
             "valid_last": valid_days[-1], "ndcg_at_10": value, "rankings": n}
            for (version, model), (value, n) in ndcg.items()]


def store_rankings(conn, rankings: list[dict], day: dt.date) -> None:
    """Replace the day's ranking_evaluations (none without the simulator's utility)."""
    if not rankings:
        conn.execute("DELETE FROM ranking_evaluations WHERE ds = ?", [day])
        return
    conn.register("ranking_rows", pl.DataFrame(rankings, infer_schema_length=None).to_arrow())
    conn.replace_rows("ranking_evaluations", "ranking_rows", ["ds"])


def evaluation_table(ev: pl.DataFrame) -> str:
    """One line per head: AUC and RCE of each model side by side."""
    wide = ev.pivot(on="model", index=["head", "positives"], values=["auc", "rce"])
    order = [c for m in ("boosted_trees", "light_ranker", *BASELINE_MODELS, "oracle")
             for c in (f"auc_{m}", f"rce_{m}") if c in wide.columns]
    return markdown_table(wide.select("head", "positives", *order))

