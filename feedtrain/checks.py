"""Data checks that gate a partition *before* it is committed.

A failing blocking Dagster check does not undo data already written, so every asset stages its day, evaluates these
checks on the staged rows, and commits only if all pass.  The results are reported as the asset's Dagster checks, so
the UI shows them per materialisation; when one fails the step fails, nothing is written and downstream steps do not run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

import dagster as dg

from . import ledger


@dataclasses.dataclass(frozen=True)
class CheckDef:
    name: str
    description: str


UPSTREAM_DAYS_PRESENT = CheckDef(
    "upstream_days_present", "Every upstream day this partition reads was committed whole and is current: not built "
    "from upstream days that changed since (blocking).")
NON_EMPTY = CheckDef("non_empty", "The partition has at least one row (blocking).")
POSITIVE_RATE_IN_BAND = CheckDef(
    "positive_rate_in_band", "The share of label = 1 rows is consistent with the trailing days' observed rate (within a "
    "factor), and within the absolute floor and ceiling, allowing for the day's sampling noise (blocking).")


def specs(asset: dg.AssetKey, *defs: CheckDef) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(d.name, asset=asset, blocking=True, description=d.description) for d in defs]


def upstream_days_present(conn, needed: dict[str, Sequence[dt.date]]) -> dg.AssetCheckResult:
    """``needed`` maps an upstream table to the days it must hold. Passes iff every such day is present and current
    (``feedtrain/ledger.py``); the result names every missing, incomplete or stale (table, day) and what to re-run,
    and records the versions read (metadata ``input_versions``) so the day written from them can be checked later."""
    problems: list[str] = []
    missing: dict[str, list[str]] = {}
    used: dict[str, dict[str, str]] = {}
    for table, days in needed.items():
        status = ledger.day_status(conn, table, days)
        bad = {d: s for d, s in status.items() if s != ledger.PRESENT}
        for kind in (ledger.MISSING, ledger.INCOMPLETE, ledger.UNRECORDED):
            days_of_kind = sorted(d for d, s in bad.items() if s == kind)
            if days_of_kind:
                problems.append(f"{table} {kind}: {_days(days_of_kind)} (materialize {table} for these days)")
        stale = ledger.stale_inputs(conn, table, [d for d, s in status.items() if s == ledger.PRESENT])
        for day, changed in sorted(stale.items()):
            inputs = ", ".join(f"{t} {d}" for t, d in changed)
            problems.append(f"{table} {day} is stale: built from {inputs}, which changed since (re-run {table} for {day})")
        if bad or stale:
            missing[table] = sorted({d.isoformat() for d in [*bad, *stale]})
        used[table] = {d.isoformat(): v for d, v in ledger.versions(conn, table, days).items()}
    return dg.AssetCheckResult(
        check_name=UPSTREAM_DAYS_PRESENT.name, passed=not problems,
        description="; ".join(problems) if problems else "all upstream days present and current",
        metadata={"missing": dg.MetadataValue.json(missing), "input_versions": dg.MetadataValue.json(used),
                  "days_checked": sum(len(d) for d in needed.values())},
    )


def input_versions(results: Iterable[dg.AssetCheckResult]) -> dict[str, dict[dt.date, str]]:
    """The upstream versions a passed ``upstream_days_present`` read, to record with the day built from them."""
    for r in results:
        if r.check_name == UPSTREAM_DAYS_PRESENT.name and "input_versions" in r.metadata:
            return {t: {dt.date.fromisoformat(d): v for d, v in by_day.items()}
                    for t, by_day in r.metadata["input_versions"].value.items()}
    return {}


def _days(days: Sequence[dt.date]) -> str:
    text = ", ".join(d.isoformat() for d in days[:5])
    return text + (f" ... ({len(days)} days)" if len(days) > 5 else "")


def non_empty(conn, relation: str) -> dg.AssetCheckResult:
    n = conn.scalar(f"SELECT count(*) FROM {relation}")
    return dg.AssetCheckResult(check_name=NON_EMPTY.name, passed=n > 0, metadata={"rows": n})


class Trailing(NamedTuple):
    """What the committed labeled days before T observed: pooled over the whole trailing window, and over the days
    on T's weekday (T-7, T-14, ...) within it."""

    rows: int = 0
    positives: int = 0
    days: int = 0
    weekday_rows: int = 0
    weekday_positives: int = 0


def trailing_positives(conn, table: str, day: dt.date, days: int) -> Trailing:
    """The observed rates of the committed days of ``table`` in [day - days, day - 1] that the day's rate is compared
    with. Days that failed the check were never committed, so a broken day never moves the band."""
    same_weekday = "dayofweek(ds) = dayofweek($day)"
    rows, positives, n_days, w_rows, w_positives = conn.rows(
        f"SELECT count(*), coalesce(sum(label), 0), count(DISTINCT ds), "
        f"coalesce(sum(CASE WHEN {same_weekday} THEN 1 ELSE 0 END), 0), "
        f"coalesce(sum(CASE WHEN {same_weekday} THEN label ELSE 0 END), 0) FROM {table} "
        "WHERE ds BETWEEN $first AND $last",
        {"first": day - dt.timedelta(days=days), "last": day - dt.timedelta(days=1), "day": day})[0]
    return Trailing(int(rows), int(positives), int(n_days), int(w_rows), int(w_positives))


