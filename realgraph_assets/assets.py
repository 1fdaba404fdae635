"""The Real Graph asset graph (SPEC §1–2), one asset per table, each day written atomically after its checks pass.

raw logs (simulated) -> interaction_days -> candidates (31-day look-back, negatives removed, top 2000 per source)
-> candidates_sampled (FARM_FINGERPRINT bucket sample) -> labeled_candidates[_explicit] (T joined with T+1)
-> train[_explicit] (7 labeled days, ~50/50 downsampled) -> boosted_trees / light_ranker [_explicit]
"""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field

from feedtrain import checks, daily, downsampling, hashing, plots, training
from feedtrain.automation import LANDS_DAILY, OWNERS, WHEN_INPUTS_READY
from feedtrain.daily import span
from feedtrain.partitions import (
    LABEL_DELAY_DAYS,
    LOOKBACK_DAYS,
    TRAIN_WINDOW_DAYS,
    TWEET_COUNT_DAYS,
    candidate_partitions,
    events_partitions,
    label_partitions,
    model_partitions,
    partition_days,
    train_partitions,
    tweet_count_partitions,
    window,
)
from feedtrain.warehouse import Warehouse, home, markdown_table, preview, replace_partitions, stage, transaction

from .labels import ALL_LABELS, BIT, VARIANTS
from .resources import SCHEMA, SQL_DIR, RealGraphSimulator

FEATURES = [  # SPEC §1.8: every selected column but label and if_eval; ids are features in BQML (SPEC §6.6)
    "source_id", "destination_id", "num_days", "num_tweets", "num_follows", "num_favorites", "num_tweet_clicks",
    "num_profile_views", "days_since_last_interaction", "label_types",
]
POLICY = dg.BackfillPolicy.single_run()  # a backfill is one run per asset range: one DuckDB writer, no lock fights
POOL = "duckdb_realgraph"  # dagster.yaml: one step at a time per pool, i.e. one writer per DuckDB file


LOCATION = daily.Location(SCHEMA, SQL_DIR)
key, sql, dep = LOCATION.key, LOCATION.sql, LOCATION.dep


def write_days(context, conn, table, build):
    return daily.write_days(context, conn, SCHEMA, table, build)


def warehouse_asset(table: str, partitions_def, group: str, deps: list, checked=(), **kwargs):
    """A daily DuckDB table of this location: the settings every such asset shares, in one place."""
    return dg.asset(key=key(table), deps=deps, partitions_def=partitions_def, group_name=f"realgraph_{group}",
                    kinds={"duckdb"}, owners=OWNERS, automation_condition=WHEN_INPUTS_READY, backfill_policy=POLICY,
                    pool=POOL, metadata={"partition_expr": "ds"}, check_specs=checks.specs(key(table), *checked),
                    **kwargs)


def label_bits_table(conn) -> None:
    conn.register("label_bits_arrow", pa.table({"name": list(ALL_LABELS), "bit": [BIT[n] for n in ALL_LABELS]}))
    conn.execute("CREATE OR REPLACE TEMP TABLE label_bits AS SELECT * FROM label_bits_arrow")


# ---------------------------------------------------------------------------------------------------------------------
# Raw logs: the embedded simulator writes one day of every raw table in one step.
RAW_TABLES = {
    "interaction_graph_labels_daily": "Per pair and day, the set of interaction types A did toward B (SPEC §2.1).",
    "interaction_graph_agg_negative_edge_snapshot": "Negative edges (block, mute, report, recent unfollow) as of the day (SPEC §2.2).",
    "valid_user_follows": "Follow edges A->B as of the day (SPEC §2.3).",
    "public_tweets": "Public tweets posted that day (SPEC §2.3).",
    "planted_interaction_probability": "Simulator only: the planted probability of an interaction of each live tie that day (the oracle).",
}
RAW_SQL = {  # how each simulated Arrow table becomes its raw table (adds ds, label names, dateHour)
    "interaction_graph_labels_daily": """
        SELECT d.source_id, d.destination_id, list(b.name ORDER BY b.bit) AS labels,
               $ds::TIMESTAMP AS dateHour, $ds::DATE AS ds
        FROM sim d JOIN label_bits b ON d.label_mask & b.bit <> 0 GROUP BY d.source_id, d.destination_id""",
    "interaction_graph_agg_negative_edge_snapshot": """
        SELECT source_id, destination_id, 0.0 AS weight, negative_type, age_days,
               $ds::TIMESTAMP AS dateHour, $ds::DATE AS ds FROM sim""",
    "valid_user_follows": "SELECT source_id, destination_id, $ds::DATE AS ds FROM sim",
    "public_tweets": "SELECT user_id, tweet_id, ts, $ds::DATE AS ds FROM sim",
    "planted_interaction_probability": "SELECT source_id, destination_id, p_any, p_explicit, $ds::DATE AS ds FROM sim",
}
SIM_FIELD = {"interaction_graph_labels_daily": "labels", "interaction_graph_agg_negative_edge_snapshot": "negative_edges",
             "valid_user_follows": "follows", "public_tweets": "tweets", "planted_interaction_probability": "planted_probability"}


