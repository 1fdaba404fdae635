"""Growth of one Real Graph day with world size and with the look-back length.

    python bench/growth.py --runs small=/tmp/chain_small default=/tmp/growth_default bench=/tmp/chain_bench
    python bench/growth.py --lookback /tmp/chain_bench
    python bench/growth.py --incremental /tmp/chain_bench

``--runs``: LABEL=HOME pairs of finished ``bench/chain_day.py`` runs (each HOME's chain_day.md); prints a table of
users, candidates per day, wall/CPU seconds and peak RSS per alternative, and a text chart of CPU seconds vs users.
``--lookback``: the candidates query of the hand-written DuckDB script over the last L of the 31 exported
interaction_days partitions of HOME (bench/chain_day.py's setup), for L in 1, 7, 14, 21, 31: CPU and wall seconds.
``--incremental``: the price of the 31-day pair aggregate of sql/candidates.sql re-scanned (today) against an
incrementally maintained one (a prototype, not in the assets): per pair one 31-bit day bitmap per label type, so day
T's state is day T-1's shifted by one day plus day T's rows (day T-31 falls off the end), and every windowed feature is
read off the bits (counts by bit_count, ages by the lowest/highest bit, decayed sums by exact DECIMAL lookups per
byte). Checks that both give identical features, then times them interleaved.
"""

import argparse
import json
import re
import resource
import time
from pathlib import Path

USERS = {"tiny": 300, "small": 3_000, "default": 20_000, "bench": 100_000}


def parse(home: Path) -> dict:
    """Users, candidates/day and the first table of a chain_day.md (alternative -> wall, CPU, peak)."""
    text = (home / "chain_day.md").read_text()
    setup = json.loads((home / "setup.json").read_text())
    world = setup["world"]
    users = int(world.rsplit("_", 1)[1]) if "_" in world else USERS[world]
    rows, header = {}, None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "alternative":
            header = cells
        elif header and len(cells) == len(header) and re.fullmatch(r"[\d.]+", cells[1]) \
                and not cells[0].startswith("recap"):  # Real Graph's rows only (chain_day.md may hold Recap's too)
            row = dict(zip(header, cells))
            rows[cells[0]] = {"wall": float(row["wall (s)"]), "cpu": float(row.get("CPU (s)", "nan")),
                              "rss": float(row["peak RSS (GiB)"])}
        elif header and len(cells) != len(header):
            header = None if cells[0] else header
        if len(cells) == 4 and cells[0] == "candidates":
            candidates = int(cells[1].replace(",", ""))
    return {"users": users, "candidates": candidates, "alts": rows}


def chart(points: list[tuple[str, float]], width: int = 50) -> str:
    top = max(v for _, v in points)
    return "\n".join(f"{label:>24} | {'#' * max(1, round(v / top * width))} {v:.1f}" for label, v in points)


def runs(pairs: list[str]) -> None:
    data = sorted((parse(Path(home)) for _, home in (p.split("=", 1) for p in pairs)), key=lambda d: d["users"])
    alts = sorted({a for d in data for a in d["alts"]}, key=["dagster", "duckdb", "pandas", "pyspark"].index)
    print("| users | candidates / day | " + " | ".join(f"{a} wall (s) | {a} CPU (s) | {a} peak (GiB)" for a in alts)
          + " | dagster CPU / duckdb CPU |")
    print("|---|---|" + "---|---|---|" * len(alts) + "---|")
    for d in data:
        cells = [f"{d['alts'][a]['wall']:.1f} | {d['alts'][a]['cpu']:.1f} | {d['alts'][a]['rss']:.2f}" if a in d["alts"]
                 else " | | " for a in alts]
        ratio = (f"{d['alts']['dagster']['cpu'] / d['alts']['duckdb']['cpu']:.2f}"
                 if {"dagster", "duckdb"} <= d["alts"].keys() else "")
        print(f"| {d['users']:,} | {d['candidates']:,} | " + " | ".join(cells) + f" | {ratio} |")
    for a in alts:
        have = [d for d in data if a in d["alts"]]
        metric = "cpu" if all(d["alts"][a]["cpu"] == d["alts"][a]["cpu"] for d in have) else "wall"  # NaN: no CPU
        print(f"\n{metric} seconds of one day, {a}, by users:\n```\n"
              + chart([(f"{d['users']:,} users", d["alts"][a][metric]) for d in have]) + "\n```")


