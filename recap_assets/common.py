"""What every Recap asset shares: its keys, SQL files and upstream deps, the DuckDB pool and backfill policy, and
the stage -> check -> commit helpers (one transaction per day, recorded in the loaded_partitions ledger)."""

import datetime as dt

import dagster as dg
import pyarrow as pa

from feedtrain import daily
from feedtrain.checks import CheckDef
from feedtrain.warehouse import transaction

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



EVERY_IMPRESSION = CheckDef("every_impression", "One row per impression of the day, no more, no less (blocking).")


def every_impression(conn, staged: str, day: dt.date) -> dg.AssetCheckResult:
    rows, distinct = conn.execute(f"SELECT count(*), count(DISTINCT impression_id) FROM {staged}").fetchone()
    expected = conn.execute("SELECT count(*) FROM impressions WHERE ds = ?", [day]).fetchone()[0]
    return dg.AssetCheckResult(
        check_name=EVERY_IMPRESSION.name, passed=rows == distinct == expected and rows > 0,
        description=f"{rows} rows, {distinct} distinct impressions, {expected} impressions that day",
        metadata={"rows": rows, "distinct_impressions": distinct, "impressions": expected})
