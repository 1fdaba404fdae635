"""Data checks that gate a partition *before* it is committed.

A failing blocking Dagster check does not undo data already written, so every asset stages its day, evaluates these
checks on the staged rows, and commits only if all pass.  The results are reported as the asset's Dagster checks, so
the UI shows them per materialisation; when one fails the step fails, nothing is written and downstream steps do not run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

import dagster as dg
import duckdb

from .warehouse import present_days


@dataclasses.dataclass(frozen=True)
class CheckDef:
    name: str
    description: str


UPSTREAM_DAYS_PRESENT = CheckDef("upstream_days_present", "Every upstream day this partition reads exists (blocking).")
NON_EMPTY = CheckDef("non_empty", "The partition has at least one row (blocking).")
UNIQUE_PAIRS = CheckDef("unique_pairs", "(source_id, destination_id) is unique within the partition (blocking).")
POSITIVE_RATE_IN_BAND = CheckDef("positive_rate_in_band", "The share of label = 1 rows lies in the configured band (blocking).")


def specs(asset: dg.AssetKey, *defs: CheckDef) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(d.name, asset=asset, blocking=True, description=d.description) for d in defs]


def upstream_days_present(conn: duckdb.DuckDBPyConnection, needed: dict[str, Sequence[dt.date]]) -> dg.AssetCheckResult:
    """``needed`` maps an upstream table to the days it must hold; the result names every missing (table, day)."""
    missing = {t: sorted(set(days) - present_days(conn, t, days)) for t, days in needed.items()}
    missing = {t: [d.isoformat() for d in days] for t, days in missing.items() if days}
    text = "; ".join(f"{t}: {', '.join(days)}" for t, days in missing.items())
    return dg.AssetCheckResult(
        check_name=UPSTREAM_DAYS_PRESENT.name, passed=not missing,
        description=f"missing upstream days: {text}" if missing else "all upstream days present",
        metadata={"missing": dg.MetadataValue.json(missing),
                  "days_checked": sum(len(d) for d in needed.values())},
    )


def non_empty(conn: duckdb.DuckDBPyConnection, relation: str) -> dg.AssetCheckResult:
    n = conn.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
    return dg.AssetCheckResult(check_name=NON_EMPTY.name, passed=n > 0, metadata={"rows": n})


def unique_pairs(conn: duckdb.DuckDBPyConnection, relation: str) -> dg.AssetCheckResult:
    dup = conn.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {relation} GROUP BY ds, source_id, destination_id HAVING count(*) > 1)"
    ).fetchone()[0]
    return dg.AssetCheckResult(check_name=UNIQUE_PAIRS.name, passed=dup == 0, metadata={"duplicated_pairs": dup})


def positive_rate_in_band(conn: duckdb.DuckDBPyConnection, relation: str, low: float, high: float) -> dg.AssetCheckResult:
    rows, rate = conn.execute(f"SELECT count(*), avg(label) FROM {relation}").fetchone()
    rate = float(rate) if rate is not None else float("nan")
    return dg.AssetCheckResult(
        check_name=POSITIVE_RATE_IN_BAND.name, passed=rows > 0 and low <= rate <= high,
        description=f"positive rate {rate:.4f}, band [{low}, {high}]",
        metadata={"positive_rate": rate, "band_low": low, "band_high": high, "rows": rows},
    )


def gate(results: Iterable[dg.AssetCheckResult], what: str) -> Iterator[dg.AssetCheckResult]:
    """Yield nothing if every result passed; otherwise yield the results (so the UI records them) and fail the step."""
    results = list(results)
    failed = [r for r in results if not r.passed]
    if failed:
        yield from results
        reasons = "; ".join(f"{r.check_name}: {r.description or r.metadata}" for r in failed)
        raise dg.Failure(f"{what}: not written because blocking checks failed ({reasons})")