def lookback(home: Path) -> None:
    import duckdb

    days = home / "inputs" / "interaction_days.parquet"
    print("| look-back days | window rows | candidate pairs | CPU (s) | wall (s) |\n|---|---|---|---|---|")
    for n in [1, 7, 14, 21, 31]:
        con = duckdb.connect()
        cpu, wall = resource.getrusage(resource.RUSAGE_SELF), time.time()
        rows, pairs = con.execute(f"""
            WITH w AS (SELECT * FROM '{days}' WHERE ds > (SELECT max(ds) FROM '{days}') - {n})
            SELECT (SELECT count(*) FROM w), count(*) FROM (
                SELECT source_id, destination_id, count(*) AS num_days,
                       count(*) FILTER (WHERE label_mask & 1 <> 0) AS num_follows, max(ds) AS last_day,
                       bit_count(bit_or(label_mask)) AS label_types
                FROM w GROUP BY source_id, destination_id
                QUALIFY rank() OVER (PARTITION BY source_id ORDER BY num_days DESC) <= 2000)""").fetchone()
        after = resource.getrusage(resource.RUSAGE_SELF)
        print(f"| {n} | {rows:,} | {pairs:,} | {after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime:.2f} | "
              f"{time.time() - wall:.2f} |")
        con.close()


TYPES = {"any": None, "follows": 1, "favorites": 2, "retweets": 4, "mentions": 8, "explicit": 8191, "replies": 4096,
         "tweet_clicks": 8192, "profile_views": 16384}  # realgraph_assets/labels.py BIT and EXPLICIT_MASK
DECAY, WINDOW = 0.955, 31


