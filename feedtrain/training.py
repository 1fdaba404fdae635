"""Fit, evaluate and persist the two model families: LightGBM boosted trees and the z-scored logistic regression.

Persisted models are a directory with ``manifest.json`` (format version, features, parameters, normaliser,
metrics) and, for boosted trees, LightGBM's own text model: readable, diffable and reloadable without pickle.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from .downsampling import calibrate

# lightgbm and sklearn are imported where a model is fitted, loaded or scored: importing them costs seconds of every
# process that loads the definitions (the UI, each run), most of which never train (bench/RESULTS.md, start-up).
if TYPE_CHECKING:
    import lightgbm as lgb

FORMAT_VERSION = 1


class BoostedTreesConfig(dg.Config):
    """LightGBM settings. The names follow docs/realgraph.md §1.10's BigQuery ML BOOSTED_TREE_CLASSIFIER options; the defaults are
    set to learn (docs/models.md): SPEC's 20 rounds at LEARN_RATE 0.3 with EARLY_STOP at 1 % relative progress stopped
    after 4-7 trees and lost to one-column baselines. The SPEC values are one config away (n_estimators 20,
    learning_rate 0.3, num_leaves 63, min_child_samples 1, early_stopping_rounds 0)."""

    n_estimators: int = Field(500, description="MAX_ITERATIONS: boosting rounds (early stopping usually ends sooner).")
    learning_rate: float = Field(0.05, description="LEARN_RATE: small steps, many trees.")
    max_depth: int = Field(6, description="MAX_TREE_DEPTH.")
    num_leaves: int = Field(31, description="Leaves per tree (at most 2**max_depth).")
    subsample: float = Field(0.01, description="SUBSAMPLE: share of rows drawn for each tree (docs/realgraph.md §6.7).")
    min_rows_per_tree: int = Field(
        20_000, description="Lower bound on the rows each tree sees: the bagging fraction is "
        "max(subsample, min_rows_per_tree / training rows), capped at 1. SUBSAMPLE 0.01 was set for Twitter's millions "
        "of training rows; on a few thousand it leaves trees of ~40 rows that lose to the num_days heuristic. From 2M "
        "training rows on this is exactly SUBSAMPLE; 0 gives the literal rule.")
    reg_lambda: float = Field(1.0, description="L2_REG.")
    reg_alpha: float = Field(0.0, description="L1_REG.")
    min_child_weight: float = Field(1e-3, description="MIN_TREE_CHILD_WEIGHT (sum of hessians in a leaf).")
    min_child_samples: int = Field(
        40, description="LightGBM's min_data_in_leaf: leaves of a few rows fit noise, above all on rare positives.")
    colsample_bytree: float = Field(0.8, description="COLSAMPLE_BYTREE.")
    early_stopping_rounds: int = Field(
        50, ge=0, description="Stop when the eval log loss has not improved for this many rounds, keeping the best "
        "round. 0: BQML's EARLY_STOP rule instead (stop at the first round improving by less than min_rel_progress).")
    min_rel_progress: float = Field(0.01, description="EARLY_STOP's MIN_REL_PROGRESS (only with early_stopping_rounds 0).")
    monotone_constraints: dict[str, int] = Field(
        default_factory=dict, description="Feature -> +1 (score never decreases as it grows) or -1, for features "
        "whose direction is known; features not named are free. Each location sets its own default.")
    seed: int = Field(0, description="Seed of LightGBM's row subsampling.")


@dataclass
class Model:
    """A trained model that scores a frame holding its features."""

    kind: str
    features: list[str]
    manifest: dict
    booster: lgb.Booster | None = None

    def predict(self, df: pl.DataFrame) -> np.ndarray:
        if WEEKDAY_FACTOR in self.features:
            df = with_weekday_factor(df, self.manifest[WEEKDAY_FACTOR])
        x = df.select(self.features).to_numpy().astype(np.float64)
        if self.booster is not None:
            return self.booster.predict(x)
        norm = self.manifest["normaliser"]
        z = (x - np.array(norm["mean"])) / np.array(norm["scale"])
        return 1.0 / (1.0 + np.exp(-(z @ np.array(self.manifest["coef"]) + self.manifest["intercept"])))

    def save(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        if self.booster is not None:
            self.booster.save_model(str(path / "model.txt"))
        (path / "manifest.json").write_text(json.dumps(self.manifest, indent=2, default=str))
        return path


# The label day's weekday, as a learned factor: log(positive rate of the training rows labeled on that weekday / the
# rate of all of them), both weighted to undo the downsampling. Real logs have weekly cycles (SNAP's email-Eu-core:
# ~10 % next-day rate on working days, ~0.5 % on weekends); without it a model predicts the window's average rate
# every day, badly calibrated on both kinds of day. A 7-day window holds each weekday once, so the factor of T+1's
# weekday comes from the training day a week earlier (no label at or after the label time is used). Constant within
# a day, it cannot change a day's ranking by itself; it lets the model scale its scores by day.
WEEKDAY_FACTOR = "label_weekday_factor"
WEEKDAY_PRIOR_ROWS = 50  # shrink each weekday's rate toward the window's with this many average rows' worth of weight


def weekday_factors(frame: pl.DataFrame, rule: dict, fit_mask: np.ndarray) -> dict:
    """The factor of each weekday (0 = Monday) learned from ``frame``'s rows where ``fit_mask`` holds; ``rule`` names
    the label-day column(s) (the first one present) and the days from it to the label day."""
    label_day = _label_days(frame, rule).dt.weekday().to_numpy()[fit_mask] - 1  # polars: Monday = 1
    y = frame["label"].to_numpy()[fit_mask].astype(np.float64)
    w = frame["weight"].to_numpy()[fit_mask].astype(np.float64) if "weight" in frame.columns else np.ones_like(y)
    positives, weights = np.bincount(label_day, w * y, 7), np.bincount(label_day, w, 7)
    overall = positives.sum() / weights.sum() if weights.sum() else 0.0
    prior = WEEKDAY_PRIOR_ROWS * (weights.sum() / max(1, len(w)))
    rate = (positives + prior * overall) / (weights + prior)
    factors = np.where((weights > 0) & (overall > 0), np.log(np.maximum(rate, 1e-12) / max(overall, 1e-12)), 0.0)
    return {**rule, "factors": [round(float(f), 12) for f in factors]}


def with_weekday_factor(frame: pl.DataFrame, learned: dict) -> pl.DataFrame:
    weekday = _label_days(frame, learned).dt.weekday() - 1
    return frame.with_columns(weekday.replace_strict(list(range(7)), learned["factors"], return_dtype=pl.Float64)
                              .alias(WEEKDAY_FACTOR))


def _label_days(frame: pl.DataFrame, rule: dict) -> pl.Series:
    column = next(c for c in rule["day_columns"] if c in frame.columns)
    return frame[column] + dt.timedelta(days=rule["offset_days"])


def _with_learned_weekday(train: pl.DataFrame, features: list[str], weekday_rule: dict | None,
                          fit_mask: np.ndarray) -> tuple[pl.DataFrame, dict]:
    if WEEKDAY_FACTOR not in features:
        return train, {}
    if weekday_rule is None:
        raise ValueError(f"{WEEKDAY_FACTOR} is a feature but no rule says which column holds the label day")
    learned = weekday_factors(train, weekday_rule, fit_mask)
    return with_weekday_factor(train, learned), {WEEKDAY_FACTOR: learned}


def load_model(path: Path) -> Model:
    manifest = json.loads((Path(path) / "manifest.json").read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: model format {manifest.get('format_version')} is not {FORMAT_VERSION}")
    import lightgbm as lgb

    booster = lgb.Booster(model_file=str(Path(path) / "model.txt")) if manifest["kind"] == "boosted_trees" else None
    return Model(manifest["kind"], manifest["features"], manifest, booster)


def _relative_early_stopping(min_rel_progress: float):
    """BQML's EARLY_STOP + MIN_REL_PROGRESS: stop once the eval loss improves by less than the given share."""
    import lightgbm as lgb

    state: dict = {}

    def callback(env: lgb.callback.CallbackEnv) -> None:
        loss = env.evaluation_result_list[0][2]
        prev = state.get("loss")
        if prev is not None and (prev - loss) / prev < min_rel_progress:
            raise lgb.callback.EarlyStopException(state["iteration"], state["result"])
        state.update(loss=loss, iteration=env.iteration, result=env.evaluation_result_list)

    callback.order = 30
    return callback