@dg.multi_asset(
    specs=[dg.AssetSpec(key(t), description=d, group_name="realgraph_sources", kinds={"duckdb"}, owners=OWNERS,
                        automation_condition=LANDS_DAILY,
                        metadata={"partition_expr": "ds"}) for t, d in RAW_TABLES.items()],
    partitions_def=events_partitions, backfill_policy=POLICY, pool=POOL,
)
def simulated_logs(context: dg.AssetExecutionContext, warehouse: Warehouse, simulator: RealGraphSimulator):
    """The embedded default data source: one simulated day of every raw Real Graph log, all tables of a day in one
    transaction."""
    world = simulator.world()
    counts: dict[str, list[int]] = {t: [] for t in RAW_TABLES}
    with warehouse.connect() as conn:
        label_bits_table(conn)
        for day in partition_days(context):
            sim = world.day(day)
            for table in RAW_TABLES:
                conn.register("sim", getattr(sim, SIM_FIELD[table]))
                counts[table].append(stage(conn, f"stage_{table}", RAW_SQL[table], {"ds": day}))
            replace_partitions(conn, day, {table: f"stage_{table}" for table in RAW_TABLES})
            context.log.info(f"simulated {day}: {sim.labels.num_rows} interacting pairs")
    for table, n in counts.items():
        yield dg.MaterializeResult(asset_key=key(table), metadata={
            "dagster/row_count": n[-1], "world": f"{simulator.preset} (seed {simulator.seed})", "rows_per_day": n})


# ---------------------------------------------------------------------------------------------------------------------
@warehouse_asset("interaction_days", events_partitions, "candidates", [dep("interaction_graph_labels_daily")],
                 [checks.UPSTREAM_DAYS_PRESENT, checks.NON_EMPTY, checks.UNIQUE_PAIRS])
