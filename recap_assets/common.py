"""What every Recap asset shares: its keys, SQL files and upstream deps, the DuckDB pool and backfill policy, and
the stage -> check -> commit helpers (one transaction per day, recorded in the ledger)."""

import datetime as dt

import dagster as dg

from feedtrain import checks, daily, quality
from feedtrain.checks import CheckDef

from .resources import SCHEMA, SQL_DIR

POLICY = dg.BackfillPolicy.single_run()  # a backfill is one run per asset range: one DuckDB writer, no lock fights
POOL = "duckdb_recap"

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
                               description=result.description, metadata=result.metadata, severity=result.severity)


# Every Recap daily table is keyed by impression; position is decided after ranking, so its mean is not watched.
IMPRESSION_CONTRACT = quality.Contract(("impression_id",), not_measured=("position",))


def commit(conn, tables: dict[str, str], day: dt.date, results=()) -> dict[str, str]:
    """Replace day ``day`` of several tables (table -> staged relation) with their ledger rows in one transaction
    (``feedtrain/ledger.py``: a day may hold no rows, e.g. no new follows, and still be present), recording the
    upstream versions that ``results``' upstream check read. Returns each table's new content version."""
    return conn.replace_days(day, tables, checks.input_versions(results))


RAW_DAYS = checks.UPSTREAM_DAYS_PRESENT
EVERY_IMPRESSION = CheckDef("every_impression", "One row per impression of the day, no more, no less (blocking).")


def every_impression(conn, staged: str, day: dt.date) -> dg.AssetCheckResult:
    rows, distinct = conn.execute(f"SELECT count(*), count(DISTINCT impression_id) FROM {staged}").fetchone()
    expected = conn.execute("SELECT count(*) FROM impressions WHERE ds = ?", [day]).fetchone()[0]
    return dg.AssetCheckResult(
        check_name=EVERY_IMPRESSION.name, passed=rows == distinct == expected and rows > 0,
        description=f"{rows} rows, {distinct} distinct impressions, {expected} impressions that day",
        metadata={"rows": rows, "distinct_impressions": distinct, "impressions": expected})