def fit_boosted_trees(train: pl.DataFrame, features: list[str], cfg: BoostedTreesConfig, eval_mask: np.ndarray,
                      weekday_rule: dict | None = None) -> Model:
    """Fit on the rows where ``eval_mask`` is False; early-stop on the others (docs/realgraph.md §1.9 CUSTOM split).
    With ``WEEKDAY_FACTOR`` among the features, ``weekday_rule`` says where the label day is (``weekday_factors``)."""
    import lightgbm as lgb

    train, learned = _with_learned_weekday(train, features, weekday_rule, ~eval_mask)
    y = train["label"].to_numpy()
    x = train.select(features).to_numpy().astype(np.float64)
    params = {
        "objective": "binary", "boosting_type": "gbdt", "learning_rate": cfg.learning_rate,
        "max_depth": cfg.max_depth, "num_leaves": cfg.num_leaves, "lambda_l2": cfg.reg_lambda, "lambda_l1": cfg.reg_alpha,
        "min_sum_hessian_in_leaf": cfg.min_child_weight, "min_data_in_leaf": cfg.min_child_samples,
        "feature_fraction": cfg.colsample_bytree, "seed": cfg.seed, "deterministic": True,
        "force_row_wise": True, "num_threads": 2, "verbose": -1,
    }
    if any(cfg.monotone_constraints.get(f, 0) for f in features):
        # LightGBM's default ("basic") method: "intermediate" and "advanced" gave the same holdout AUC on the default
        # world (bench/RESULTS.md) and cost more CPU per tree.
        params.update(monotone_constraints=[cfg.monotone_constraints.get(f, 0) for f in features],
                      monotone_constraints_method="basic")
    bagging = min(1.0, max(cfg.subsample, cfg.min_rows_per_tree / max(1, int((~eval_mask).sum()))))
    params.update(bagging_fraction=bagging, bagging_freq=1 if bagging < 1 else 0)
    fit = lgb.Dataset(x[~eval_mask], y[~eval_mask], feature_name=features, free_raw_data=False)
    callbacks, valid = [], []
    if eval_mask.any() and len(np.unique(y[eval_mask])) == 2:
        valid = [lgb.Dataset(x[eval_mask], y[eval_mask], reference=fit)]
        callbacks = [lgb.early_stopping(cfg.early_stopping_rounds, first_metric_only=True, verbose=False)
                     if cfg.early_stopping_rounds else _relative_early_stopping(cfg.min_rel_progress)]
        params["metric"] = "binary_logloss"
    booster = lgb.train(params, fit, num_boost_round=cfg.n_estimators, valid_sets=valid, callbacks=callbacks)
    importance = dict(zip(features, booster.feature_importance("gain").round(4).tolist()))
    manifest = {"format_version": FORMAT_VERSION, "kind": "boosted_trees", "features": features, "params": params,
                "best_iteration": booster.best_iteration or booster.current_iteration(),
                "trained_rows": int((~eval_mask).sum()), "eval_rows": int(eval_mask.sum()),
                "feature_importance_gain": importance, **learned}
    return Model("boosted_trees", features, manifest, booster)


