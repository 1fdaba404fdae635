"""The Recap ("For You") asset graph: training data and models of the heavy and light rankers, one day at a time.

raw logs (simulated: users, follows, tweets, impressions, engagements, planted probabilities)
-> impressions_labeled (ten 0/1 labels per impression, engagements attributed within a window, T and T+1)
-> impression_features (point-in-time: only events strictly before each impression)
-> train_<head> x 10 (per-head negative downsampling, SPEC §3.5 weights)
-> boosted_trees_<head>, light_ranker_<head> (time-based split) + model_evaluations, ranking_evaluations

Every day is staged, checked (blocking checks evaluated before anything is written) and committed in one transaction.
"""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field
from sklearn.linear_model import LogisticRegression

from feedtrain import checks, daily, downsampling, hashing, training
from feedtrain.automation import LANDS_DAILY, OWNERS, WHEN_INPUTS_READY
from feedtrain.checks import CheckDef
from feedtrain.daily import span
from feedtrain.partitions import (
    RECAP_CANDIDATE_AGE_DAYS,
    RECAP_FEATURE_WINDOW_DAYS,
    RECAP_LABEL_DELAY_DAYS,
    RECAP_TRAIN_DAYS,
    RECAP_VALID_DAYS,
    partition_days,
    recap_events_partitions,
    recap_feature_partitions,
    recap_label_partitions,
    recap_model_partitions,
    window,
)
from feedtrain.warehouse import Warehouse, home, markdown_table, preview, stage, transaction

from . import light_ranker, metrics
from .features import (
    EVERY_IMPRESSION,
    FEATURES,
    POINT_IN_TIME,
    every_impression,
    point_in_time,
    popularity,
)
from .heads import HEADS, LABEL_COLUMNS, keep_rates, score
from .resources import SCHEMA, SQL_DIR, RecapSimulator

POLICY = dg.BackfillPolicy.single_run()  # a backfill is one run per asset range: one DuckDB writer, no lock fights
POOL = "duckdb_recap"
REALTIME_HOURS = 24  # "1 day" real-time viewer aggregates: [ts - 24 h, ts)
REALGRAPH_DAYS = 31  # SPEC §1.3 look-back of the Real-Graph-style edge features
DECAY = 0.955  # SPEC §2.4 daily decay (ONE_MINUS_ALPHA)


LOCATION = daily.Location(SCHEMA, SQL_DIR)
key, sql, dep = LOCATION.key, LOCATION.sql, LOCATION.dep


