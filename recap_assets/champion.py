"""Heavy-ranker promotion for Recap: which model day's ten boosted-tree heads serve, and why.

Model days are decided in order, each once: the first becomes champion; a later day (the challenger) and the current
champion are both scored on the challenger's validation days, and the challenger is promoted iff its mean AUC over
the heads both have trained is at least the champion's minus ``max_auc_drop``. AUC needs only labels, so this works
on real logs too (NDCG@10 against the planted utility exists only in the simulator). Unlike Real Graph's champion the
history is not replayed on every run: re-scoring a validation week is ~30 s a day at default size, so a retrained
day keeps its first decision (delete its row in ``champion_decisions`` to decide it again).

A model day is compared only if the files of every head involved are the ones their evaluation rows recorded
(``ModelStore.verify``): a crash between a day's evaluation commit and its files' rename leaves that day undecided,
the asset fails naming it, and the days after it wait until it is re-run.
"""

import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from feedtrain import training
from feedtrain.automation import AFTER_ANY_MODEL, OWNERS
from feedtrain.modelstore import ModelStore
from feedtrain.warehouse import Warehouse, engine_kind, markdown_table

from . import metrics
from .common import POOL, key
from .features import FEATURES
from .heads import HEADS
from .models import BASELINE_MODELS, load_validation, split_days, store_name
from .resources import SCHEMA


class ChampionConfig(dg.Config):
    max_auc_drop: float = Field(0.002, description="A challenger is promoted iff its mean per-head AUC >= the "
                                                   "champion's on the same validation days minus this margin.")
    must_beat_baselines: bool = Field(True, description="Refuse a challenger whose mean per-head AUC does not beat "
                                      "the mean per-head AUC of the best baseline (models.py BASELINE_MODELS).")


def trained_heads(conn, day) -> dict[str, tuple[float, str | None]]:
    """The boosted-tree heads trained on ``day``: head -> (AUC, recorded artifact sha256)."""
    return {h: (auc, sha) for h, auc, sha in conn.rows(
        "SELECT head, auc, artifact_sha256 FROM model_evaluations WHERE ds = ? AND model = 'boosted_trees' "
        "AND auc IS NOT NULL", [day])}


def unverified(store: ModelStore, day, heads: dict[str, tuple[float, str | None]]) -> list[str]:
    """Why any of these heads' files on disk are not the evaluated ones (empty if all are)."""
    return [p for h, (_, sha) in heads.items() if (p := store.verify(store_name("boosted_trees", h), day, sha))]


def decide(conn, store: ModelStore, day, champion_day, max_auc_drop: float, must_beat_baselines: bool = True) -> dict:
    """The decision row of ``day`` against ``champion_day`` (both days' files verified by the caller)."""
    _, valid_days = split_days(day)
    row = {"ds": day, "valid_first": valid_days[0], "valid_last": valid_days[-1], "champion_ds": champion_day,
           "max_auc_drop": max_auc_drop, "champion_mean_auc": None}
    challenger = {h: auc for h, (auc, _) in trained_heads(conn, day).items()}
    row["challenger_mean_auc"] = float(np.mean(list(challenger.values()))) if challenger else None
    baselines = conn.rows(f"SELECT model, avg(auc) FROM model_evaluations WHERE ds = ? AND auc IS NOT NULL AND model IN "
                          f"({', '.join(repr(m) for m in BASELINE_MODELS)}) AND head IN (SELECT head FROM "
                          "model_evaluations WHERE ds = ? AND model = 'boosted_trees' AND auc IS NOT NULL) "
                          "GROUP BY model ORDER BY avg(auc) DESC, model", [day, day])
    if must_beat_baselines and challenger and baselines and row["challenger_mean_auc"] <= baselines[0][1]:
        return {**row, "heads_compared": len(challenger), "promoted": False,
                "reason": f"mean AUC {row['challenger_mean_auc']:.4f} does not beat the {baselines[0][0]} baseline "
                          f"({baselines[0][1]:.4f}) over the same heads"}
    if champion_day is None:
        return {**row, "heads_compared": len(challenger), "promoted": bool(challenger),
                "reason": "first model" if challenger else "no head trained"}
    common = [h for h in challenger if h in trained_heads(conn, champion_day)]
    if not common:
        return {**row, "heads_compared": 0, "promoted": False, "reason": "no head trained in both models"}
    valid = load_validation(conn, valid_days)
    x = valid.select(FEATURES).to_numpy().astype(np.float64)
    champion_auc = [metrics.auc(valid[HEADS[h].column].to_numpy(), training.load_model(
                        store.path(store_name("boosted_trees", h), champion_day)).booster.predict(x))
                    for h in common]
    new, old = float(np.mean([challenger[h] for h in common])), float(np.mean(champion_auc))
    promoted = new >= old - max_auc_drop
    return {**row, "heads_compared": len(common), "challenger_mean_auc": new, "champion_mean_auc": old,
            "promoted": promoted, "reason": f"mean AUC {new:.4f} vs champion {old:.4f} over {len(common)} heads on "
                                            f"{valid_days[0]}..{valid_days[-1]}: "
                                            f"{'within' if promoted else 'below'} the {max_auc_drop} margin"}