def interaction_days(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Incremental daily per-pair aggregate: one row per (day, A, B) with the day's label set as a bitmask. Candidates
    read 31 of these narrow partitions instead of re-reading 31 days of raw label arrays."""
    with warehouse.connect() as conn:
        label_bits_table(conn)

        def build(day):
            present = checks.upstream_days_present(conn, {"interaction_graph_labels_daily": [day]})
            if not present.passed:
                return [present], {}
            unknown = conn.execute(
                "SELECT DISTINCT name FROM (SELECT unnest(labels) AS name FROM interaction_graph_labels_daily "
                "WHERE ds = $ds) WHERE name NOT IN (SELECT name FROM label_bits)", {"ds": day}).fetchall()
            if unknown:
                raise dg.Failure(f"{SCHEMA}.interaction_graph_labels_daily partition {day}: column labels holds unknown "
                                 f"label names {sorted(u[0] for u in unknown)}; known names are in realgraph_assets/labels.py")
            n = stage(conn, "stage_interaction_days", sql("interaction_days"), {"ds": day})
            return ([present, checks.non_empty(conn, "stage_interaction_days"),
                     checks.unique_pairs(conn, "stage_interaction_days")], {"dagster/row_count": n})

        yield from write_days(context, conn, "interaction_days", build)


class TweetingFollowsConfig(dg.Config):
    max_follows_per_source: int = Field(2000, description="Follow edges kept per source, by destination tweet count (SPEC §2.3).")


@warehouse_asset("tweeting_follows", tweet_count_partitions, "candidates",
                 [dep("valid_user_follows"), dep("public_tweets", -(TWEET_COUNT_DAYS - 1))],
                 [checks.UPSTREAM_DAYS_PRESENT, checks.UNIQUE_PAIRS])
def tweeting_follows(context: dg.AssetExecutionContext, warehouse: Warehouse, config: TweetingFollowsConfig):
    """Follow edges A->B of the day with B's public tweet count over the last 4 days, top 2000 per source."""
    with warehouse.connect() as conn:
        def build(day):
            present = checks.upstream_days_present(conn, {
                "valid_user_follows": [day], "public_tweets": span(day, -(TWEET_COUNT_DAYS - 1))})
            if not present.passed:
                return [present], {}
            n = stage(conn, "stage_tweeting_follows", sql("tweeting_follows"),
                      {"ds": day, "tweet_count_days": TWEET_COUNT_DAYS,
                       "max_follows_per_source": config.max_follows_per_source})
            return [present, checks.unique_pairs(conn, "stage_tweeting_follows")], {"dagster/row_count": n}

        yield from write_days(context, conn, "tweeting_follows", build)


class CandidatesConfig(dg.Config):
    max_candidates_per_source: int = Field(2000, description="K of the per-source RANK cut (SPEC §1.3); ties are kept.")


@warehouse_asset("candidates", candidate_partitions, "candidates",
                 [dep("interaction_days", -(LOOKBACK_DAYS - 1)), dep("tweeting_follows"),
                  dep("interaction_graph_agg_negative_edge_snapshot")],
                 [checks.UPSTREAM_DAYS_PRESENT, checks.NON_EMPTY, checks.UNIQUE_PAIRS])
def candidates(context: dg.AssetExecutionContext, warehouse: Warehouse, config: CandidatesConfig):
    """Candidate pairs of day T with their ten features (SPEC §1.3, §1.8): pairs that interacted in [T-30, T] or
    are tweeting follow edges, negative edges removed, top 2000 per source by (num_days, num_tweets) with RANK ties."""
    with warehouse.connect() as conn:
        def build(day):
            present = checks.upstream_days_present(conn, {
                "interaction_days": span(day, -(LOOKBACK_DAYS - 1)), "tweeting_follows": [day],
                "interaction_graph_agg_negative_edge_snapshot": [day]})
            if not present.passed:
                return [present], {}
            params = {"ds": day, "lookback_days": LOOKBACK_DAYS,
                      "max_candidates_per_source": config.max_candidates_per_source,
                      **{f"bit_{n.removeprefix('num_')}": BIT[n] for n in
                         ("num_follows", "num_favorites", "num_tweet_clicks", "num_profile_views")}}
            n = stage(conn, "stage_candidates", sql("candidates"), params)
            sources = conn.execute("SELECT count(DISTINCT source_id) FROM stage_candidates").fetchone()[0]
            return ([present, checks.non_empty(conn, "stage_candidates"), checks.unique_pairs(conn, "stage_candidates")],
                    {"dagster/row_count": n, "sources": sources, "preview": preview(conn, "FROM stage_candidates")})

        yield from write_days(context, conn, "candidates", build)


class SamplingConfig(dg.Config):
    mod_remainder: int = Field(0, description="$mod_remainder$ of SPEC §1.4: first FARM_FINGERPRINT bucket (0-99) kept.")
    sample_percent: int = Field(
        10, description="Buckets kept, i.e. the sample rate in per cent. SPEC §1.4 keeps 1 bucket of 100, sized for "
        "Twitter's billions of candidate pairs; the embedded worlds have 10^4-10^5 users, where 1 % leaves a few "
        "thousand training rows a day, so the default keeps 10. Set 1 for the literal rule.")


@warehouse_asset("candidates_sampled", candidate_partitions, "candidates", [dep("candidates")],
                 [checks.NON_EMPTY, checks.UNIQUE_PAIRS])
def candidates_sampled(context: dg.AssetExecutionContext, warehouse: Warehouse, config: SamplingConfig):
    """Deterministic fingerprint sample of the day's candidates (SPEC §1.4): a pair is kept iff
    MOD(ABS(FARM_FINGERPRINT('<source_id>_<destination_id>')), 100) falls in the configured buckets, so the same pair
    gets the same decision on every day and every machine."""
    if not (0 <= config.mod_remainder < 100 and 1 <= config.sample_percent <= 100):
        raise dg.Failure(f"sampling config out of range: mod_remainder={config.mod_remainder}, "
                         f"sample_percent={config.sample_percent}")
    with warehouse.connect() as conn:
        def build(day):
            pairs = conn.execute("SELECT source_id, destination_id FROM candidates WHERE ds = $ds", {"ds": day}).to_arrow_table()
            if pairs.num_rows == 0:
                raise dg.Failure(f"{SCHEMA}.candidates partition {day} is missing or empty")
            b = hashing.pair_bucket(pairs["source_id"], pairs["destination_id"])
            kept = pairs.filter(pa.array((b - config.mod_remainder) % 100 < config.sample_percent))
            conn.register("kept_pairs", kept)
            n = stage(conn, "stage_candidates_sampled",
                      "SELECT c.* FROM candidates c SEMI JOIN kept_pairs k "
                      "ON k.source_id = c.source_id AND k.destination_id = c.destination_id WHERE c.ds = $ds", {"ds": day})
            return ([checks.non_empty(conn, "stage_candidates_sampled"),
                     checks.unique_pairs(conn, "stage_candidates_sampled")],
                    {"dagster/row_count": n, "candidates": pairs.num_rows, "sample_rate": n / pairs.num_rows})

        yield from write_days(context, conn, "candidates_sampled", build)


# ---------------------------------------------------------------------------------------------------------------------
class LabelsConfig(dg.Config):
    min_positive_rate: float = Field(0.005, description="Lowest acceptable share of positives in a day (blocking).")
    max_positive_rate: float = Field(0.6, description="Highest acceptable share of positives in a day (blocking).")


class TrainConfig(dg.Config):
    seed: int = Field(0, description="Seed of the deterministic downsampling draw.")


class ModelConfig(dg.Config):
    boosted_trees: training.BoostedTreesConfig = Field(default_factory=training.BoostedTreesConfig)
    include_id_features: bool = Field(True, description="Use source_id/destination_id as numeric features, as BQML does (SPEC §6.6).")
    light_ranker_c: float = Field(1.0, description="Inverse L2 strength of the logistic regression.")


def variant_assets(variant: str) -> list:
    suffix, positive_mask = VARIANTS[variant]
    labeled_table, train_table = f"labeled_candidates{suffix}", f"train{suffix}"

    @warehouse_asset(labeled_table, label_partitions, "training",
                     [dep("candidates_sampled"), dep("interaction_days", LABEL_DELAY_DAYS, LABEL_DELAY_DAYS),
                      dep("interaction_graph_agg_negative_edge_snapshot", LABEL_DELAY_DAYS, LABEL_DELAY_DAYS)],
                     [checks.UPSTREAM_DAYS_PRESENT, checks.NON_EMPTY, checks.UNIQUE_PAIRS, checks.POSITIVE_RATE_IN_BAND],
                     description=f"Day T's sampled candidates labeled with day T+1 ({variant}: label = 1 iff A did "
                                 f"{'any' if variant == 'prod' else 'an explicit'} interaction toward B on T+1), "
                                 "negative edges removed (SPEC §1.5-1.6).")
    def labeled(context: dg.AssetExecutionContext, warehouse: Warehouse, config: LabelsConfig):
        with warehouse.connect() as conn:
            def build(day):
                # A missing T+1 would otherwise read as "no interactions": all-negative labels and no error.
                next_day = day + dt.timedelta(days=LABEL_DELAY_DAYS)
                present = checks.upstream_days_present(conn, {
                    "candidates_sampled": [day], "interaction_days": [next_day],
                    "interaction_graph_agg_negative_edge_snapshot": [next_day]})
                if not present.passed:
                    return [present], {}
                n = stage(conn, f"stage_{labeled_table}", sql("labeled_candidates"),
                          {"ds": day, "positive_mask": positive_mask})
                rel = f"stage_{labeled_table}"
                rate = checks.positive_rate_in_band(conn, rel, config.min_positive_rate, config.max_positive_rate)
                return ([present, checks.non_empty(conn, rel), checks.unique_pairs(conn, rel), rate],
                        {"dagster/row_count": n, "positive_rate": rate.metadata["positive_rate"].value,
                         "preview": preview(conn, f"FROM {rel}"), "recent_days": recent_days(conn, rel, day)})

            yield from write_days(context, conn, labeled_table, build)

    @warehouse_asset(train_table, train_partitions, "training", [dep(labeled_table, -(TRAIN_WINDOW_DAYS - 1))],
                     [checks.UPSTREAM_DAYS_PRESENT, checks.NON_EMPTY],
                     description=f"The {variant} training set of day T: the labeled days [T-6, T], negatives kept "
                                 "with probability p and positives with 1-p (p = the window's positive rate) for a "
                                 "~50/50 set, a deterministic draw per (pair, day, seed), the inverse keep probability "
                                 "as weight, and the SPEC §1.9 if_eval user-hash split.")
    def train(context: dg.AssetExecutionContext, warehouse: Warehouse, config: TrainConfig):
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

    return [labeled, train] + model_assets(variant, labeled_table, train_table)


def recent_days(conn, staged: str, day: dt.date, days: int = 14) -> dg.MetadataValue:
    """Row count and positive rate of the last ``days`` labeled days (the staged day included)."""
    table = staged.removeprefix("stage_")
    frame = conn.execute(f"""
        SELECT ds, count(*) AS rows, avg(label) AS positive_rate FROM (
            SELECT ds, label FROM {table} WHERE ds BETWEEN $first AND $last AND ds <> $day
            UNION ALL SELECT ds, label FROM {staged})
        GROUP BY ds ORDER BY ds""", {"first": day - dt.timedelta(days=days - 1), "last": day, "day": day}).pl()
    return plots.history(frame["ds"].to_list(), {"rows": frame["rows"].to_list(),
                                                  "positive rate": frame["positive_rate"].to_list()},
                         f"{table}: last {days} days")


def build_train(labeled: pl.DataFrame, seed: int) -> pl.DataFrame:
    """SPEC §1.7 downsampling (deterministic, SPEC §6.4) with weights and the SPEC §1.9 if_eval split."""
    pos_rate, neg_rate = downsampling.realgraph_keep_rates(float(labeled["label"].mean()))
    label = labeled["label"].to_numpy()
    draw = hashing.uniform(labeled["source_id"].to_arrow(), labeled["destination_id"].to_arrow(),
                           labeled["label_ds"].cast(pl.Int32).to_arrow(), pa.array(np.full(labeled.height, seed)))
    kept = downsampling.keep(label, draw, pos_rate, neg_rate)
    return labeled.filter(pl.Series(kept)).with_columns(
        weight=pl.Series(downsampling.weight(label[kept], pos_rate, neg_rate)),
        if_eval=pl.Series(hashing.user_bucket(labeled["source_id"].to_arrow().filter(pa.array(kept)), 10) == 0),
    )


# ---------------------------------------------------------------------------------------------------------------------
MODEL_KINDS = {
    "boosted_trees": "LightGBM boosted trees with the BigQuery ML options of SPEC §1.10, early-stopped on the if_eval users.",
    "light_ranker": "Logistic regression on z-scored features; mean and std fit on the training split only (SPEC §5, §6.12).",
}


def model_assets(variant: str, labeled_table: str, train_table: str) -> list:
    suffix = VARIANTS[variant][0]
    return [model_asset(variant, kind, what, suffix, labeled_table, train_table) for kind, what in MODEL_KINDS.items()]


def model_dir(kind: str, suffix: str):
    """Where each day's model of a kind and variant is saved (one sub-directory per day) and its CHAMPION pointer."""
    return home() / "models" / SCHEMA / f"{kind}{suffix}"


def model_asset(variant, kind, what, suffix, labeled_table, train_table):
    @dg.asset(key=key(f"{kind}{suffix}"), owners=OWNERS, automation_condition=WHEN_INPUTS_READY,
              group_name="realgraph_models", kinds={"lightgbm" if kind == "boosted_trees" else "sklearn"},
              ins={"train": dg.AssetIn(key(train_table)),
                   "holdout": dg.AssetIn(key(labeled_table), partition_mapping=window(1, 1))},
              deps=[dep("planted_interaction_probability", LABEL_DELAY_DAYS + 1, LABEL_DELAY_DAYS + 1)],
              partitions_def=model_partitions, pool=POOL,
              description=f"{variant}: {what} Trained on day T's train set and evaluated on day T+1's labeled "
                          "candidates (a time-based holdout) against the num_days heuristic and the simulator's oracle.")
    def model(context: dg.AssetExecutionContext, warehouse: Warehouse, config: ModelConfig,
              train: pl.DataFrame, holdout: pl.DataFrame):
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

    return model


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


ALL_ASSETS = [simulated_logs, interaction_days, tweeting_follows, candidates, candidates_sampled,
              *[a for v in VARIANTS for a in variant_assets(v)]]