def incremental(home: Path, repeats: int = 3) -> None:
    import duckdb

    days = home / "inputs" / "interaction_days.parquet"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE days AS SELECT ds, source_id, destination_id, label_mask FROM '{days}'")
    last = con.execute("SELECT max(ds) FROM days").fetchone()[0]

    def has(t, m):  # SQL: does this interaction row have label type t
        return "TRUE" if TYPES[t] is None else f"{m} & {TYPES[t]} <> 0"

    def full(day_expr: str, table: str) -> str:  # today's way: one GROUP BY over the window's rows
        aggs = ", ".join(f"coalesce(sum(pow({DECAY}, age)::DECIMAL(18, 12)) FILTER (WHERE {has(t, 'label_mask')}), 0) "
                         f"AS decayed_{t}, count(*) FILTER (WHERE {has(t, 'label_mask')}) AS num_{t}" for t in TYPES)
        return (f"CREATE OR REPLACE TABLE {table} AS SELECT source_id, destination_id, {aggs}, min(age) AS last_age, "
                f"max(age) AS first_age FROM (SELECT *, date_diff('day', ds, {day_expr}) AS age FROM days "
                f"WHERE ds BETWEEN {day_expr} - {WINDOW - 1} AND {day_expr}) GROUP BY ALL")

    def state_from_scratch(day_expr: str) -> str:  # the bitmaps of a day, built once to start the chain
        bits = ", ".join(f"bit_or(CASE WHEN {has(t, 'label_mask')} THEN 1::BIGINT << date_diff('day', ds, {day_expr}) "
                         f"ELSE 0 END) AS bits_{t}" for t in TYPES)
        return (f"CREATE OR REPLACE TABLE state_prev AS SELECT source_id, destination_id, {bits} FROM days "
                f"WHERE ds BETWEEN {day_expr} - {WINDOW - 1} AND {day_expr} GROUP BY ALL")

    mask = (1 << WINDOW) - 1
    shifted = ", ".join(f"((coalesce(s.bits_{t}, 0) << 1) & {mask}) | "
                        f"CASE WHEN t.label_mask IS NOT NULL AND {has(t, 't.label_mask')} THEN 1 ELSE 0 END AS bits_{t}"
                        for t in TYPES)
    update = (f"CREATE OR REPLACE TABLE state AS SELECT * FROM (SELECT coalesce(s.source_id, t.source_id) AS source_id, "
              f"coalesce(s.destination_id, t.destination_id) AS destination_id, {shifted} FROM state_prev s "
              f"FULL JOIN (SELECT * FROM days WHERE ds = DATE '{last}') t "
              f"ON s.source_id = t.source_id AND s.destination_id = t.destination_id) WHERE bits_any <> 0")

    def lut(byte: int) -> str:  # exact DECIMAL sum of the weights of the set bits of one byte of the bitmap
        values = [sum(round(DECAY ** (8 * byte + j), 12) for j in range(8) if v >> j & 1) for v in range(256)]
        return "[" + ", ".join(f"{v:.12f}::DECIMAL(18, 12)" for v in values) + "]"

    luts = [lut(b) for b in range(4)]
    decayed = lambda c: " + ".join(f"{luts[b]}[(({c} >> {8 * b}) & 255) + 1]" for b in range(4))
    features = ", ".join(f"{decayed(f'bits_{t}')} AS decayed_{t}, bit_count(bits_{t})::BIGINT AS num_{t}" for t in TYPES)
    derive = (f"CREATE OR REPLACE TABLE inc AS SELECT source_id, destination_id, {features}, "
              f"bit_count((bits_any & -bits_any) - 1)::BIGINT AS last_age, floor(log2(bits_any))::BIGINT AS first_age "
              f"FROM state")

    con.execute(state_from_scratch(f"DATE '{last}' - 1"))
    con.execute(full(f"DATE '{last}'", "agg"))
    con.execute(update)
    con.execute(derive)
    window_rows = con.execute(f"SELECT count(*) FROM days WHERE ds > DATE '{last}' - {WINDOW}").fetchone()[0]
    pairs = con.execute("SELECT count(*) FROM agg").fetchone()[0]
    diff = con.execute("SELECT count(*) FROM ((FROM agg EXCEPT FROM inc) UNION ALL (FROM inc EXCEPT FROM agg))").fetchone()[0]
    assert diff == 0, f"{diff} rows differ between the re-scanned and the incremental aggregate"
    print(f"day {last}: {window_rows:,} window rows, {pairs:,} pairs; the incremental aggregate is identical "
          f"(every column, every pair)\n")

    def timed(sql_list):
        cpu, wall = resource.getrusage(resource.RUSAGE_SELF), time.time()
        for q in sql_list:
            con.execute(q)
        after = resource.getrusage(resource.RUSAGE_SELF)
        return after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, time.time() - wall

    results = {"re-scan 31 days": [], "incremental (update + derive)": [], "  of which update": []}
    for _ in range(repeats):
        results["re-scan 31 days"].append(timed([full(f"DATE '{last}'", "agg")]))
        results["incremental (update + derive)"].append(timed([update, derive]))
        results["  of which update"].append(timed([update]))
    print("| aggregate of day T | CPU (s), median | wall (s), median |\n|---|---|---|")
    for name, runs in results.items():
        print(f"| {name} | {sorted(r[0] for r in runs)[len(runs) // 2]:.2f} | {sorted(r[1] for r in runs)[len(runs) // 2]:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", default=[])
    parser.add_argument("--lookback", type=Path)
    parser.add_argument("--incremental", type=Path)
    args = parser.parse_args()
    if args.runs:
        runs(args.runs)
    if args.lookback:
        lookback(args.lookback)
    if args.incremental:
        incremental(args.incremental)


if __name__ == "__main__":
    main()