@dataclasses.dataclass(frozen=True)
class RateBand:
    """The positive-rate rule: the day's rate must be within ``max_ratio`` of the trailing rate, pooled or on the
    same weekday (so a weekly cycle, e.g. e-mail's quiet weekends, passes), once the trailing days span
    ``min_trailing_days`` and hold at least ``min_trailing_positives`` positives (``min_weekday_positives`` on
    T's weekday); and within [floor, ceiling] always. A count is outside the band only if a binomial draw at the
    band's edge would give it with probability below ``alpha`` (so a thin day's noise passes, a broken join does
    not)."""

    floor: float = 0.0001
    ceiling: float = 0.9
    max_ratio: float = 3.0
    alpha: float = 0.01
    min_trailing_positives: int = 20
    min_trailing_days: int = 7
    min_weekday_positives: int = 5  # a week of a quiet weekday can hold few: its band is x max_ratio wide anyway

    def bounds(self, trailing: Trailing) -> tuple[float, float, float | None]:
        """(low, high, the pooled trailing rate or None when there is not enough history to judge against)."""
        if trailing.positives < self.min_trailing_positives or trailing.days < self.min_trailing_days:
            return self.floor, self.ceiling, None
        rates = [trailing.positives / trailing.rows]
        if self.weekday_rate(trailing) is not None:
            rates.append(self.weekday_rate(trailing))
        low, high = min(rates) / self.max_ratio, max(rates) * self.max_ratio
        return max(self.floor, low), min(self.ceiling, high), rates[0]

    def weekday_rate(self, trailing: Trailing) -> float | None:
        """The trailing rate on T's weekday, or None when those days hold too few positives to be a reference."""
        if trailing.weekday_positives < self.min_weekday_positives:
            return None
        return trailing.weekday_positives / trailing.weekday_rows


def positive_rate_in_band(conn, relation: str, band: RateBand, trailing: Trailing = Trailing()) -> dg.AssetCheckResult:
    from scipy.special import bdtr, bdtrc  # binomial tails; scipy.stats would add ~1 s to every process's start

    n, k = conn.rows(f"SELECT count(*), coalesce(sum(label), 0) FROM {relation}")[0]
    n, k = int(n), int(k)
    low, high, trailing_rate = band.bounds(trailing)
    rate = k / n if n else float("nan")
    p_low = float(bdtr(k, n, low)) if n else 0.0  # P(count <= k) at the lower edge
    p_high = (float(bdtrc(k - 1, n, high)) if k > 0 else 1.0) if n else 0.0  # P(count >= k) at the upper edge
    passed = n > 0 and p_low >= band.alpha and p_high >= band.alpha
    weekday_rate = band.weekday_rate(trailing)
    weekday = f", same weekday {weekday_rate:.3g}" if weekday_rate is not None else ""
    basis = (f"trailing rate {trailing_rate:.3g} ({trailing.positives} of {trailing.rows} over {trailing.days} days"
             f"{weekday}) within x{band.max_ratio}" if trailing_rate is not None else
             f"too little trailing history ({trailing.days} days, {trailing.positives} positives; the relative band "
             f"needs {band.min_trailing_days} and {band.min_trailing_positives})")
    return dg.AssetCheckResult(
        check_name=POSITIVE_RATE_IN_BAND.name, passed=passed,
        description=(f"positive rate {rate:.3g} ({k} of {n} rows), band [{low:.3g}, {high:.3g}] from {basis}, floor "
                     f"{band.floor:g}, ceiling {band.ceiling:g}; P(this few) {p_low:.2g}, P(this many) {p_high:.2g}, "
                     f"blocking below {band.alpha:g}"),
        metadata={"positive_rate": rate, "band_low": low, "band_high": high, "rows": n, "positives": k,
                  "trailing_rate": trailing_rate if trailing_rate is not None else float("nan")},
    )


def gate(results: Iterable[dg.AssetCheckResult], what: str) -> Iterator[dg.AssetCheckResult]:
    """Yield nothing if every result passed or only warned; otherwise yield the results (so the UI records them) and
    fail the step."""
    results = list(results)
    failed = [r for r in results if not r.passed and r.severity == dg.AssetCheckSeverity.ERROR]
    if failed:
        yield from results
        reasons = "; ".join(f"{r.check_name}: {r.description or r.metadata}" for r in failed)
        raise dg.Failure(f"{what}: not written because blocking checks failed ({reasons})")
