"""Write a simulated world as log files, exactly in the format a team delivers its own logs (README "Use your own logs"):

    python -m feedtrain.export realgraph /tmp/logs --world tiny --days 45 --interactions-only

gives ``/tmp/logs/<table>/ds=YYYY-MM-DD.parquet`` for each day and raw table (``--format csv`` for CSV). With
``--interactions-only`` only the required tables are written (Real Graph: the interaction labels; Recap: tweets,
impressions, engagements), as a log of user-to-user interactions would be. The simulator's oracle tables are never
written: real logs have none.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import duckdb

from .engine import DuckDBEngine
from .partitions import EVENTS_START, days_between


def simulated_days(location: str, world: str, seed: int | None, days: list[dt.date]):
    """(day, {table: Arrow table}) of the location's simulator, shaped as delivered files."""
    conn = DuckDBEngine(duckdb.connect(), location)
    if location == "realgraph":
        from realgraph_assets.contract import CONTRACT
        from realgraph_assets.simulator import world as make_world
        from realgraph_assets.sources import simulated_day
        w = make_world(world, 7 if seed is None else seed)
        return CONTRACT, ((d, simulated_day(conn, w, d)) for d in days)
    from recap_assets.contract import CONTRACT
    from recap_assets.simulator import world as make_world
    from recap_assets.sources import simulated_day
    w = make_world(world, 11 if seed is None else seed)
    return CONTRACT, ((d, simulated_day(w, d)) for d in days)


def export(location: str, out: Path, days: list[dt.date], world: str = "tiny", seed: int | None = None,
           interactions_only: bool = False, fmt: str = "parquet") -> dict[str, int]:
    """Write the days as ``out/<table>/ds=<day>.<fmt>``; returns the rows written per table."""
    contract, produced = simulated_days(location, world, seed, days)
    wanted = {t.name for t in contract.delivered if not (interactions_only and t.optional)}
    conn = duckdb.connect()
    rows: dict[str, int] = {}
    for day, tables in produced:
        for name, data in tables.items():
            if name not in wanted:
                continue
            path = out / name / f"ds={day.isoformat()}.{fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            conn.register("data", data)
            conn.execute(f"COPY (SELECT * FROM data) TO '{path}' (FORMAT {fmt})")
            rows[name] = rows.get(name, 0) + data.num_rows
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m feedtrain.export", description=__doc__.split("\n\n")[0])
    p.add_argument("location", choices=["realgraph", "recap"])
    p.add_argument("out", type=Path, help="folder to write one directory per raw table into")
    p.add_argument("--world", default="tiny", help="simulated world size (tiny, small, default, bench)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--first", type=dt.date.fromisoformat, default=EVENTS_START, help="first day (default: the start)")
    p.add_argument("--days", type=int, default=45, help="number of days")
    p.add_argument("--interactions-only", action="store_true", help="only the required tables")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    a = p.parse_args(argv)
    days = days_between(a.first, a.first + dt.timedelta(days=a.days - 1))
    rows = export(a.location, a.out, days, a.world, a.seed, a.interactions_only, a.format)
    print(f"wrote {len(days)} days to {a.out}: " + ", ".join(f"{t} {n:,} rows" for t, n in rows.items()))


if __name__ == "__main__":
    main()
