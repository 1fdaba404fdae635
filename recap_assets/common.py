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
    """Tables whose columns come from heads.py or the feature query take their shape from their first staged day and
    migrate when a head or feature is added: a column the new rows bring is added (days written before hold NULL in it
    until they are rebuilt; readers of such a column refuse those days, see training_sets.py). A column the new rows
    lack (a head removed) is refused, so nothing stored is silently emptied."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM {staged} LIMIT 0")
    have = dict(conn.table_columns(table))
    want = dict(conn.table_columns(staged))
    if set(have) - set(want):
        raise dg.Failure(f"{SCHEMA}.{table} has columns {sorted(set(have) - set(want))} that the new rows lack: a head "
                         f"or feature was removed. Drop the table (DROP TABLE {SCHEMA}.{table}) and rebuild its days.")
    conn.add_columns(table, list(want.items()))


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
    rows, distinct = conn.rows(f"SELECT count(*), count(DISTINCT impression_id) FROM {staged}")[0]
    expected = conn.scalar("SELECT count(*) FROM impressions WHERE ds = ?", [day])
    return dg.AssetCheckResult(
        check_name=EVERY_IMPRESSION.name, passed=rows == distinct == expected and rows > 0,
        description=f"{rows} rows, {distinct} distinct impressions, {expected} impressions that day",
        metadata={"rows": rows, "distinct_impressions": distinct, "impressions": expected})
