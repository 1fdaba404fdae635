"""Labels (docs/realgraph.md §1.5-1.6): day T's sampled candidates labeled with what A did toward B on T+1, one asset and table
per label variant (labels.py VARIANTS: any interaction, or an explicit one), made by ``labeled_candidates_asset``."""

import datetime as dt

import dagster as dg
from pydantic import Field

from feedtrain import checks, plots
from feedtrain.warehouse import Warehouse, preview, stage

from .labels import VARIANTS
from .location import dep, sql, variant_table, warehouse_asset, write_days
from .windows import LABEL_DELAY_DAYS, label_partitions


class LabelsConfig(dg.Config):
    """The positive-rate check (feedtrain/checks.py RateBand): relative to the trailing days' observed rate, pooled
    or on the same weekday, with an absolute floor and ceiling as a safety net. Real next-day rates swing 2-3x from
    day to day on sparse logs (0.2 %-1 % around 0.5 %) and ~20x between an e-mail log's weekdays and weekends; a
    broken join (all negative, all positive, a 10x jump against both references) is far outside."""

    min_positive_rate: float = Field(0.0001, ge=0, le=1, description="Absolute floor of the daily positive rate (blocking).")
    max_positive_rate: float = Field(0.9, ge=0, le=1, description="Absolute ceiling of the daily positive rate (blocking).")
    max_rate_ratio: float = Field(3.0, ge=1.0, description="The day's rate must be within this factor of the trailing "
                                  "days' pooled rate (either way).")
    trailing_days: int = Field(14, ge=1, description="Committed labeled days before T whose pooled rate (and the rate "
                               "of those on T's weekday) is the reference.")
    min_trailing_days: int = Field(7, ge=1, description="Fewer committed trailing days than this (less than a weekly "
                                   "cycle): only the floor and ceiling apply.")
    alpha: float = Field(0.01, gt=0, lt=1, description="A count counts as outside the band only if a binomial draw at "
                         "the band's edge gives it with probability below alpha (a thin day's noise passes).")


def labeled_candidates_asset(variant: str) -> dg.AssetsDefinition:
    """The labeled_candidates asset of ``variant``: the same inputs, checks and partitions for each."""

    @warehouse_asset(
        VARIANTS[variant].name("labeled_candidates"), label_partitions, "training",
        [dep("candidates_sampled"), dep("interaction_days", LABEL_DELAY_DAYS, LABEL_DELAY_DAYS),
         dep("interaction_graph_agg_negative_edge_snapshot", LABEL_DELAY_DAYS, LABEL_DELAY_DAYS)],
        [checks.UPSTREAM_DAYS_PRESENT, checks.NON_EMPTY, checks.POSITIVE_RATE_IN_BAND],
        description=f"Day T's sampled candidates labeled with day T+1 ({variant}: label = 1 iff A did "
                    f"{VARIANTS[variant].what} toward B on T+1), negative edges removed (docs/realgraph.md §1.5-1.6).")
    def labeled(context: dg.AssetExecutionContext, warehouse: Warehouse, config: LabelsConfig):
        yield from build_labeled(context, warehouse, config, variant)

    return labeled


# realgraph/labeled_candidates, realgraph/labeled_candidates_explicit, ...: one asset per label variant (labels.VARIANTS).
LABELED_CANDIDATES = [labeled_candidates_asset(v) for v in VARIANTS]


def build_labeled(context: dg.AssetExecutionContext, warehouse: Warehouse, config: LabelsConfig, variant: str):
    """Each day of the run: stage the day's labeled candidates (sql/labeled_candidates.sql with the variant's positive
    mask), check them, and commit the day."""
    labeled_table = VARIANTS[variant].name("labeled_candidates")
    with warehouse.connect() as conn:
        variant_table(conn, labeled_table, "labeled_candidates")
        def build(day):
            # A missing T+1 would otherwise read as "no interactions": all-negative labels and no error.
            next_day = day + dt.timedelta(days=LABEL_DELAY_DAYS)
            present = checks.upstream_days_present(conn, {
                "candidates_sampled": [day], "interaction_days": [next_day],
                "interaction_graph_agg_negative_edge_snapshot": [next_day]})
            if not present.passed:
                return [present], {}
            rel = f"stage_{labeled_table}"
            stage(conn, f"{rel}_joined", sql("labeled_candidates"), {"ds": day, "positive_mask": VARIANTS[variant].positive_mask})
            # the stored table's columns (the candidate columns but rn, and the label), spelled out: portable
            n = stage(conn, rel, f"SELECT {', '.join(c for c, _ in conn.table_columns(labeled_table))} FROM {rel}_joined")
            band = checks.RateBand(config.min_positive_rate, config.max_positive_rate, config.max_rate_ratio, config.alpha,
                                   min_trailing_days=config.min_trailing_days)
            rate = checks.positive_rate_in_band(
                conn, rel, band, checks.trailing_positives(conn, labeled_table, day, config.trailing_days))
            return ([present, checks.non_empty(conn, rel), rate],
                    {"dagster/row_count": n, "positive_rate": rate.metadata["positive_rate"].value,
                     "preview": preview(conn, f"FROM {rel}"), "recent_days": recent_days(conn, rel, day)})

        yield from write_days(context, conn, labeled_table, build)


def recent_days(conn, staged: str, day: dt.date, days: int = 14) -> dg.MetadataValue:
    """Row count and positive rate of the last ``days`` labeled days (the staged day included)."""
    table = staged.removeprefix("stage_")
    frame = conn.polars(f"""
        SELECT ds, count(*) AS rows, avg(label) AS positive_rate FROM (
            SELECT ds, label FROM {table} WHERE ds BETWEEN $first AND $last AND ds <> $day
            UNION ALL SELECT ds, label FROM {staged})
        GROUP BY ds ORDER BY ds""", {"first": day - dt.timedelta(days=days - 1), "last": day, "day": day})
    return plots.history(frame["ds"].to_list(), {"rows": frame["rows"].to_list(),
                                                  "positive rate": frame["positive_rate"].to_list()},
                         f"{table}: last {days} days")