def ensure_table(conn, table: str, staged: str) -> None:
    """Tables whose columns come from heads.py or the feature query take their shape from their first staged day; if
    the heads or features changed since, say so instead of failing inside the INSERT."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM {staged} LIMIT 0")
    have = {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                       "AND table_schema = current_schema()", [table]).fetchall()}
    want = {d[0] for d in conn.execute(f"SELECT * FROM {staged} LIMIT 0").description}
    if have != want:
        raise dg.Failure(f"{SCHEMA}.{table} has columns {sorted(have - want)} that the new rows lack and lacks "
                         f"{sorted(want - have)}: the heads or features changed. Drop the table (DROP TABLE "
                         f"{SCHEMA}.{table}) and rebuild its days.")


def for_asset(result: dg.AssetCheckResult, asset: dg.AssetKey) -> dg.AssetCheckResult:
    """A shared check result, addressed to one asset of a multi-asset."""
    return dg.AssetCheckResult(asset_key=asset, check_name=result.check_name, passed=result.passed,
                               description=result.description, metadata=result.metadata)


def commit(conn, tables: dict[str, str], day: dt.date) -> None:
    """Replace day ``day`` of several tables (table -> staged relation) in one transaction, and record each in the
    loaded_partitions ledger (a day may hold no rows: no new follows, or no kept row of a rare head)."""
    counts = {t: conn.execute(f"SELECT count(*) FROM {s}").fetchone()[0] for t, s in tables.items()}
    conn.register("ledger_rows", pa.table({"table_name": list(counts), "ds": [day] * len(counts),
                                           "rows": list(counts.values())}))
    with transaction(conn):
        for table, staged in tables.items():
            conn.execute(f"DELETE FROM {table} WHERE ds = ?", [day])
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {staged}")
        conn.execute("DELETE FROM loaded_partitions WHERE ds = ? AND table_name IN (SELECT table_name FROM ledger_rows)",
                     [day])
        conn.execute("INSERT INTO loaded_partitions SELECT table_name, ds, rows, now()::TIMESTAMP FROM ledger_rows")


# ---------------------------------------------------------------------------------------------------------------------
# Raw logs: the embedded simulator writes one day of every raw table in one step.
RAW_TABLES = {
    "users": "Users as of 00:00 of the day: account creation time, verified flag.",
    "follows": "Follow edges made that day, with their time (the first day also holds the graph from before it).",
    "tweets": "Tweets posted that day with their content flags and text quality.",
    "impressions": "Tweets shown on the home timeline that day: viewer, tweet, author, time, position.",
    "engagements": "Engagements that happened that day (SPEC §3.1 actions and clicks); an engagement after midnight "
                   "with an impression of the day before is in this day's partition.",
    "planted_engagement_probability": "Simulator only: each impression's planted probability of every head's label "
                                      "(the oracle) and its planted utility (v1-weighted sum), the NDCG relevance.",
}
RAW_DAYS = CheckDef("upstream_days_present", "Every upstream day this partition reads exists (blocking).")


def ledger_days_present(conn, needed: dict[str, list[dt.date]]) -> dg.AssetCheckResult:
    """Like feedtrain.checks.upstream_days_present, but through the loaded_partitions ledger, so a day written with no
    rows (no new follows that day; no kept row of the report head) still counts as present."""
    missing = {}
    for table, days in needed.items():
        have = {r[0] for r in conn.execute("SELECT DISTINCT ds FROM loaded_partitions WHERE table_name = ? AND ds "
                                           "BETWEEN ? AND ?", [table, min(days), max(days)]).fetchall()}
        gone = sorted(set(days) - have)
        if gone:
            missing[table] = [d.isoformat() for d in gone]
    text = "; ".join(f"{t}: {', '.join(d[:5])}{' ...' if len(d) > 5 else ''}" for t, d in missing.items())
    return dg.AssetCheckResult(
        check_name=RAW_DAYS.name, passed=not missing,
        description=f"missing upstream days: {text}" if missing else "all upstream days present",
        metadata={"missing": dg.MetadataValue.json(missing), "days_checked": sum(len(d) for d in needed.values())})


@dg.multi_asset(
    specs=[dg.AssetSpec(key(t), description=d, group_name="recap_sources", kinds={"duckdb"}, owners=OWNERS,
                        automation_condition=LANDS_DAILY,
                        metadata={"partition_expr": "ds"}) for t, d in RAW_TABLES.items()],
    partitions_def=recap_events_partitions, backfill_policy=POLICY, pool=POOL,
)
def simulated_logs(context: dg.AssetExecutionContext, warehouse: Warehouse, simulator: RecapSimulator):
    """The embedded default data source: one simulated day of every raw Recap log, all tables of a day replaced in one
    transaction."""
    world = simulator.world()
    counts: dict[str, list[int]] = {t: [] for t in RAW_TABLES}
    field = {"planted_engagement_probability": "planted"}
    with warehouse.connect() as conn:
        for day in partition_days(context):
            sim = world.day(day)
            for table in RAW_TABLES:
                conn.register("sim", getattr(sim, field.get(table, table)))
                counts[table].append(stage(conn, f"stage_{table}", "SELECT *, $ds::DATE AS ds FROM sim", {"ds": day}))
                ensure_table(conn, table, f"stage_{table}")
            commit(conn, {t: f"stage_{t}" for t in RAW_TABLES}, day)
            context.log.info(f"simulated {day}: {sim.impressions.num_rows} impressions, "
                             f"{sim.engagements.num_rows} engagements")
    for table, n in counts.items():
        yield dg.MaterializeResult(asset_key=key(table), metadata={
            "dagster/row_count": n[-1], "world": f"{simulator.preset} (seed {simulator.seed})", "rows_per_day": n})


# ---------------------------------------------------------------------------------------------------------------------
class LabelsConfig(dg.Config):
    attribution_window_minutes: int = Field(
        180, description="W of SPEC §3.4 in minutes: an engagement counts for an impression iff it happens in "
        "[impression, impression + W). Default 3 hours. The simulator's oracle is exact for 120 to 360 minutes; at most "
        "24 hours, since only the next day's engagements are read.")


LABEL_CONSISTENCY = CheckDef("label_consistency", "Every head's implication holds (heads.py `implies`): "
                             "reply_engaged_by_author => replied, good_clicked_v1 => favorited or replied, "
                             "video_playback_50 => the tweet has a video (blocking).")
POSITIVE_RATES = CheckDef("positive_rate_in_band", "Each head's positive rate lies in its band (heads.py); the report "
                          "head's band starts at 0, since a small day may have no report (blocking).")


def label_sql() -> str:
    columns = ",\n           ".join(f"{h.label_sql} AS {h.column}" for h in HEADS.values())
    outputs = ", ".join(f"coalesce(l.{c}, false)::INTEGER AS {c}" for c in LABEL_COLUMNS)
    return sql("impressions_labeled").replace("{label_columns}", columns).replace("{label_outputs}", outputs)


def label_consistency(conn, staged: str, day: dt.date) -> dg.AssetCheckResult:
    rules = {h.column: h.implies for h in HEADS.values() if h.implies}
    counts = conn.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE s.{c} = 1 AND NOT coalesce({rule}, false))" for c, rule in rules.items())
        + f" FROM {staged} s LEFT JOIN tweets t ON t.tweet_id = s.tweet_id AND t.ds BETWEEN $first AND $day",
        {"first": day - dt.timedelta(days=RECAP_CANDIDATE_AGE_DAYS), "day": day}).fetchone()
    broken = {f"{c} => {rule}": int(n) for (c, rule), n in zip(rules.items(), counts) if n}
    return dg.AssetCheckResult(
        check_name=LABEL_CONSISTENCY.name, passed=not broken,
        description="all label implications hold" if not broken else f"rows breaking an implication: {broken}",
        metadata={"violations": dg.MetadataValue.json(broken), "rules": dg.MetadataValue.json(rules)})


def positive_rates(conn, relation: str) -> tuple[dg.AssetCheckResult, pl.DataFrame]:
    row = conn.execute("SELECT count(*), " + ", ".join(f"coalesce(sum({c}), 0)" for c in LABEL_COLUMNS)
                       + f" FROM {relation}").fetchone()
    n, positives = row[0], [int(p) for p in row[1:]]
    table = pl.DataFrame({"head": list(HEADS), "positive_rate": [p / n if n else float("nan") for p in positives],
                          "band_low": [h.band[0] for h in HEADS.values()],
                          "band_high": [h.band[1] for h in HEADS.values()], "positives": positives})
    out = table.filter(~((pl.col("positive_rate") >= pl.col("band_low")) & (pl.col("positive_rate") <= pl.col("band_high"))))
    return dg.AssetCheckResult(
        check_name=POSITIVE_RATES.name, passed=n > 0 and out.is_empty(),
        description=("every head in its band" if out.is_empty() else
                     "out of band: " + ", ".join(f"{h} {r:.5f}" for h, r in zip(out["head"], out["positive_rate"]))),
        metadata={"rows": n, "rates": dg.MetadataValue.md(markdown_table(table))}), table


@dg.asset(key=key("impressions_labeled"), owners=OWNERS, automation_condition=WHEN_INPUTS_READY,
          deps=[dep("impressions"), dep("engagements", 0, RECAP_LABEL_DELAY_DAYS),
                dep("tweets", -RECAP_CANDIDATE_AGE_DAYS)],
          partitions_def=recap_label_partitions, group_name="recap_features", kinds={"duckdb"}, backfill_policy=POLICY,
          pool=POOL, metadata={"partition_expr": "ds"},
          check_specs=checks.specs(key("impressions_labeled"), RAW_DAYS, EVERY_IMPRESSION, LABEL_CONSISTENCY,
                                   POSITIVE_RATES))
def impressions_labeled(context: dg.AssetExecutionContext, warehouse: Warehouse, config: LabelsConfig):
    """One row per impression of day T with the ten 0/1 labels of SPEC §3.1 (recap_assets/heads.py): engagements of
    the viewer on the tweet within the attribution window after the impression (SPEC §3.4), read from T and T+1."""
    if not 1 <= config.attribution_window_minutes <= 24 * 60 * RECAP_LABEL_DELAY_DAYS:
        raise dg.Failure(f"attribution_window_minutes={config.attribution_window_minutes} must be in "
                         f"[1, {24 * 60 * RECAP_LABEL_DELAY_DAYS}]")
    query = label_sql()
    with warehouse.connect() as conn:
        def build(day):
            present = ledger_days_present(conn, {"impressions": [day], "engagements": span(day, 0, RECAP_LABEL_DELAY_DAYS),
                                              "tweets": span(day, -RECAP_CANDIDATE_AGE_DAYS)})
            if not present.passed:
                return [present], {}
            rel = "stage_impressions_labeled"
            n = stage(conn, rel, query, {"ds": day, "window_minutes": config.attribution_window_minutes,
                                         "label_delay_days": RECAP_LABEL_DELAY_DAYS})
            ensure_table(conn, "impressions_labeled", rel)
            rates, table = positive_rates(conn, rel)
            return ([present, every_impression(conn, rel, day), label_consistency(conn, rel, day), rates],
                    {"dagster/row_count": n, "attribution_window_minutes": config.attribution_window_minutes,
                     **{f"positive_rate/{h}": r for h, r in zip(table["head"], table["positive_rate"])},
                     "positive_rates": dg.MetadataValue.md(markdown_table(table)),
                     "preview": preview(conn, f"FROM {rel}")})

        yield from daily.write_days(context, conn, SCHEMA, "impressions_labeled", build)


# ---------------------------------------------------------------------------------------------------------------------
class FeaturesConfig(dg.Config):
    point_in_time_sample_rows: int = Field(
        200, description="Rows per day recomputed from raw events by the point-in-time check (deterministic sample).")


def feature_params(day: dt.date) -> dict:
    return {"ds": day, "window_days": RECAP_FEATURE_WINDOW_DAYS, "realtime_hours": REALTIME_HOURS,
            "realgraph_days": REALGRAPH_DAYS, "decay": DECAY, "candidate_days": RECAP_CANDIDATE_AGE_DAYS}


def stage_features(conn, day: dt.date, query: str | None = None) -> int:
    return stage(conn, "stage_impression_features", query or sql("impression_features"), feature_params(day))


@dg.asset(key=key("impression_features"), owners=OWNERS, automation_condition=WHEN_INPUTS_READY,
          deps=[dep("impressions", -RECAP_FEATURE_WINDOW_DAYS), dep("engagements", -RECAP_FEATURE_WINDOW_DAYS),
                dep("tweets", -RECAP_CANDIDATE_AGE_DAYS), dep("users"),
                # every follow made before T: a window reaching back past the first day, clamped to it by Dagster
                dg.AssetDep(key("follows"), partition_mapping=window(-100_000, 0))],
          partitions_def=recap_feature_partitions, group_name="recap_features", kinds={"duckdb"},
          backfill_policy=POLICY, pool=POOL, metadata={"partition_expr": "ds"},
          check_specs=checks.specs(key("impression_features"), RAW_DAYS, EVERY_IMPRESSION, POINT_IN_TIME))
def impression_features(context: dg.AssetExecutionContext, warehouse: Warehouse, config: FeaturesConfig):
    """Point-in-time features of every impression of day T (features.py): viewer, author and viewer x author
    aggregates over the 50 days before T, viewer counts over the 24 hours before the impression, the tweet's real-time
    counters as of the impression, content flags, tweet age, in-network (a follow made before the impression) and
    Real-Graph-style viewer->author edge features. Nothing at or after the impression's time is read; a blocking check
    recomputes a sample of rows from raw events with an independent query."""
    first_day = recap_events_partitions.start.date()
    with warehouse.connect() as conn:
        def build(day):
            present = ledger_days_present(conn, {
                "impressions": span(day, -RECAP_FEATURE_WINDOW_DAYS), "engagements": span(day, -RECAP_FEATURE_WINDOW_DAYS),
                "tweets": span(day, -RECAP_CANDIDATE_AGE_DAYS), "users": [day],
                "follows": span(day, (first_day - day).days)})
            if not present.passed:
                return [present], {}
            rel = "stage_impression_features"
            n = stage_features(conn, day)
            ensure_table(conn, "impression_features", rel)
            pit = point_in_time(conn, rel, day, feature_params(day), config.point_in_time_sample_rows)
            return ([present, every_impression(conn, rel, day), pit],
                    {"dagster/row_count": n, "features": len(FEATURES),
                     "in_network_share": conn.execute(f"SELECT avg(in_network) FROM {rel}").fetchone()[0],
                     "point_in_time_rows_checked": pit.metadata["sampled_rows"].value,
                     "preview": preview(conn, f"SELECT impression_id, {', '.join(FEATURES[:12])} FROM {rel}")})

        yield from daily.write_days(context, conn, SCHEMA, "impression_features", build)


# ---------------------------------------------------------------------------------------------------------------------
class DatasetConfig(dg.Config):
    seed: int = Field(0, description="Seed of the deterministic downsampling draw.")
    neg_rate_scale: float = Field(
        1.0, description="Multiplies every head's negative keep rate (heads.keep_rates: SPEC §3.5 rates scaled to the "
        "data's base rate, about one kept negative per kept positive).")


def train_table(head: str) -> str:
    return f"train_{head}"


def head_salt(head: str) -> int:
    """A stable number per head (from its name), so each head gets its own draw and adding a head changes no other."""
    return int(hashing.fingerprint64([head])[0])


def downsample(frame: pl.DataFrame, head: str, seed: int, neg_rate_scale: float) -> tuple[pl.DataFrame, float, float]:
    """SPEC §3.5: keep positives with pos_rate and negatives with neg_rate (a deterministic draw per impression, head
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


@dg.multi_asset(
    specs=[dg.AssetSpec(key(train_table(h)), group_name="recap_training", owners=OWNERS, automation_condition=WHEN_INPUTS_READY, kinds={"duckdb"},
                        deps=[dep("impressions_labeled"), dep("impression_features")], metadata={"partition_expr": "ds"},
                        description=f"Training set of the {h} head ({HEADS[h].label}) for day T: every impression of T "
                                    "with its features and that head's label, negatives downsampled at the SPEC §3.5 "
                                    "rate scaled to the base rate, weight y/pos_rate + (1-y)/neg_rate.")
           for h in HEADS],
    check_specs=[s for h in HEADS for s in checks.specs(key(train_table(h)), checks.UPSTREAM_DAYS_PRESENT)],
    partitions_def=recap_label_partitions, backfill_policy=POLICY, pool=POOL,
)
def training_datasets(context: dg.AssetExecutionContext, warehouse: Warehouse, config: DatasetConfig):
    """One training dataset per head, from the same labeled and featurised impressions, all heads of a day committed
    in one transaction."""
    meta: dict[str, dict] = {}
    results: list[dg.AssetCheckResult] = []
    with warehouse.connect() as conn:
        for day in partition_days(context):
            present = checks.upstream_days_present(conn, {"impressions_labeled": [day], "impression_features": [day]})
            results = [for_asset(present, key(train_table(h))) for h in HEADS]
            yield from checks.gate(results, f"{SCHEMA}.train_* partition {day}")
            frame = conn.execute(
                f"SELECT f.*, {', '.join('l.' + c for c in LABEL_COLUMNS)} FROM impression_features f "
                "JOIN impressions_labeled l USING (impression_id) WHERE f.ds = $ds AND l.ds = $ds", {"ds": day}).pl()
            staged = {}
            for h, head in HEADS.items():
                rows, pos_rate, neg_rate = downsample(frame, h, config.seed, config.neg_rate_scale)
                conn.register("head_rows", rows.with_columns(ds=pl.lit(day)).to_arrow())
                n = stage(conn, f"stage_{train_table(h)}", "SELECT * FROM head_rows")
                ensure_table(conn, train_table(h), f"stage_{train_table(h)}")
                staged[train_table(h)] = f"stage_{train_table(h)}"
                positives = int(rows["label"].sum())
                w = rows["weight"].to_numpy()
                meta[h] = {"dagster/row_count": n, "positives": positives, "negatives": n - positives,
                           "pos_rate": pos_rate, "neg_rate": neg_rate,
                           "labeled_positive_rate": float(frame[head.column].mean()),
                           "reweighted_positive_rate": float((w * rows["label"].to_numpy()).sum() / w.sum()) if n else 0.0,
                           "kept_positive_share": positives / n if n else 0.0}
            commit(conn, staged, day)
            context.log.info(f"{SCHEMA}.train_* {day}: " + ", ".join(f"{h} {m['dagster/row_count']}" for h, m in meta.items()))
    for h in HEADS:
        yield dg.MaterializeResult(asset_key=key(train_table(h)), metadata=meta[h],
                                   check_results=[r for r in results if r.asset_key == key(train_table(h))])


# ---------------------------------------------------------------------------------------------------------------------
class RecapBoostedTreesConfig(training.BoostedTreesConfig):
    """LightGBM for the heavy-ranker stand-in. SPEC §1.10's BigQuery ML options are Real Graph's, not Recap's (the
    heavy ranker is a MaskNet, SPEC §3.6), so: more rounds at a lower rate, every row in every tree, LightGBM's usual
    minimum leaf size, early stopping on the last training day. (The defaults are redeclared in a subclass because
    Dagster builds a nested config's defaults from its class, ignoring a ``default_factory``.)"""

    n_estimators: int = Field(300, description="Boosting rounds at most (early stopping on the last training day).")
    learning_rate: float = Field(0.08, description="Shrinkage per round.")
    num_leaves: int = Field(31, description="Leaves per tree (LightGBM's default).")
    subsample: float = Field(1.0, description="Share of rows per tree: all of them (the SPEC's 0.01 is Real Graph's).")
    min_rows_per_tree: int = Field(0, description="Unused with subsample 1.0.")
    min_child_samples: int = Field(40, description="Minimum rows per leaf.")
    min_rel_progress: float = Field(0.0005, description="Early stop once the last training day's log loss improves "
                                    "by less than this share in a round.")


class ModelConfig(dg.Config):
    boosted_trees: RecapBoostedTreesConfig = Field(default_factory=RecapBoostedTreesConfig)
    light_ranker_bins: int = Field(20, description="Quantile bins per feature of the light ranker (SPEC §4: 20).")
    light_ranker_c: float = Field(
        0.05, description="Inverse L2 strength of the light ranker's logistic regression (C=1 overfits the ~900 bins on "
        "a tiny world's few thousand rows: negative RCE).")
    weights_version: str = Field("v1", description="SPEC §3.2 score weights of the headline NDCG: v1 (default) or v2.")
    min_positives: int = Field(5, description="A head with fewer training positives is not trained (noted, not failed).")


def split_days(day: dt.date) -> tuple[list[dt.date], list[dt.date]]:
    """SPEC §5: the model of day T trains on the RECAP_TRAIN_DAYS days before its validation days and validates on
    the RECAP_VALID_DAYS days ending at T; no day is in both."""
    return (span(day, -(RECAP_TRAIN_DAYS + RECAP_VALID_DAYS - 1), -RECAP_VALID_DAYS),
            span(day, -(RECAP_VALID_DAYS - 1)))


MODEL_KINDS = {"boosted_trees": "LightGBM boosted trees (heavy-ranker stand-in)",
               "light_ranker": "Earlybird-style logistic regression on 20 quantile bins per feature (SPEC §4, §6.11)"}


def model_key(kind: str, head: str) -> dg.AssetKey:
    return key(f"{kind}_{head}")


_TRAIN_START, _TRAIN_END = -(RECAP_TRAIN_DAYS + RECAP_VALID_DAYS - 1), -RECAP_VALID_DAYS
_VALID_DEPS = [dep("impression_features", -(RECAP_VALID_DAYS - 1)), dep("impressions_labeled", -(RECAP_VALID_DAYS - 1)),
               dep("planted_engagement_probability", -(RECAP_VALID_DAYS - 1))]


@dg.multi_asset(
    specs=[dg.AssetSpec(model_key(kind, h), group_name="recap_models", owners=OWNERS, automation_condition=WHEN_INPUTS_READY,
                        kinds={"lightgbm" if kind == "boosted_trees" else "sklearn"},
                        deps=[dep(train_table(h), _TRAIN_START, _TRAIN_END), *_VALID_DEPS],
                        description=f"{what} for the {h} head, trained on the {RECAP_TRAIN_DAYS} days before the "
                                    f"{RECAP_VALID_DAYS} validation days ending at T; calibrated with SPEC §3.5.")
           for h in HEADS for kind, what in MODEL_KINDS.items()]
    + [dg.AssetSpec(key("model_evaluations"), group_name="recap_models", owners=OWNERS, automation_condition=WHEN_INPUTS_READY, kinds={"duckdb"},
                    deps=[model_key(k, h) for h in HEADS for k in MODEL_KINDS], metadata={"partition_expr": "ds"},
                    description="Per head and model (LightGBM, light ranker, popularity heuristic, oracle): AUC and RCE "
                                "on every impression of the validation days."),
       dg.AssetSpec(key("ranking_evaluations"), group_name="recap_models", owners=OWNERS, automation_condition=WHEN_INPUTS_READY, kinds={"duckdb"},
                    deps=[model_key(k, h) for h in HEADS for k in MODEL_KINDS], metadata={"partition_expr": "ds"},
                    description="NDCG@10 per (viewer, day) of the weighted heavy-ranker score (SPEC §3.2, v1 and v2) "
                                "against the planted utility, for each model, the heuristic, the oracle and random.")],
    partitions_def=recap_model_partitions, backfill_policy=POLICY, pool=POOL,
)
def ranker_models(context: dg.AssetExecutionContext, warehouse: Warehouse, config: ModelConfig):
    """Per head: LightGBM and the light ranker on the time-based split, probabilities calibrated back to the base rate
    (SPEC §3.5); then the weighted score of SPEC §3.2 ranked per viewer and day against the simulator's utility."""
    if config.weights_version not in ("v1", "v2"):
        raise dg.Failure(f"weights_version must be v1 or v2, not {config.weights_version!r}")
    with warehouse.connect() as conn:
        for day in partition_days(context):
            results = train_and_evaluate(context, conn, day, config)
    yield from results


def load_validation(conn, days: list[dt.date]) -> pl.DataFrame:
    planted = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = "
                           "'planted_engagement_probability' AND table_schema = current_schema()").fetchone()[0]
    join = ("LEFT JOIN planted_engagement_probability p ON p.impression_id = f.impression_id AND p.ds = f.ds"
            if planted else "")
    cols = ", p.* EXCLUDE (impression_id, ds)" if planted else ""
    return conn.execute(
        f"SELECT f.*, {', '.join('l.' + c for c in LABEL_COLUMNS)}{cols} FROM impression_features f "
        "JOIN impressions_labeled l ON l.impression_id = f.impression_id AND l.ds = f.ds "
        f"{join} WHERE f.ds BETWEEN $first AND $last ORDER BY f.impression_id", {"first": days[0], "last": days[-1]}).pl()


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