def fit_light_ranker(train: pl.DataFrame, features: list[str], eval_mask: np.ndarray, c: float = 1.0,
                     weekday_rule: dict | None = None) -> Model:
    """Logistic regression on z-scored features; the mean and std are fit on the training split only (docs/recap.md §6.12)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    train, learned = _with_learned_weekday(train, features, weekday_rule, ~eval_mask)
    y = train["label"].to_numpy()
    x = train.select(features).to_numpy().astype(np.float64)[~eval_mask]
    scaler = StandardScaler().fit(x)
    # Newton steps with a Cholesky solve: the problem has many rows and a few dozen columns, where it converges in a
    # handful of iterations to the optimum that L-BFGS (sklearn's default) stopped short of at its tolerance. 2x
    # faster and a higher holdout AUC on 10 of 10 default-world days (bench/RESULTS.md, 2026-12-04).
    lr = LogisticRegression(C=c, solver="newton-cholesky", max_iter=100).fit(scaler.transform(x), y[~eval_mask])
    manifest = {"format_version": FORMAT_VERSION, "kind": "light_ranker", "features": features,
                "normaliser": {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()},
                "coef": lr.coef_[0].tolist(), "intercept": float(lr.intercept_[0]), "C": c, "solver": lr.solver,
                "trained_rows": int((~eval_mask).sum()), **learned}
    return Model("light_ranker", features, manifest)


def evaluate(y: np.ndarray, score: np.ndarray, pos_rate: float | None = None, neg_rate: float | None = None,
             probability: bool = True) -> dict:
    """AUC, PR-AUC, and for probabilities the log loss, raw and (given the train set's keep rates) calibrated."""
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    both = len(np.unique(y)) == 2
    out = {"rows": int(len(y)), "positive_rate": float(np.mean(y)) if len(y) else float("nan"),
           "auc": float(roc_auc_score(y, score)) if both else None,
           "pr_auc": float(average_precision_score(y, score)) if both else None,
           "log_loss": None, "calibrated_log_loss": None, "ece": None}
    if probability and both:
        out["log_loss"] = float(log_loss(y, np.clip(score, 1e-7, 1 - 1e-7)))
        cal = calibrate(score, pos_rate, neg_rate) if pos_rate is not None else score
        if pos_rate is not None:
            out["calibrated_log_loss"] = float(log_loss(y, np.clip(cal, 1e-7, 1 - 1e-7)))
        out["ece"] = expected_calibration_error(y, cal)
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 15) -> float:
    """ECE (Guo et al. 2017): |mean prediction - positive rate| per equal-width probability bin, weighted by the
    bin's share of rows. Computed on the probabilities after the downsampling correction."""
    which = np.minimum((np.asarray(p) * bins).astype(np.int64), bins - 1)
    n = np.bincount(which, minlength=bins)
    gap = np.abs(np.bincount(which, weights=p, minlength=bins) - np.bincount(which, weights=y, minlength=bins))
    return float(gap.sum() / max(1, len(y))) if n.sum() else float("nan")
