"""Model promotion: which day's model serves, and why.

For each model kind, the days' models are replayed in order: the first becomes champion; each later one (the
challenger) and the current champion are both scored on the challenger's holdout (the next day's labeled candidates),
and the challenger is promoted iff its AUC is at least the champion's minus ``max_auc_drop`` and it beats the best
baseline (num_days, recency, decayed count, reciprocity) on that holdout: a model a one-column rule outscores never
serves.  The whole chain is
recomputed on every run, so a retrained day or a changed margin gives a consistent history; the decisions go to
``champion_decisions`` and the champion's day to ``models/realgraph/<model>/CHAMPION`` for a serving system to read.
A model day whose files on disk are not the ones its evaluation recorded (``ModelStore.verify``: a crash between the
evaluation's commit and the files' rename) is never compared: it is recorded as not promoted, naming what to re-run.
"""

import dagster as dg
import polars as pl
from pydantic import Field

from feedtrain import training
from feedtrain.automation import AFTER_ANY_MODEL, OWNERS
from feedtrain.modelstore import ModelStore
from feedtrain.warehouse import Warehouse, engine_kind, markdown_table

from .labels import VARIANTS
from .location import POOL, key
from .models import BASELINES, MODEL_KINDS
from .resources import SCHEMA


class ChampionConfig(dg.Config):
    max_auc_drop: float = Field(0.002, description="A challenger is promoted iff its holdout AUC >= the champion's "
                                                   "AUC on the same holdout minus this margin.")
    must_beat_baselines: bool = Field(True, description="Refuse a challenger whose holdout AUC does not beat every "
                                      "baseline's (models.py BASELINES) on the same rows.")


def decide(conn, store: ModelStore, variant: str, kind: str, max_auc_drop: float,
           must_beat_baselines: bool = True) -> pl.DataFrame:
    suffix = VARIANTS[variant].suffix
    name = kind + suffix  # the model asset's name, and its directory in the store
    days = conn.rows("SELECT ds, holdout_ds, auc, artifact_sha256 FROM model_evaluations WHERE variant = ? AND model = ? "
                     "ORDER BY ds", [variant, kind])
    best_baseline = {ds: (name, auc) for ds, name, auc in conn.rows(
        f"SELECT ds, arg_max(model, auc), max(auc) FROM model_evaluations WHERE variant = ? AND model IN "
        f"({', '.join(repr(b) for b in BASELINES)}) GROUP BY ds", [variant])}
    decisions, champion = [], None  # champion: (day, Model)
    for day, holdout_day, auc, sha256 in days:
        row = {"variant": variant, "model": kind, "ds": day, "holdout_ds": holdout_day, "challenger_auc": auc,
               "champion_ds": champion[0] if champion else None, "champion_auc": None, "max_auc_drop": max_auc_drop}
        problem = store.verify(name, day, sha256)
        if problem:
            decisions.append({**row, "promoted": False, "reason": f"{problem}: re-run {name} for {day}"})
            continue
        baseline, baseline_auc = best_baseline.get(day, (None, None))
        if must_beat_baselines and baseline_auc is not None and (auc is None or auc <= baseline_auc):
            decisions.append({**row, "promoted": False, "reason": f"AUC {auc if auc is None else round(auc, 4)} does "
                              f"not beat the {baseline} baseline ({baseline_auc:.4f}) on {holdout_day}"})
            continue
        challenger = training.load_model(store.path(name, day))
        if champion is None:
            decisions.append({**row, "promoted": True, "reason": "first model"})
            champion = (day, challenger)
            continue
        holdout = conn.polars(f"SELECT * FROM labeled_candidates{suffix} WHERE ds = ? ORDER BY source_id, destination_id",
                              [holdout_day])
        champ_auc = training.evaluate(holdout["label"].to_numpy(), champion[1].predict(holdout))["auc"]
        promoted = auc is not None and champ_auc is not None and auc >= champ_auc - max_auc_drop
        reason = (f"AUC {auc:.4f} vs champion {champ_auc:.4f} on {holdout_day}: "
                  f"{'within' if promoted else 'below'} the {max_auc_drop} margin") if auc and champ_auc else "no AUC"
        decisions.append({**row, "champion_auc": champ_auc, "promoted": promoted, "reason": reason})
        if promoted:
            champion = (day, challenger)
    if champion:
        store.write_pointer(name, "CHAMPION", champion[0].isoformat() + "\n")
    return pl.DataFrame(decisions, schema_overrides={"champion_auc": pl.Float64, "challenger_auc": pl.Float64,
                                                     "champion_ds": pl.Date})


def champion_asset(variant: str) -> dg.AssetsDefinition:
    """The champion of ``variant``: it follows every model of the variant."""
    name = VARIANTS[variant].name

    @dg.asset(
        name=name("champion"), key_prefix=[SCHEMA], owners=OWNERS, group_name="realgraph_models",
        automation_condition=AFTER_ANY_MODEL,
        deps=[key(name(kind)) for kind in MODEL_KINDS], pool=POOL, kinds={engine_kind()},
        description=f"The serving {variant} model of each kind: every day's model is compared with the current "
                    "champion on the challenger's next-day holdout and promoted iff its AUC is no worse than the "
                    "champion's by more than the configured margin and it beats every baseline.")
    def champion(context: dg.AssetExecutionContext, warehouse: Warehouse, model_store: ModelStore,
                 config: ChampionConfig):
        return promote(warehouse, model_store, config, variant)

    return champion


# realgraph/champion, realgraph/champion_explicit, ...: one per label variant (labels.VARIANTS).
CHAMPIONS = [champion_asset(v) for v in VARIANTS]


def promote(warehouse: Warehouse, store: ModelStore, config: ChampionConfig, variant: str) -> dg.MaterializeResult:
    """Replay every model kind's promotion chain of ``variant``, store the decisions, write each CHAMPION pointer."""
    suffix = VARIANTS[variant].suffix
    with warehouse.connect() as conn:
        per_kind = [decide(conn, store, variant, kind, config.max_auc_drop, config.must_beat_baselines) for kind in MODEL_KINDS]
        if not any(d.height for d in per_kind):
            raise dg.Failure(f"no {variant} models have been trained yet")
        decisions = pl.concat([d for d in per_kind if d.height], how="vertical_relaxed")
        conn.register("decisions", decisions.to_arrow())
        conn.replace_rows("champion_decisions", "decisions", ["variant"])
    metadata = {}
    for kind in MODEL_KINDS:
        promoted = decisions.filter((pl.col("model") == kind) & pl.col("promoted"))
        if promoted.height:
            last = promoted.row(-1, named=True)
            metadata[f"{kind}_champion_day"] = last["ds"].isoformat()
            metadata[f"{kind}_champion_auc"] = last["challenger_auc"]
            metadata[f"{kind}_champion_path"] = dg.MetadataValue.path(str(store.path(kind + suffix, last["ds"])))
    metadata["decisions"] = dg.MetadataValue.md(markdown_table(
        decisions.sort("ds", descending=True).head(20)
        .select("model", "ds", "promoted", "champion_ds", "challenger_auc", "champion_auc", "reason")))
    metadata["promotion_rule"] = (f"promote iff challenger AUC >= champion AUC - {config.max_auc_drop}, both scored on "
                                  "the challenger's next-day holdout, and challenger AUC > every baseline's AUC there")
    return dg.MaterializeResult(metadata=metadata)