@dg.asset(key=key("champion"), owners=OWNERS, group_name="recap_champion", deps=[key("model_evaluations")], pool=POOL,
          automation_condition=AFTER_ANY_MODEL, kinds={engine_kind()},
          description="The serving heavy ranker: each model day's ten boosted-tree heads against the current champion's, "
                      "both scored on the challenger's validation days; promoted iff the mean per-head AUC is no worse "
                      "by more than the configured margin.")
def champion(context: dg.AssetExecutionContext, warehouse: Warehouse, model_store: ModelStore, config: ChampionConfig):
    blocked = None
    with warehouse.connect() as conn:
        decided = conn.rows("SELECT ds, promoted FROM champion_decisions ORDER BY ds")
        current = max((d for d, promoted in decided if promoted), default=None)
        pending = [d for (d,) in conn.rows(
            "SELECT DISTINCT ds FROM model_evaluations WHERE ds NOT IN (SELECT ds FROM champion_decisions) "
            "AND ds > coalesce((SELECT max(ds) FROM champion_decisions), DATE '1970-01-01') ORDER BY ds")]
        for day in pending:
            problems = unverified(model_store, day, trained_heads(conn, day))
            if current is not None:
                problems += unverified(model_store, current, trained_heads(conn, current))
            if problems:  # decide nothing from files that are not the evaluated ones; later days wait (order matters)
                blocked = (f"{day} is undecided: {'; '.join(problems)} (re-run the {SCHEMA} models of the day named; "
                           f"the days after {day} wait for it)")
                break
            decision = decide(conn, model_store, day, current, config.max_auc_drop, config.must_beat_baselines)
            conn.register("decision_row", pl.DataFrame([decision], schema_overrides={
                "champion_ds": pl.Date, "champion_mean_auc": pl.Float64, "challenger_mean_auc": pl.Float64}).to_arrow())
            conn.replace_rows("champion_decisions", "decision_row", ["ds"])
            context.log.info(f"{SCHEMA} champion: {day} {'promoted' if decision['promoted'] else 'kept'} "
                             f"({decision['reason']})")
            if decision["promoted"]:
                current = day
        history = conn.polars("SELECT * FROM champion_decisions ORDER BY ds DESC LIMIT 20")
    if current is not None:
        model_store.write_pointer("boosted_trees", "CHAMPION", current.isoformat() + "\n")
    if blocked:
        raise dg.Failure(f"{SCHEMA} champion: {blocked}")
    if current is None:
        raise dg.Failure(f"no {SCHEMA} heavy ranker has been trained yet")
    best = history.filter(pl.col("ds") == current).row(0, named=True)
    return dg.MaterializeResult(metadata={
        "champion_day": current.isoformat(), "champion_mean_auc": best["challenger_mean_auc"],
        "decided_days": len(pending), "promotion_rule": f"promote iff mean per-head AUC >= champion's - {config.max_auc_drop} "
                                                        "on the challenger's validation days and > the best baseline's",
        "decisions": dg.MetadataValue.md(markdown_table(history.select(
            "ds", "promoted", "champion_ds", "heads_compared", "challenger_mean_auc", "champion_mean_auc", "reason")))})
