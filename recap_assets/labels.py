"""Layer 2, recap_labels: impressions_labeled, the ten 0/1 labels of every impression (heads.py)."""

import datetime as dt

import dagster as dg
import polars as pl
from pydantic import Field

from feedtrain import checks, daily, quality
from feedtrain.automation import OWNERS, WHEN_INPUTS_READY
from feedtrain.checks import CheckDef
from feedtrain.daily import span
from feedtrain.warehouse import Warehouse, engine_kind, markdown_table, preview, stage

from .common import EVERY_IMPRESSION, IMPRESSION_CONTRACT, POLICY, POOL, RAW_DAYS, dep, ensure_table, \
    every_impression, key, sql
from .heads import HEADS, LABEL_COLUMNS
from .resources import SCHEMA
from .windows import RECAP_CANDIDATE_AGE_DAYS, RECAP_LABEL_DELAY_DAYS, recap_label_partitions


class LabelsConfig(dg.Config):
    attribution_window_minutes: int = Field(
        180, ge=1, le=24 * 60 * RECAP_LABEL_DELAY_DAYS, description="W of docs/recap.md §3.4 in minutes: an engagement counts for an impression iff it happens in "
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
    counts = conn.rows(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE s.{c} = 1 AND NOT coalesce({rule}, false))" for c, rule in rules.items())
        + f" FROM {staged} s LEFT JOIN tweets t ON t.tweet_id = s.tweet_id AND t.ds BETWEEN $first AND $day",
        {"first": day - dt.timedelta(days=RECAP_CANDIDATE_AGE_DAYS), "day": day})[0]
    broken = {f"{c} => {rule}": int(n) for (c, rule), n in zip(rules.items(), counts) if n}
    return dg.AssetCheckResult(
        check_name=LABEL_CONSISTENCY.name, passed=not broken,
        description="all label implications hold" if not broken else f"rows breaking an implication: {broken}",
        metadata={"violations": dg.MetadataValue.json(broken), "rules": dg.MetadataValue.json(rules)})


def positive_rates(conn, relation: str) -> tuple[dg.AssetCheckResult, pl.DataFrame]:
    row = conn.rows("SELECT count(*), " + ", ".join(f"coalesce(sum({c}), 0)" for c in LABEL_COLUMNS)
                    + f" FROM {relation}")[0]
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
          partitions_def=recap_label_partitions, group_name="recap_labels", kinds={engine_kind()}, backfill_policy=POLICY,
          pool=POOL, metadata={"partition_expr": "ds"},
          check_specs=checks.specs(key("impressions_labeled"), RAW_DAYS, EVERY_IMPRESSION, LABEL_CONSISTENCY,
                                   POSITIVE_RATES) + quality.specs(key("impressions_labeled")))
def impressions_labeled(context: dg.AssetExecutionContext, warehouse: Warehouse, config: LabelsConfig):
    """One row per impression of day T with the ten 0/1 labels of docs/recap.md §3.1 (recap_assets/heads.py): engagements of
    the viewer on the tweet within the attribution window after the impression (docs/recap.md §3.4), read from T and T+1."""
    query = label_sql()
    with warehouse.connect() as conn:
        def build(day):
            present = checks.upstream_days_present(conn, {"impressions": [day], "engagements": span(day, 0, RECAP_LABEL_DELAY_DAYS),
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

        yield from daily.write_days(context, conn, SCHEMA, "impressions_labeled", build, IMPRESSION_CONTRACT)

