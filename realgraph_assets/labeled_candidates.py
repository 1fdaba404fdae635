"""Labels (docs/realgraph.md §1.5-1.6): day T's sampled candidates labeled with what A did toward B on T+1, one table per variant
(labels.py VARIANTS: any interaction, or an explicit one)."""

import datetime as dt

import dagster as dg
from pydantic import Field

from feedtrain import checks, plots
from feedtrain.warehouse import Warehouse, preview, stage

from .labels import VARIANTS
from .location import dep, sql, warehouse_asset, write_days
from .windows import LABEL_DELAY_DAYS, label_partitions


class LabelsConfig(dg.Config):
    min_positive_rate: float = Field(0.005, ge=0, le=1, description="Lowest acceptable share of positives in a day (blocking).")
    max_positive_rate: float = Field(0.6, ge=0, le=1, description="Highest acceptable share of positives in a day (blocking).")


def labeled_asset(variant: str):
    """The decorator of the labeled_candidates table of ``variant``: the same inputs, checks and partitions for each."""
    return warehouse_asset(
        f"labeled_candidates{VARIANTS[variant][0]}", label_partitions, "training",
        [dep("candidates_sampled"), dep("interaction_days", LABEL_DELAY_DAYS, LABEL_DELAY_DAYS),
         dep("interaction_graph_agg_negative_edge_snapshot", LABEL_DELAY_DAYS, LABEL_DELAY_DAYS)],
        [checks.UPSTREAM_DAYS_PRESENT, checks.NON_EMPTY, checks.UNIQUE_PAIRS, checks.POSITIVE_RATE_IN_BAND],
        description=f"Day T's sampled candidates labeled with day T+1 ({variant}: label = 1 iff A did "
                    f"{'any' if variant == 'prod' else 'an explicit'} interaction toward B on T+1), "
                    "negative edges removed (docs/realgraph.md §1.5-1.6).")


@labeled_asset("prod")
def labeled_candidates(context: dg.AssetExecutionContext, warehouse: Warehouse, config: LabelsConfig):
    yield from build_labeled(context, warehouse, config, "prod")


@labeled_asset("prod_explicit")
def labeled_candidates_explicit(context: dg.AssetExecutionContext, warehouse: Warehouse, config: LabelsConfig):
    yield from build_labeled(context, warehouse, config, "prod_explicit")


def build_labeled(context: dg.AssetExecutionContext, warehouse: Warehouse, config: LabelsConfig, variant: str):
    """Each day of the run: stage the day's labeled candidates (sql/labeled_candidates.sql with the variant's positive
    mask), check them, and commit the day."""
    suffix, positive_mask = VARIANTS[variant]
    labeled_table = f"labeled_candidates{suffix}"
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