def model_dir(kind: str, head: str = ""):
    """Where each day's model of a kind and head is saved (one sub-directory per day); without a head, the kind's."""
    return home() / "models" / SCHEMA / kind / head


def train_and_evaluate(context, conn, day: dt.date, config: ModelConfig) -> list[dg.MaterializeResult]:
    train_days, valid_days = split_days(day)
    for present in (ledger_days_present(conn, {train_table(h): train_days for h in HEADS}),
                    checks.upstream_days_present(conn, {"impression_features": valid_days,
                                                        "impressions_labeled": valid_days})):
        if not present.passed:
            raise dg.Failure(f"{SCHEMA} models {day}: {present.description}")
    valid = load_validation(conn, valid_days)
    x_valid = valid.select(FEATURES).to_numpy().astype(np.float64)
    columns_valid = light_ranker.Columns(x_valid)
    has_oracle = "utility" in valid.columns and valid["utility"].null_count() == 0
    heuristic = np.log(popularity(valid))
    predictions: dict[str, dict[str, np.ndarray]] = {"boosted_trees": {}, "light_ranker": {}}
    evaluations, out = [], []
    for h, head in HEADS.items():
        train = conn.execute(f"SELECT * FROM {train_table(h)} WHERE ds BETWEEN $first AND $last ORDER BY impression_id",
                             {"first": train_days[0], "last": train_days[-1]}).pl()
        y_valid = valid[head.column].to_numpy()
        positives = int(train["label"].sum()) if train.height else 0
        negatives = train.height - positives
        pos_rate, neg_rate = class_rates(train, h)
        note = None
        if positives < config.min_positives or negatives < config.min_positives:
            note = (f"not trained: {positives} positives and {negatives} negatives in the training days "
                    f"(minimum {config.min_positives} each)")
        row = {"ds": day, "head": h, "valid_first": valid_days[0], "valid_last": valid_days[-1],
               "rows": len(y_valid), "positives": int(y_valid.sum()), "train_rows": train.height}
        head_meta = {}
        for kind in MODEL_KINDS:
            path = model_dir(kind, h) / day.isoformat()
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
                                   keep_rates={"pos_rate": pos_rate, "neg_rate": neg_rate}, metrics=m)
            fitted.save(path)
            evaluations.append({**row, "model": kind, **m, "note": None})
            head_meta[kind] = {**m, "train_rows": train.height, "train_positives": positives,
                               "model_path": dg.MetadataValue.path(str(path))}
        # Baselines: the tweet's like rate so far (Platt-scaled on the training rows, then calibrated), and the oracle.
        if positives and negatives:
            platt = LogisticRegression().fit(np.log(popularity(train))[:, None], train["label"].to_numpy())
            p_h = downsampling.calibrate(platt.predict_proba(heuristic[:, None])[:, 1], pos_rate, neg_rate)
            evaluations.append({**row, "model": "popularity_heuristic", "auc": metrics.auc(y_valid, heuristic),
                                "rce": metrics.rce(y_valid, p_h), "note": "tweet's smoothed like rate so far, Platt-scaled"})
        else:
            evaluations.append({**row, "model": "popularity_heuristic", "auc": metrics.auc(y_valid, heuristic),
                                "rce": None, "note": "no training rows of both classes to scale it"})
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
            out.append(dg.MaterializeResult(asset_key=model_key(kind, h),
                                            metadata={k: v for k, v in meta.items() if v is not None}))
        context.log.info(f"{SCHEMA} {h} {day}: " + ", ".join(f"{e['model']} auc={e['auc']}" for e in evaluations if e["head"] == h))

    rankings = ranking_rows(valid, predictions, has_oracle, day, valid_days)
    store(conn, "model_evaluations", pl.DataFrame(evaluations, infer_schema_length=None), day)
    store(conn, "ranking_evaluations", pl.DataFrame(rankings, infer_schema_length=None), day)
    eval_table = evaluation_table(pl.DataFrame(evaluations, infer_schema_length=None))
    rank_table = pl.DataFrame(rankings).select("weights_version", "model", "ndcg_at_10", "rankings")
    headline = {r["model"]: r["ndcg_at_10"] for r in rankings if r["weights_version"] == config.weights_version}
    out.append(dg.MaterializeResult(asset_key=key("model_evaluations"), metadata={
        "dagster/row_count": len(evaluations), "per_head": dg.MetadataValue.md(eval_table),
        "validation_days": f"{valid_days[0]} .. {valid_days[-1]}", "train_days": f"{train_days[0]} .. {train_days[-1]}"}))
    out.append(dg.MaterializeResult(asset_key=key("ranking_evaluations"), metadata={
        "dagster/row_count": len(rankings), "weights_version": config.weights_version,
        **{f"ndcg_at_10/{m}": v for m, v in headline.items() if v is not None},
        "ndcg_at_10": dg.MetadataValue.md(markdown_table(rank_table))}))
    return out


def ranking_rows(valid: pl.DataFrame, predictions: dict, has_oracle: bool, day: dt.date, valid_days) -> list[dict]:
    """NDCG@10 of each ranker per (viewer, day) against the planted utility (simulator only)."""
    if not has_oracle:
        return []
    group = valid["viewer_id"].to_numpy() * 100_000 + (valid["ds"].cast(pl.Int32).to_numpy())
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


def store(conn, table: str, frame: pl.DataFrame, day: dt.date) -> None:
    conn.register("evaluation_rows", frame.to_arrow())
    with transaction(conn):
        conn.execute(f"DELETE FROM {table} WHERE ds = ?", [day])
        if frame.height:
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM evaluation_rows")


def evaluation_table(ev: pl.DataFrame) -> str:
    """One line per head: AUC and RCE of each model side by side."""
    wide = ev.pivot(on="model", index=["head", "positives"], values=["auc", "rce"])
    order = [c for m in ("boosted_trees", "light_ranker", "popularity_heuristic", "oracle")
             for c in (f"auc_{m}", f"rce_{m}") if c in wide.columns]
    return markdown_table(wide.select("head", "positives", *order))


ALL_ASSETS = [simulated_logs, impressions_labeled, impression_features, training_datasets, ranker_models]
